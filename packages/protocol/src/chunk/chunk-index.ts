import type { DecodeResult } from '../wire.js';
import { fail, ok } from '../wire.js';
import type { Digest } from './digest.js';
import { DIGEST_BYTES, digestFromBytes, digestToBytes, sha256Hex } from './digest.js';
import type { ChunkingParams } from './params.js';
import { checkChunkingParams } from './params.js';

/** One chunk of a layer: its SHA-256, where it starts in the layer and how long it is. */
export interface ChunkRef {
  readonly digest: Digest;
  readonly offset: number;
  readonly length: number;
}

/** The chunks of one layer, in order, with the parameters that produced them. */
export interface ChunkIndex {
  readonly layerDigest: Digest;
  readonly layerSize: number;
  readonly params: ChunkingParams;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Chunk index encoding, version 1. All integers big-endian. Offsets are not stored: chunk i starts at the
 * sum of the lengths before it, so the encoding cannot describe gaps or overlaps.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                  magic "BPCI" (0x42 50 43 49)                 |  0
 * +---------------+---------------+---------------+---------------+
 * |  version = 1  | algorithm = 1 | normalization | reserved = 0  |  4
 * +---------------+---------------+---------------+---------------+
 * |                       minSize (u32)                           |  8
 * |                       avgSize (u32)                           | 12
 * |                       maxSize (u32)                           | 16
 * |                     chunk count (u32)                         | 20
 * |              layer size (u64, at most 2^53 - 1)               | 24
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                 layer digest (SHA-256, 32 bytes)              | 32
 * +---------------------------------------------------------------+
 * | chunk count records of 36 bytes:                              | 64
 * |   chunk digest (32 bytes) | chunk length (u32)                |
 * +---------------------------------------------------------------+
 * ```
 *
 * Algorithm 1 is the gear-hash FastCDC chunker of `cdc.ts` with the table of `gear.ts`. A valid index
 * has: total length exactly 64 + 36 * count; every length in 1..maxSize; every length but the last at
 * least minSize; lengths summing to the layer size; count 0 exactly when the layer is empty. The
 * encoding is a function of the index, so its SHA-256 (`chunkIndexDigest`) names it in manifests.
 */
export const CHUNK_INDEX_MAGIC = 0x42504349;
export const CHUNK_INDEX_VERSION = 1;
export const CHUNK_INDEX_ALGORITHM_FASTCDC_GEAR32 = 1;
export const CHUNK_INDEX_HEADER_BYTES = 64;
export const CHUNK_INDEX_RECORD_BYTES = DIGEST_BYTES + 4;

export const CHUNK_INDEX_ERROR_CODES = [
  'CHUNKINDEX_TRUNCATED',
  'CHUNKINDEX_BAD_MAGIC',
  'CHUNKINDEX_UNSUPPORTED_VERSION',
  'CHUNKINDEX_UNSUPPORTED_ALGORITHM',
  'CHUNKINDEX_RESERVED_NONZERO',
  'CHUNKINDEX_BAD_PARAMS',
  'CHUNKINDEX_SIZE_OVERFLOW',
  'CHUNKINDEX_LENGTH_MISMATCH',
  'CHUNKINDEX_BAD_CHUNK_LENGTH',
  'CHUNKINDEX_SIZE_MISMATCH',
] as const;

export type ChunkIndexErrorCode = (typeof CHUNK_INDEX_ERROR_CODES)[number];

function failWith(code: ChunkIndexErrorCode, offset: number, message: string): DecodeResult<never> {
  return fail(code, offset, message);
}

/** Bytes the encoding of an index with `chunkCount` chunks takes. */
export function chunkIndexEncodingLength(chunkCount: number): number {
  return CHUNK_INDEX_HEADER_BYTES + CHUNK_INDEX_RECORD_BYTES * chunkCount;
}

/** Checks the invariants listed above; returns the first problem, or null. */
export function checkChunkIndex(index: ChunkIndex): string | null {
  const paramsProblem = checkChunkingParams(index.params);
  if (paramsProblem) return paramsProblem;
  if (!Number.isSafeInteger(index.layerSize) || index.layerSize < 0)
    return 'layerSize must be a safe integer >= 0';
  if (!digestToBytes(index.layerDigest)) return 'layerDigest must be 64 lower-case hex characters';
  if (index.chunks.length > 0xffffffff) return 'too many chunks';
  let at = 0;
  const last = index.chunks.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = index.chunks[i]!;
    if (c.offset !== at) return `chunk ${i} starts at ${c.offset}, expected ${at}`;
    if (!Number.isInteger(c.length) || c.length < 1 || c.length > index.params.maxSize) {
      return `chunk ${i} length ${c.length} outside 1..maxSize`;
    }
    if (i < last && c.length < index.params.minSize) return `chunk ${i} shorter than minSize`;
    if (!digestToBytes(c.digest)) return `chunk ${i} digest must be 64 lower-case hex characters`;
    at += c.length;
  }
  if (at !== index.layerSize) return `chunk lengths sum to ${at}, layer size is ${index.layerSize}`;
  return null;
}

/** Encodes an index; throws `RangeError` when it breaks an invariant (see `checkChunkIndex`). */
export function encodeChunkIndex(index: ChunkIndex): Uint8Array {
  const problem = checkChunkIndex(index);
  if (problem) throw new RangeError(`invalid chunk index: ${problem}`);
  const out = new Uint8Array(chunkIndexEncodingLength(index.chunks.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, CHUNK_INDEX_MAGIC);
  out[4] = CHUNK_INDEX_VERSION;
  out[5] = CHUNK_INDEX_ALGORITHM_FASTCDC_GEAR32;
  out[6] = index.params.normalization;
  out[7] = 0;
  view.setUint32(8, index.params.minSize);
  view.setUint32(12, index.params.avgSize);
  view.setUint32(16, index.params.maxSize);
  view.setUint32(20, index.chunks.length);
  view.setBigUint64(24, BigInt(index.layerSize));
  out.set(digestToBytes(index.layerDigest)!, 32);
  let at = CHUNK_INDEX_HEADER_BYTES;
  for (const c of index.chunks) {
    out.set(digestToBytes(c.digest)!, at);
    view.setUint32(at + DIGEST_BYTES, c.length);
    at += CHUNK_INDEX_RECORD_BYTES;
  }
  return out;
}

/** SHA-256 of the encoding: the `chunkIndexDigest` a manifest layer carries. */
export function chunkIndexDigest(index: ChunkIndex): Digest {
  return sha256Hex(encodeChunkIndex(index));
}

/** Decodes an index. Never throws: malformed input gives a `CHUNKINDEX_*` code and the byte offset. */
export function decodeChunkIndex(bytes: Uint8Array): DecodeResult<ChunkIndex> {
  const end = bytes.length;
  if (end < CHUNK_INDEX_HEADER_BYTES) {
    return failWith(
      'CHUNKINDEX_TRUNCATED',
      end,
      `header needs ${CHUNK_INDEX_HEADER_BYTES} bytes, got ${end}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== CHUNK_INDEX_MAGIC)
    return failWith('CHUNKINDEX_BAD_MAGIC', 0, 'not a chunk index');
  if (bytes[4] !== CHUNK_INDEX_VERSION) {
    return failWith('CHUNKINDEX_UNSUPPORTED_VERSION', 4, `version ${bytes[4]} is not supported`);
  }
  if (bytes[5] !== CHUNK_INDEX_ALGORITHM_FASTCDC_GEAR32) {
    return failWith('CHUNKINDEX_UNSUPPORTED_ALGORITHM', 5, `chunking algorithm ${bytes[5]} is not supported`);
  }
  if (bytes[7] !== 0) return failWith('CHUNKINDEX_RESERVED_NONZERO', 7, 'reserved byte must be 0');
  const params: ChunkingParams = {
    minSize: view.getUint32(8),
    avgSize: view.getUint32(12),
    maxSize: view.getUint32(16),
    normalization: bytes[6]!,
  };
  const paramsProblem = checkChunkingParams(params);
  if (paramsProblem) return failWith('CHUNKINDEX_BAD_PARAMS', 6, paramsProblem);
  const count = view.getUint32(20);
  const layerSizeBig = view.getBigUint64(24);
  if (layerSizeBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    return failWith('CHUNKINDEX_SIZE_OVERFLOW', 24, 'layer size exceeds 2^53 - 1');
  }
  const layerSize = Number(layerSizeBig);
  const expected = chunkIndexEncodingLength(count);
  if (end < expected) {
    return failWith('CHUNKINDEX_TRUNCATED', end, `${count} chunks need ${expected} bytes, got ${end}`);
  }
  if (end > expected) {
    return failWith('CHUNKINDEX_LENGTH_MISMATCH', expected, `${end - expected} bytes after the last record`);
  }
  if ((count === 0) !== (layerSize === 0)) {
    return failWith('CHUNKINDEX_SIZE_MISMATCH', 20, 'chunk count is 0 exactly when the layer is empty');
  }
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const layerDigest = digestFromBytes(whole, 32);
  const chunks: ChunkRef[] = new Array<ChunkRef>(count);
  let offset = 0;
  let at = CHUNK_INDEX_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(at + DIGEST_BYTES);
    if (length < 1 || length > params.maxSize || (i < count - 1 && length < params.minSize)) {
      return failWith('CHUNKINDEX_BAD_CHUNK_LENGTH', at + DIGEST_BYTES, `chunk ${i} has length ${length}`);
    }
    if (offset + length > layerSize) {
      return failWith('CHUNKINDEX_SIZE_MISMATCH', at + DIGEST_BYTES, `chunk ${i} ends past the layer size`);
    }
    chunks[i] = { digest: digestFromBytes(whole, at), offset, length };
    offset += length;
    at += CHUNK_INDEX_RECORD_BYTES;
  }
  if (offset !== layerSize) {
    return failWith(
      'CHUNKINDEX_SIZE_MISMATCH',
      24,
      `chunk lengths sum to ${offset}, layer size is ${layerSize}`,
    );
  }
  return ok({ layerDigest, layerSize, params, chunks });
}
