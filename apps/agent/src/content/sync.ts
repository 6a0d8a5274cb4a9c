import type { Logger } from 'pino';
import type { ChunkIndex, Digest } from '@bootpt/protocol';
import { decodeSignedManifest, decodeManifest } from '@bootpt/protocol';
import { ContentError, type ContentStore } from './store.js';
import type { Upstream } from './upstream.js';

/**
 * Pulls what a manifest needs into the store: the manifest, its chunk indexes, and only the chunks the
 * store does not hold yet, several at a time. Each object is verified by the store as it is written, so
 * a bad upstream can make a sync fail, never leave bad content behind.
 */

export interface SyncStats {
  readonly manifest: Digest;
  readonly chunksFetched: number;
  readonly bytesFetched: number;
  readonly chunksPresent: number;
}

export async function syncManifest(args: {
  store: ContentStore;
  upstream: Upstream;
  digest: Digest;
  concurrency: number;
  log?: Logger;
}): Promise<SyncStats> {
  const { store, upstream, digest, concurrency } = args;
  let envelope = await store.read('manifests', digest);
  if (!envelope) {
    const fetched = await upstream.get('manifests', digest);
    if (!fetched)
      throw new ContentError('CONTENT_ERR_UPSTREAM', `${upstream.label} has no manifest ${digest}`);
    await store.putManifest(digest, fetched);
    envelope = Buffer.from(fetched);
  }
  const signed = decodeSignedManifest(envelope);
  const manifest = signed.ok ? decodeManifest(signed.value.payload) : signed;
  if (!manifest.ok)
    throw new ContentError('CONTENT_ERR_BAD_MANIFEST', `manifest ${digest}: ${manifest.error.message}`);

  const wanted = new Map<Digest, number>();
  for (const layer of manifest.value.layers) {
    let index: ChunkIndex | null = await store.loadIndex(layer.chunkIndexDigest);
    if (!index) {
      const fetched = await upstream.get('indexes', layer.chunkIndexDigest);
      if (!fetched) {
        throw new ContentError(
          'CONTENT_ERR_UPSTREAM',
          `${upstream.label} has no chunk index ${layer.chunkIndexDigest}`,
        );
      }
      index = await store.putIndex(layer.chunkIndexDigest, fetched);
    }
    for (const c of index.chunks) wanted.set(c.digest, c.length);
  }
  const present = await store.chunkDigests();
  const missing = [...wanted.keys()].filter((d) => !present.has(d));
  let next = 0;
  let bytesFetched = 0;
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const d = missing[next++]!;
      const bytes = await upstream.get('chunks', d);
      if (!bytes) throw new ContentError('CONTENT_ERR_UPSTREAM', `${upstream.label} has no chunk ${d}`);
      await store.putChunk(d, bytes);
      bytesFetched += bytes.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
  const stats = {
    manifest: digest,
    chunksFetched: missing.length,
    bytesFetched,
    chunksPresent: wanted.size - missing.length,
  };
  args.log?.info(stats, 'manifest synced');
  return stats;
}
