import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ChunkToFetch, Digest } from '@bootpt/protocol';
import { ClientError } from './errors.js';

/**
 * A static delta being received. The HTTP/2 body arrives on the main thread and is passed on to a
 * worker thread that decodes it (brotli), cuts it into the delta's chunks (`list`, in stream order) in a
 * shared buffer and verifies each chunk in `wanted` against its SHA-256, so decoding and hashing run in
 * parallel with the assembly on the main thread instead of waiting for its turns of the event loop.
 * Verified chunks go into `fresh` (views of the shared buffer, no copy); `arriving` lets assembly wait
 * for one. `done` settles when the stream is over: rejected (CLIENT_ERR_CHUNK_REJECTED) when a chunk
 * does not verify; a short, long or broken stream is logged and leaves the chunks it did not deliver to
 * be fetched one by one (their waiters get null).
 */

// Plain JavaScript run with `eval` (no loader needed in the worker). Its first message: the shared
// buffer, chunk lengths, hex digests, wanted flags, and whether the body is brotli; then body pieces;
// then null at the end of the body.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { PassThrough } = require('node:stream');
const { createBrotliDecompress } = require('node:zlib');
parentPort.once('message', (setup) => run(setup));
function run({ shared, lengths, digests, wanted, brotli }) {
const all = Buffer.from(shared);
const decoder = brotli ? createBrotliDecompress({ chunkSize: 1024 * 1024 }) : new PassThrough();
let filled = 0;
let next = 0;
let start = 0;
let over = false;
const stop = (message) => {
  if (over) return;
  over = true;
  parentPort.postMessage(message);
  decoder.destroy();
};
decoder.on('data', (piece) => {
  if (over) return;
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
});
decoder.on('end', () => stop({ kind: 'end', filled }));
decoder.on('error', (err) => stop({ kind: 'error', message: err.message }));
parentPort.on('message', (m) => {
  if (over) return;
  if (m === null) decoder.end();
  else decoder.write(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
});
}
`;
/** Body bytes are handed to the worker in pieces of about this size (fewer messages and decoder calls). */
const BATCH = 512 * 1024;

/**
 * A started delta worker, idle until `DeltaStream.receive` gives it work: started ahead (while the
 * client waits for offers) so its start-up costs no time on the update path.
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

export class DeltaStream {
  readonly done: Promise<void>;
  private settle!: (err: Error | null) => void;
  private readonly waiting = new Map<Digest, Waiter>();
  private readonly offsets: number[] = [];
  private readonly expected: number;
  private readonly shared: SharedArrayBuffer;
  private delivered = 0;
  private finished = false;
  private worker: Worker | null = null;

  constructor(
    private readonly list: readonly ChunkToFetch[],
    private readonly wanted: ReadonlySet<Digest>,
    private readonly fresh: Map<Digest, Uint8Array>,
    private readonly log: Logger,
  ) {
    let at = 0;
    for (const c of list) {
      this.offsets.push(at);
      at += c.length;
    }
    this.expected = at;
    this.shared = new SharedArrayBuffer(at);
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
    this.done.catch(() => undefined); // observed by the caller after assembly
  }

  /** A promise of `digest`'s verified bytes if this delta is still to deliver it; else undefined. */
  readonly arriving = (digest: Digest): Promise<Uint8Array | null> | undefined => {
    if (this.finished || !this.wanted.has(digest) || this.fresh.has(digest)) return undefined;
    let w = this.waiting.get(digest);
    if (!w) {
      let resolve!: (bytes: Uint8Array | null) => void;
      const promise = new Promise<Uint8Array | null>((r) => (resolve = r));
      w = { promise, resolve };
      this.waiting.set(digest, w);
    }
    return w.promise;
  };

  /**
   * Feeds `body` to `worker` (one from `startDeltaWorker`, started ahead when possible; a worker serves
   * one delta and is terminated at the end). `onChunk` counts each verified chunk; `from` names the
   * server in errors.
   */
  receive(
    body: Readable,
    brotli: boolean,
    from: string,
    onChunk: (c: ChunkToFetch) => void,
    worker: Worker = startDeltaWorker(),
  ): void {
    worker.postMessage({
      shared: this.shared,
      lengths: this.list.map((c) => c.length),
      digests: this.list.map((c) => c.digest),
      wanted: this.list.map((c) => this.wanted.has(c.digest)),
      brotli,
    });
    this.worker = worker;
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'chunks') {
        for (; this.delivered < m.to; this.delivered++) {
          const c = this.list[this.delivered]!;
          if (!this.wanted.has(c.digest) || this.fresh.has(c.digest)) continue;
          const bytes = Buffer.from(this.shared, this.offsets[this.delivered], c.length);
          this.fresh.set(c.digest, bytes);
          onChunk(c);
          const w = this.waiting.get(c.digest);
          if (w) {
            this.waiting.delete(c.digest);
            w.resolve(bytes);
          }
        }
      } else if (m.kind === 'bad') {
        const c = this.list[m.index]!;
        this.end(
          new ClientError(
            'CLIENT_ERR_CHUNK_REJECTED',
            `chunk ${c.digest} in the static delta from ${from} refused: it digests to ${m.got}`,
          ),
        );
      } else if (m.kind === 'end') {
        this.end(
          null,
          m.filled === this.expected
            ? undefined
            : `static delta has ${m.filled} bytes, its chunks ${this.expected}; fetching the rest one by one`,
        );
      } else {
        this.end(null, `static delta could not be decoded (${m.message}); fetching the rest one by one`);
      }
    });
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
    this.body = body;
  }

  private body: Readable | null = null;

  private end(err: Error | null, note?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.body?.destroy();
    void this.worker?.terminate();
    for (const w of this.waiting.values()) w.resolve(null);
    this.waiting.clear();
    if (note) this.log.warn({ delivered: this.delivered, chunks: this.list.length }, note);
    this.settle(err);
  }
}
