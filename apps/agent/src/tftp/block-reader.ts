import type { FileSnapshot } from '../store/file-snapshot.js';

/**
 * Reads a file's TFTP blocks in batches, straight into ready-to-send DATA datagrams.
 *
 * A batch is one buffer of `count` slots of `4 + blksize` octets. Each slot's first four octets hold the
 * DATA header (opcode 3, wire block number), written when the batch is loaded; the file octets are read
 * behind them with one readv(2) for the whole batch. `block(n)` returns the data view of block n (what the
 * protocol's `readBlock` wants), and `datagram(view)` widens such a view by its header, so sending a block
 * costs no copy and no allocation beyond the view itself.
 *
 * A batch buffer may still be referenced by a datagram libuv queued (EAGAIN), so by default every batch
 * gets a fresh buffer. A caller that can tell when nothing is queued passes `reusable`: the reader then
 * alternates between two buffers (a window spans at most two batches, so the one being refilled is never
 * the one the window in hand points into), which spares a fresh allocation — and its page faults — per
 * batch.
 */
const DATA_OPCODE = 3;
const HEADER = 4;
/** readv(2) takes at most IOV_MAX (1024) vectors. */
const MAX_BATCH_BLOCKS = 1024;

export class BlockReader {
  /** Absolute number of the last block (the short one, possibly empty). */
  readonly lastBlock: number;
  private readonly batchBlocks: number;
  private buffer: Buffer = Buffer.alloc(0);
  /** The batch buffer before `buffer`, refilled next when `reusable()` allows. */
  private spare: Buffer | undefined;
  private first = 1;
  private count = 0;

  constructor(
    private readonly snapshot: FileSnapshot,
    readonly blksize: number,
    /** Octets per batch (rounded to whole blocks). */
    batchBytes = 256 * 1024,
    /** True when no datagram pointing into an earlier batch can still be waiting to be sent. */
    private readonly reusable?: () => boolean,
  ) {
    this.lastBlock = Math.floor(snapshot.size / blksize) + 1;
    this.batchBlocks = Math.max(1, Math.min(MAX_BATCH_BLOCKS, Math.floor(batchBytes / blksize)));
  }

  /** Octets of absolute block `n` (1-based): blksize, or fewer for the last block; empty past the end. */
  block(n: number): Uint8Array {
    if (n > this.lastBlock) return this.buffer.subarray(0, 0);
    if (n < this.first || n >= this.first + this.count) this.load(n);
    const start = (n - this.first) * (HEADER + this.blksize) + HEADER;
    return this.buffer.subarray(start, start + this.length(n));
  }

  /** Makes sure blocks `first`..`last` are in memory (read ahead, before they are asked for). */
  prefetch(first: number, last: number): void {
    if (first > this.lastBlock) return;
    if (first < this.first || Math.min(last, this.lastBlock) >= this.first + this.count) this.load(first);
  }

  /** The DATA datagram around a view returned by `block()`. */
  static datagram(view: Uint8Array): Buffer {
    return Buffer.from(view.buffer, view.byteOffset - HEADER, view.length + HEADER);
  }

  private length(n: number): number {
    return n < this.lastBlock ? this.blksize : this.snapshot.size - (this.lastBlock - 1) * this.blksize;
  }

  private load(n: number): void {
    const count = Math.min(this.batchBlocks, this.lastBlock - n + 1);
    const stride = HEADER + this.blksize;
    let buffer: Buffer;
    if (!this.reusable) buffer = Buffer.allocUnsafeSlow(count * stride);
    else if (this.spare && this.reusable()) buffer = this.spare;
    else buffer = Buffer.allocUnsafeSlow(this.batchBlocks * stride);
    const views: Uint8Array[] = new Array<Uint8Array>(count);
    for (let i = 0; i < count; i++) {
      const at = i * stride;
      const wire = (n + i) & 0xffff;
      buffer[at] = 0;
      buffer[at + 1] = DATA_OPCODE;
      buffer[at + 2] = wire >> 8;
      buffer[at + 3] = wire & 0xff;
      views[i] = buffer.subarray(at + HEADER, at + HEADER + this.length(n + i));
    }
    this.snapshot.readInto(views, (n - 1) * this.blksize);
    if (this.reusable && this.buffer.length > 0) this.spare = this.buffer;
    this.buffer = buffer;
    this.first = n;
    this.count = count;
  }
}
