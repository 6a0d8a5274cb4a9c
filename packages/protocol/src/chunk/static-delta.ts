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
