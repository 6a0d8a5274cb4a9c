import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { staticDeltaParts, type ChunkToFetch, type Digest } from '@bootpt/protocol';
import { ClientError } from './errors.js';

/**
 * A static delta being received. The HTTP/2 body arrives on the main thread and is passed on to a
 * worker thread that decodes it (brotli) as soon as it arrives — before the client knows the chunk
 * list, which needs the new release's verified indexes. Once `expect` gives the list, the worker cuts
 * the decoded bytes into the delta's chunks in a shared buffer and verifies each chunk in `wanted`
 * against its SHA-256, in parallel with the assembly on the main thread. Verified chunks go into
 * `fresh` (views of the shared buffer, no copy); `arriving` lets assembly wait for one. `done` settles
 * when the stream is over: rejected (CLIENT_ERR_CHUNK_REJECTED) when a chunk does not verify; a short,
 * long or broken stream is logged and leaves the chunks it did not deliver to be fetched one by one
 * (their waiters get null). Nothing decoded is used before it is verified.
 */

// Plain JavaScript run with `eval` (no loader needed in the worker). Messages: { kind: 'start', brotli },
// body pieces (Uint8Array), null at the end of the body, and (at any point) { kind: 'setup', shared,
// lengths, digests, wanted }. Decoded bytes are held until the setup arrives.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { PassThrough } = require('node:stream');
const { createBrotliDecompress } = require('node:zlib');
let decoder = null;
let setup = null;
let all = null;
const early = [];
let decodedAll = false;
let filled = 0;
let next = 0;
let start = 0;
let over = false;
const stop = (message) => {
  if (over) return;
  over = true;
  parentPort.postMessage(message);
  if (decoder) decoder.destroy();
};
function consume(piece) {
  const { lengths, digests, wanted } = setup;
  if (filled + piece.length > all.length) return stop({ kind: 'end', filled: filled + piece.length });
  piece.copy(all, filled);
  filled += piece.length;
  const first = next;
  while (next < lengths.length && start + lengths[next] <= filled) {
    if (wanted[next]) {
      const got = createHash('sha256').update(all.subarray(start, start + lengths[next])).digest('hex');
      if (got !== digests[next]) {
        if (next > first) parentPort.postMessage({ kind: 'chunks', to: next });
        return stop({ kind: 'bad', index: next, got });
      }
    }
    start += lengths[next];
    next++;
  }
  if (next > first) parentPort.postMessage({ kind: 'chunks', to: next });
}
parentPort.on('message', (m) => {
  if (over) return;
  if (m === null) {
    decoder.end();
  } else if (ArrayBuffer.isView(m)) {
    decoder.write(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
  } else if (m.kind === 'start') {
    decoder = m.brotli ? createBrotliDecompress({ chunkSize: 1024 * 1024 }) : new PassThrough();
    decoder.on('data', (piece) => {
      if (over) return;
      if (setup) consume(piece);
      else early.push(piece);
    });
    decoder.on('end', () => {
      decodedAll = true;
      if (setup) stop({ kind: 'end', filled });
    });
    decoder.on('error', (err) => stop({ kind: 'error', message: err.message }));
  } else if (m.kind === 'setup') {
    setup = m;
    all = Buffer.from(m.shared);
    for (const piece of early.splice(0)) {
      consume(piece);
      if (over) return;
    }
    if (decodedAll) stop({ kind: 'end', filled });
  }
});
`;

/** Body bytes are handed to the worker in pieces of about this size (fewer messages and decoder calls). */
const BATCH = 512 * 1024;

/**
 * A started delta worker, idle until a `DeltaStream` gives it work: started ahead (while the client
 * waits for offers) so its start-up costs no time on the update path.
 */
export function startDeltaWorker(): Worker {
  const worker = new Worker(WORKER, { eval: true });
  worker.on('error', () => undefined); // reported through DeltaStream when in use
  worker.unref();
  return worker;
}

type WorkerMessage =
  | { kind: 'chunks'; to: number }
  | { kind: 'bad'; index: number; got: string }
  | { kind: 'end'; filled: number }
  | { kind: 'error'; message: string };

interface Waiter {
  readonly promise: Promise<Uint8Array | null>;
  readonly resolve: (bytes: Uint8Array | null) => void;
}

interface Expectation {
  readonly list: readonly ChunkToFetch[];
  readonly offsets: number[];
  readonly expected: number;
  readonly shared: SharedArrayBuffer;
  readonly wanted: ReadonlySet<Digest>;
  readonly fresh: Map<Digest, Uint8Array>;
  readonly from: string;
  readonly onChunk: (c: ChunkToFetch) => void;
}

export class DeltaStream {
  readonly done: Promise<void>;
  private settle!: (err: Error | null) => void;
  private readonly waiting = new Map<Digest, Waiter>();
  private plan: Expectation | null = null;
  private delivered = 0;
  private finished = false;

  /**
   * Starts decoding `body` on `worker` (from `startDeltaWorker`; a worker serves one delta and is
   * terminated at the end) right away.
   */
  constructor(
    private readonly body: Readable,
    brotli: boolean,
    private readonly worker: Worker,
    private readonly log: Logger,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
    this.done.catch(() => undefined); // observed by the caller after assembly
    worker.postMessage({ kind: 'start', brotli });
    worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    worker.on('error', (err) => this.end(null, `static delta worker failed (${err.message})`));
    let batch: Buffer[] = [];
    let batched = 0;
    const send = () => {
      if (batched === 0) return;
      const copy = new Uint8Array(batched);
      let at = 0;
      for (const piece of batch) {
        copy.set(piece, at);
        at += piece.length;
      }
      batch = [];
      batched = 0;
      worker.postMessage(copy, [copy.buffer]);
    };
    body.on('data', (piece: Buffer) => {
      batch.push(piece);
      batched += piece.length;
      if (batched >= BATCH) send();
    });
    body.once('end', () => {
      send();
      worker.postMessage(null);
    });
    body.once('error', (err: Error) =>
      this.end(null, `static delta stream failed (${err.message}); fetching the rest one by one`),
    );
  }

  /**
   * The delta's chunks in stream order (`staticDeltaChunks`); those in `wanted` are verified and put
   * in `fresh` as they complete. `onChunk` counts each; `from` names the server in errors.
   */
  expect(
    list: readonly ChunkToFetch[],
    wanted: ReadonlySet<Digest>,
    fresh: Map<Digest, Uint8Array>,
    from: string,
    onChunk: (c: ChunkToFetch) => void,
  ): void {
    const offsets: number[] = [];
    let at = 0;
    for (const c of list) {
      offsets.push(at);
      at += c.length;
    }
    const shared = new SharedArrayBuffer(at);
    this.plan = { list, offsets, expected: at, shared, wanted, fresh, from, onChunk };
    if (this.finished) return;
    this.worker.postMessage({
      kind: 'setup',
      shared,
      lengths: list.map((c) => c.length),
      digests: list.map((c) => c.digest),
      wanted: list.map((c) => wanted.has(c.digest)),
    });
  }

  /** A promise of `digest`'s verified bytes if this delta is still to deliver it; else undefined. */
  readonly arriving = (digest: Digest): Promise<Uint8Array | null> | undefined => {
    const plan = this.plan;
    if (this.finished || !plan || !plan.wanted.has(digest) || plan.fresh.has(digest)) return undefined;
    let w = this.waiting.get(digest);
    if (!w) {
      let resolve!: (bytes: Uint8Array | null) => void;
      const promise = new Promise<Uint8Array | null>((r) => (resolve = r));
      w = { promise, resolve };
      this.waiting.set(digest, w);
    }
    return w.promise;
  };

  /** Drops a delta that will not be used. */
  cancel(): void {
    this.end(null);
  }

  private onMessage(m: WorkerMessage): void {
    const plan = this.plan;
    if (m.kind === 'chunks' && plan) {
      for (; this.delivered < m.to; this.delivered++) {
        const c = plan.list[this.delivered]!;
        if (!plan.wanted.has(c.digest) || plan.fresh.has(c.digest)) continue;
        const bytes = Buffer.from(plan.shared, plan.offsets[this.delivered], c.length);
        plan.fresh.set(c.digest, bytes);
        plan.onChunk(c);
        const w = this.waiting.get(c.digest);
        if (w) {
          this.waiting.delete(c.digest);
          w.resolve(bytes);
        }
      }
    } else if (m.kind === 'bad' && plan) {
      const c = plan.list[m.index]!;
      this.end(
        new ClientError(
          'CLIENT_ERR_CHUNK_REJECTED',
          `chunk ${c.digest} in the static delta from ${plan.from} refused: it digests to ${m.got}`,
        ),
      );
    } else if (m.kind === 'end') {
      const expected = plan?.expected ?? 0;
      this.end(
        null,
        m.filled === expected
          ? undefined
          : `static delta has ${m.filled} bytes, its chunks ${expected}; fetching the rest one by one`,
      );
    } else if (m.kind === 'error') {
      this.end(null, `static delta could not be decoded (${m.message}); fetching the rest one by one`);
    }
  }

  private end(err: Error | null, note?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.body.destroy();
    void this.worker.terminate();
    for (const w of this.waiting.values()) w.resolve(null);
    this.waiting.clear();
    if (note) this.log.warn({ delivered: this.delivered, chunks: this.plan?.list.length ?? 0 }, note);
    this.settle(err);
  }
}

/**
 * The parts of one static delta (`staticDeltaParts`: the chunk list cut into runs by bytes, each part
 * its own brotli stream), received side by side and each decoded and verified on its own worker, so
 * the decoding uses more than one core. Same interface as one stream: `expect` gives each part its run
 * of the list (and only its own chunks as wanted), `arriving` asks the part that carries a chunk,
 * `done` settles when every part has (rejected by the first chunk refused, which ends the others).
 */
export class DeltaParts {
  readonly done: Promise<void>;

  constructor(private readonly parts: readonly DeltaStream[]) {
    for (const part of parts) part.done.catch(() => this.cancel());
    this.done = Promise.all(parts.map((p) => p.done)).then(() => undefined);
    this.done.catch(() => undefined); // observed by the caller after assembly
  }

  expect(
    list: readonly ChunkToFetch[],
    wanted: ReadonlySet<Digest>,
    fresh: Map<Digest, Uint8Array>,
    from: string,
    onChunk: (c: ChunkToFetch) => void,
  ): void {
    for (const [i, run] of staticDeltaParts(list, this.parts.length).entries()) {
      const mine = new Set(run.filter((c) => wanted.has(c.digest)).map((c) => c.digest));
      this.parts[i]!.expect(run, mine, fresh, from, onChunk);
    }
  }

  readonly arriving = (digest: Digest): Promise<Uint8Array | null> | undefined => {
    for (const part of this.parts) {
      const bytes = part.arriving(digest);
      if (bytes) return bytes;
    }
    return undefined;
  };

  cancel(): void {
    for (const part of this.parts) part.cancel();
  }
}
