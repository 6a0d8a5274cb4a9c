import { GEAR } from './gear.js';
import type { ChunkingParams } from './params.js';
import { highBitsMask, resolveChunkingParams } from './params.js';

/**
 * Content-defined chunking, FastCDC style (Xia et al., "FastCDC", USENIX ATC 2016), with a 32-bit gear
 * hash and normalized chunking:
 *
 * - Each chunk starts with the hash at 0. Its first `minSize` bytes are skipped (not hashed).
 * - From `minSize` up to `avgSize` bytes, every byte updates `h = (h << 1) + GEAR[byte]` and the chunk
 *   ends after the byte that makes `(h & maskS) == 0` (maskS: the `log2(avg) + level` high bits).
 * - From `avgSize` up to `maxSize`, the same with the looser maskL (`log2(avg) - level` high bits).
 * - A chunk that reaches `maxSize` bytes is cut there; the last chunk of the stream may be shorter than
 *   `minSize`.
 *
 * The state carried between buffers is only (bytes in the current chunk, hash), so feeding the stream in
 * any split gives exactly the boundaries of a one-shot run, and no input is copied or buffered.
 */
export class Chunker {
  readonly params: ChunkingParams;
  private readonly maskS: number;
  private readonly maskL: number;
  /** Bytes of the current (open) chunk seen so far. */
  private pos = 0;
  private hash = 0;
  /** Stream offset of the start of the current chunk. */
  private chunkStart = 0;
  private finished = false;

  constructor(params: Partial<ChunkingParams> = {}) {
    this.params = resolveChunkingParams(params);
    const bits = Math.log2(this.params.avgSize);
    this.maskS = highBitsMask(bits + this.params.normalization);
    this.maskL = highBitsMask(bits - this.params.normalization);
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.chunkStart + this.pos;
  }

  /**
   * Feeds the next buffer of the stream. Returns the lengths of the chunks that ended inside it, in order
   * (the first may have started in an earlier buffer).
   */
  update(data: Uint8Array): number[] {
    if (this.finished) throw new Error('Chunker.update after finish');
    const cuts: number[] = [];
    const { minSize, avgSize, maxSize } = this.params;
    const maskS = this.maskS;
    const maskL = this.maskL;
    const gear = GEAR;
    const n = data.length;
    let pos = this.pos;
    let h = this.hash;
    let i = 0;
    while (i < n) {
      if (pos < minSize) {
        const skip = Math.min(minSize - pos, n - i);
        i += skip;
        pos += skip;
        if (pos < minSize) break;
      }
      let j = i;
      let cut = false;
      if (pos < avgSize) {
        const lim = Math.min(n, i + (avgSize - pos));
        for (; j < lim; j++) {
          h = ((h << 1) + gear[data[j]!]!) | 0;
          if ((h & maskS) === 0) {
            cut = true;
            j++;
            break;
          }
        }
        pos += j - i;
        i = j;
        if (!cut && pos < avgSize) break;
      }
      if (!cut) {
        const lim = Math.min(n, i + (maxSize - pos));
        for (; j < lim; j++) {
          h = ((h << 1) + gear[data[j]!]!) | 0;
          if ((h & maskL) === 0) {
            cut = true;
            j++;
            break;
          }
        }
        pos += j - i;
        i = j;
        if (pos === maxSize) cut = true;
      }
      if (!cut) break;
      cuts.push(pos);
      this.chunkStart += pos;
      pos = 0;
      h = 0;
    }
    this.pos = pos;
    this.hash = h;
    return cuts;
  }

  /** Ends the stream; returns the length of the final chunk, or null when the stream ended on a boundary. */
  finish(): number | null {
    if (this.finished) return null;
    this.finished = true;
    const last = this.pos;
    this.chunkStart += last;
    this.pos = 0;
    return last > 0 ? last : null;
  }
}

/** One-shot: the lengths of the chunks of `data`, in order (they sum to `data.length`). */
export function chunkLengths(data: Uint8Array, params: Partial<ChunkingParams> = {}): number[] {
  const chunker = new Chunker(params);
  const lengths = chunker.update(data);
  const last = chunker.finish();
  if (last !== null) lengths.push(last);
  return lengths;
}
