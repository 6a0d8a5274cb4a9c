/**
 * Chunking parameters. Together with the gear table (`gear.ts`) they fully determine chunk boundaries,
 * so they are recorded in every chunk index: two indexes of the same bytes agree exactly when their
 * parameters do.
 *
 * - `minSize` (default 16 KiB): no cut is considered before this many bytes; those bytes are not even
 *   hashed, which is a large part of the chunker's speed.
 * - `avgSize` (default 64 KiB, a power of two): the target ("normal") size. Below it the chunker uses the
 *   strict mask (`log2(avgSize) + normalization` bits), above it the loose mask
 *   (`log2(avgSize) - normalization` bits), which pulls chunk sizes towards `avgSize` (FastCDC's
 *   normalized chunking).
 * - `maxSize` (default 256 KiB): a chunk is cut here whatever the content.
 * - `normalization` (default 2, range 0-3): the normalization level described above.
 *
 * Constraints: `64 <= minSize < avgSize < maxSize <= 1 GiB`, `avgSize` a power of two between 256 B and
 * 256 MiB, `log2(avgSize) + normalization <= 31`, all integers.
 */
export interface ChunkingParams {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
  readonly normalization: number;
}

export const DEFAULT_CHUNKING_PARAMS: ChunkingParams = Object.freeze({
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
  normalization: 2,
});

export const MAX_CHUNK_SIZE_LIMIT = 1 << 30;

/** Returns a description of the first violated constraint, or null when `p` is valid. */
export function checkChunkingParams(p: ChunkingParams): string | null {
  const { minSize, avgSize, maxSize, normalization } = p;
  for (const [name, v] of Object.entries({ minSize, avgSize, maxSize, normalization })) {
    if (!Number.isSafeInteger(v)) return `${name} must be an integer`;
  }
  if (minSize < 64) return 'minSize must be at least 64';
  if (!(minSize < avgSize && avgSize < maxSize)) return 'sizes must satisfy minSize < avgSize < maxSize';
  if (maxSize > MAX_CHUNK_SIZE_LIMIT) return 'maxSize must be at most 1 GiB';
  if (avgSize < 256 || avgSize > 1 << 28 || (avgSize & (avgSize - 1)) !== 0) {
    return 'avgSize must be a power of two between 256 and 2^28';
  }
  if (normalization < 0 || normalization > 3) return 'normalization must be 0..3';
  if (Math.log2(avgSize) + normalization > 31) return 'log2(avgSize) + normalization must be at most 31';
  return null;
}

/** Fills in defaults and validates; throws `RangeError` on invalid parameters (a programming error). */
export function resolveChunkingParams(partial: Partial<ChunkingParams> = {}): ChunkingParams {
  const p: ChunkingParams = Object.freeze({ ...DEFAULT_CHUNKING_PARAMS, ...partial });
  const problem = checkChunkingParams(p);
  if (problem) throw new RangeError(`invalid chunking parameters: ${problem}`);
  return p;
}

/**
 * A mask of the `bits` highest bits of a 32-bit word, as a signed 32-bit integer. High bits are used
 * because in the gear hash `h = (h << 1) + G[b]` bit k depends on the last k + 1 bytes only: the top
 * bits see the widest window.
 */
export function highBitsMask(bits: number): number {
  return bits <= 0 ? 0 : (~0 << (32 - bits)) | 0;
}
