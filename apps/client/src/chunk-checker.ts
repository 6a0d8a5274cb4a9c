import type { createHash, hash } from 'node:crypto';
import type { readSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Copying the chunks an update keeps from a cached image into the new one, each verified on the way,
 * off the main thread. Assembly (`boot.ts`) places every chunk of a new image at its own offset, in any
 * order: chunks in memory (fetched, or from the static delta as they are decoded) are written by the
 * main thread; kept chunks (two thirds of the bench's update: 73 of 110 MB, the largest cost) go to this checker in
 * batches, and its worker threads read each from the old image with pread(2), hash it and write it to
 * the new image with pwrite(2), while the main thread goes on receiving the delta. A chunk is accepted
 * only when all of its bytes were read and hash to its digest in the signed chunk index; the bytes of
 * one that does not are written anyway (the image is then incomplete and discarded, the chunk fetched
 * again). A worker that fails turns every batch still out into "not verified", never into accepted
 * bytes, and the checker out of use (assembly copies on its own thread from then on, with the same
 * function).
 */

/** Each worker's copy buffer; kept chunks go out in batches of up to this many bytes. */
export const COPY_BYTES = 4 * 1024 * 1024;

/** Batches in flight per worker (one being copied, one queued in its port): the rest wait here. */
const IN_FLIGHT = 2;

/**
 * One batch of kept chunks: chunk `k` is `lengths[k]` octets at `from[k]` in `src`, to go to `to[k]` in
 * `dst`, and must hash (SHA-256, hex) to `digests[k]`.
 */
export interface CopyBatch {
  readonly src: number;
  readonly dst: number;
  readonly from: readonly number[];
  readonly to: readonly number[];
  readonly lengths: readonly number[];
  readonly digests: readonly string[];
}

/**
 * Copies `batch` with `buf` as the bounce buffer; returns the indexes of the chunks that do not verify
 * (short reads and read errors included: every chunk from the failed read on). Runs of chunks back to
 * back in both files move in one read and one write; a chunk larger than `buf` moves piece by piece.
 * A write error is thrown. Self-contained (its only names are its parameters and the `io` functions), so
 * the worker threads run this very function from its source text (`WORKER`).
 */
export function copyChunks(
  io: {
    readSync: typeof readSync;
    writeSync: typeof writeSync;
    hash: typeof hash;
    createHash: typeof createHash;
  },
  buf: Buffer,
  batch: CopyBatch,
): number[] {
  const { src, dst, from, to, lengths, digests } = batch;
  const read = (at: number, length: number, position: number): number => {
    let got = 0;
    try {
      while (got < length) {
        const n = io.readSync(src, buf, at + got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch {
      // A read error is a short read: what it did not read does not verify.
    }
    return got;
  };
  const write = (length: number, position: number): void => {
    let done = 0;
    while (done < length) done += io.writeSync(dst, buf, done, length - done, position + done);
  };
  const bad: number[] = [];
  let i = 0;
  while (i < lengths.length) {
    let j = i + 1;
    let total = lengths[i]!;
    while (
      j < lengths.length &&
      from[j] === from[j - 1]! + lengths[j - 1]! &&
      to[j] === to[j - 1]! + lengths[j - 1]! &&
      total + lengths[j]! <= buf.length
    ) {
      total += lengths[j]!;
      j++;
    }
    if (total > buf.length) {
      const h = io.createHash('sha256');
      let done = 0;
      while (done < total) {
        const want = Math.min(buf.length, total - done);
        const got = read(0, want, from[i]! + done);
        h.update(buf.subarray(0, got));
        write(got, to[i]! + done);
        done += got;
        if (got < want) break;
      }
      if (done < total || h.digest('hex') !== digests[i]) bad.push(i);
    } else {
      const got = read(0, total, from[i]!);
      let p = 0;
      for (let k = i; k < j; k++) {
        const end = p + lengths[k]!;
        if (end > got || io.hash('sha256', buf.subarray(p, end), 'hex') !== digests[k]) bad.push(k);
        p = end;
      }
      write(got, to[i]!);
    }
    i = j;
  }
  return bad;
}

// Plain JavaScript run with `eval` (no loader needed in the worker). Messages: { size } once (its
// buffer), then { id, batch }: copy the batch, reply { id, bad } or { id, error } (a write failed).
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { readSync, writeSync } = require('node:fs');
const { hash, createHash } = require('node:crypto');
// Transforms that keep function names (tsx's esbuild) wrap inner functions in __name(fn, name).
const __name = (f) => f;
const copyChunks = ${copyChunks.toString()};
const io = { readSync, writeSync, hash, createHash };
let buf = null;
parentPort.on('message', (m) => {
  if (m.size) {
    buf = Buffer.allocUnsafe(m.size);
    return;
  }
  let reply;
  try {
    reply = { id: m.id, bad: copyChunks(io, buf, m.batch) };
  } catch (err) {
    reply = { id: m.id, error: String(err && err.message) };
  }
  parentPort.postMessage(reply);
});
`;

interface Job {
  readonly id: number;
  readonly batch: CopyBatch;
  readonly resolve: (bad: number[]) => void;
  readonly reject: (err: Error) => void;
}

interface Lane {
  readonly worker: Worker;
  readonly pending: Map<number, Job>;
}

type Reply = { id: number; bad: number[]; error?: undefined } | { id: number; error: string };

export class ChunkChecker {
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private failed = false;

  /**
   * Starts `workers` worker threads (ahead of use: their start-up is off the update path), each with a
   * copy buffer of `size` octets. Batches are handed out as workers free up (at most `IN_FLIGHT` each),
   * so the work left when the delta's decoding ends is spread over every core.
   */
  constructor(
    readonly size = COPY_BYTES,
    workers = 2,
  ) {
    for (let i = 0; i < workers; i++) {
      const lane: Lane = { worker: new Worker(WORKER, { eval: true }), pending: new Map() };
      this.lanes.push(lane);
      lane.worker.unref();
      lane.worker.postMessage({ size });
      lane.worker.on('message', (m: Reply) => {
        const job = lane.pending.get(m.id);
        if (!job) return;
        lane.pending.delete(m.id);
        if (m.error !== undefined) job.reject(new Error(`copying kept chunks failed: ${m.error}`));
        else job.resolve(m.bad);
        this.dispatch();
        if (lane.pending.size === 0) lane.worker.unref();
      });
      lane.worker.on('error', () => this.fail());
      lane.worker.on('exit', () => this.fail());
    }
  }

  /** Any worker lost: everything outstanding is "not verified", and assembly copies on its own from now. */
  private fail(): void {
    this.failed = true;
    const all = (job: Job) => job.resolve(job.batch.lengths.map((_, i) => i));
    for (const lane of this.lanes) {
      for (const job of lane.pending.values()) all(job);
      lane.pending.clear();
    }
    for (const job of this.queue.splice(0)) all(job);
  }

  /** False once a worker failed or the checker was closed: assembly then copies on its own thread. */
  get usable(): boolean {
    return !this.failed;
  }

  /**
   * Copies `batch` (see `copyChunks`) on a worker; resolves with the indexes of the chunks that do not
   * verify, rejects when a write failed.
   */
  copy(batch: CopyBatch): Promise<number[]> {
    if (this.failed) return Promise.resolve(batch.lengths.map((_, i) => i));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, batch, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.failed) {
      const lane = this.lanes.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      if (lane.pending.size >= IN_FLIGHT) return;
      const job = this.queue.shift()!;
      // Referenced while a batch is out (an idle worker never keeps the process alive).
      if (lane.pending.size === 0) lane.worker.ref();
      lane.pending.set(job.id, job);
      lane.worker.postMessage({ id: job.id, batch: job.batch });
    }
  }

  /** Stops the workers (batches still out resolve as not verified). */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }
}
