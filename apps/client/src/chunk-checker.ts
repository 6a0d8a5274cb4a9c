import { Worker } from 'node:worker_threads';

/**
 * Reading and verifying the chunks an update keeps from a cached image, off the main thread. Assembly
 * (`boot.ts`) stages an image in two large buffers; without a checker the main thread reads each run of
 * kept chunks into a buffer with pread(2) and hashes every chunk there (about 80% of an update's bytes:
 * the main thread's largest cost, while it also receives the delta). With one, the buffers are shared
 * memory and its worker threads do the read and the hashes of each run at the place assembly gives it,
 * while the main thread goes on placing fresh chunks; a buffer is written out only once every run in it
 * is checked. The verdict is the same either way: a chunk is accepted only when all of its bytes were
 * read and hash to its digest in the signed chunk index. A worker that fails turns every pending run
 * into "not verified" (the chunks are fetched again), never into accepted bytes, and the checker out of
 * use (assembly hashes on its own thread from then on).
 */

// Plain JavaScript run with `eval` (no loader needed in the worker). Messages: { stages } once (the
// shared buffers), then { id, fd, position, stage, at, lengths, digests }: read sum(lengths) octets of
// `fd` at `position` into stage `stage` at `at`, hash each chunk, reply { id, bad } (bad: indexes into
// `lengths` of chunks short or not matching). The same check as `copyChecked` without a checker in
// boot.ts (this code runs in a thread with no module loader, so it cannot share that one).
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { hash } = require('node:crypto');
let stages = [];
parentPort.on('message', (m) => {
  if (m.stages) {
    stages = m.stages.map((s) => Buffer.from(s));
    return;
  }
  const { id, fd, position, stage, at, lengths, digests } = m;
  const buf = stages[stage];
  let total = 0;
  for (const l of lengths) total += l;
  let got = 0;
  try {
    while (got < total) {
      const n = readSync(fd, buf, at + got, total - got, position + got);
      if (n === 0) break;
      got += n;
    }
  } catch {
    // A read error is a short read: the chunks past it do not verify.
  }
  const bad = [];
  let p = at;
  for (let i = 0; i < lengths.length; i++) {
    const end = p + lengths[i];
    if (end > at + got || hash('sha256', buf.subarray(p, end), 'hex') !== digests[i]) bad.push(i);
    p = end;
  }
  parentPort.postMessage({ id, bad });
});
`;

interface Pending {
  readonly count: number;
  readonly resolve: (bad: number[]) => void;
}

interface Lane {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

export class ChunkChecker {
  /** The two staging buffers assembly fills (shared with the workers). */
  readonly stages: readonly Buffer[];
  private readonly lanes: Lane[] = [];
  private nextId = 0;
  private failed = false;

  /**
   * Starts `workers` worker threads (ahead of use: their start-up is off the update path) sharing two
   * buffers of `size`. Runs go to the worker with the fewest outstanding, so a backlog left when the
   * delta's decoding ends is worked off on every core.
   */
  constructor(size: number, workers = 2) {
    const shared = [new SharedArrayBuffer(size), new SharedArrayBuffer(size)];
    this.stages = shared.map((s) => Buffer.from(s));
    for (let i = 0; i < workers; i++) {
      const lane: Lane = { worker: new Worker(WORKER, { eval: true }), pending: new Map() };
      this.lanes.push(lane);
      lane.worker.unref();
      lane.worker.postMessage({ stages: shared });
      lane.worker.on('message', (m: { id: number; bad: number[] }) => {
        const p = lane.pending.get(m.id);
        if (!p) return;
        lane.pending.delete(m.id);
        if (lane.pending.size === 0) lane.worker.unref();
        p.resolve(m.bad);
      });
      lane.worker.on('error', () => this.fail());
      lane.worker.on('exit', () => this.fail());
    }
  }

  /** Any worker lost: everything outstanding is "not verified", and assembly checks on its own from now. */
  private fail(): void {
    this.failed = true;
    for (const lane of this.lanes) {
      for (const p of lane.pending.values()) p.resolve(Array.from({ length: p.count }, (_, i) => i));
      lane.pending.clear();
    }
  }

  /** False once a worker failed or the checker was closed: assembly then reads and hashes on its own. */
  get usable(): boolean {
    return !this.failed;
  }

  /**
   * Reads the chunks of `lengths` (back to back in `fd` from `position`) into stage `stage` at `at` and
   * checks each against `digests`; resolves with the indexes of those that do not verify. Never rejects.
   */
  check(
    fd: number,
    position: number,
    stage: number,
    at: number,
    lengths: readonly number[],
    digests: readonly string[],
  ): Promise<number[]> {
    if (this.failed) return Promise.resolve(lengths.map((_, i) => i));
    const id = this.nextId++;
    const lane = this.lanes.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return new Promise((resolve) => {
      // Referenced while a check is out (an idle worker never keeps the process alive).
      if (lane.pending.size === 0) lane.worker.ref();
      lane.pending.set(id, { count: lengths.length, resolve });
      lane.worker.postMessage({ id, fd, position, stage, at, lengths, digests });
    });
  }

  /** Stops the workers (pending checks resolve as not verified). */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }
}
