import type { ChunkToFetch } from './planner.js';
import type { Digest } from './digest.js';

/**
 * The chunk list of a static delta (SPEC.md, static deltas): the chunks of the target release that the
 * source release does not use, each once, in order of first use in the target (layer order, then
 * offset). The agent concatenates exactly these chunks into the delta; the client derives the same list
 * from the two signed manifests' indexes to cut the decoded stream back into chunks, so the list itself
 * never travels. Pure.
 */
export function staticDeltaChunks(
  fromChunks: { has(digest: Digest): boolean },
  toLayers: readonly { readonly chunks: readonly ChunkToFetch[] }[],
): ChunkToFetch[] {
  const seen = new Set<Digest>();
  const out: ChunkToFetch[] = [];
  for (const layer of toLayers) {
    for (const c of layer.chunks) {
      if (fromChunks.has(c.digest) || seen.has(c.digest)) continue;
      seen.add(c.digest);
      out.push({ digest: c.digest, length: c.length });
    }
  }
  return out;
}

/**
 * A static delta is stored and served as this many parts, each its own brotli stream, so a client
 * decodes them in parallel (a single brotli stream decodes on one core only).
 */
export const STATIC_DELTA_PARTS = 2;

/**
 * The delta's chunk list cut into `parts` runs by bytes: a chunk belongs to part
 * ⌊start × parts / total⌋, where `start` is its offset in the concatenated list and `total` the list's
 * size, so every part is a contiguous run and the parts' sizes differ by at most a chunk from an even
 * split. The agent compresses each run as its own stream; the client cuts each decoded stream with the
 * same runs. Concatenated, the parts are `list`. Pure.
 */
export function staticDeltaParts<T extends { readonly length: number }>(
  list: readonly T[],
  parts: number = STATIC_DELTA_PARTS,
): T[][] {
  if (!Number.isInteger(parts) || parts < 1)
    throw new RangeError(`parts must be a positive integer: ${parts}`);
  const out: T[][] = Array.from({ length: parts }, () => []);
  const total = list.reduce((n, c) => n + c.length, 0);
  let start = 0;
  for (const c of list) {
    const part = total === 0 ? 0 : Math.min(parts - 1, Math.floor((start * parts) / total));
    out[part]!.push(c);
    start += c.length;
  }
  return out;
}
