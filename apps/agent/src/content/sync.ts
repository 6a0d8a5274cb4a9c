import type { Logger } from 'pino';
import type { ChunkIndex, Digest, Manifest, TrustStore } from '@bootpt/protocol';
import { decodeManifest, decodeSignedManifest, openSignedManifest } from '@bootpt/protocol';
import { ContentError, type ContentStore } from './store.js';
import type { Upstream } from './upstream.js';

/**
 * Pulls what a manifest needs into the store: the manifest, its chunk indexes, and only the chunks the
 * store does not hold yet, several at a time. Each object is verified by the store as it is written, so
 * a bad upstream can make a sync fail, never leave bad content behind; a sync cut short (abort, crash)
 * leaves only complete, verified objects and the next one fetches the rest.
 *
 * With `trust` (e.g. the control plane's trust set), the manifest must verify against it before anything
 * else is pulled, a stored one too: a manifest whose keys were revoked stops syncing, and one that no
 * longer verifies is fetched again (signatures are added on key rotation).
 */

export interface SyncStats {
  readonly manifest: Digest;
  readonly chunksFetched: number;
  readonly bytesFetched: number;
  readonly chunksPresent: number;
}

function refuse(digest: Digest, why: string): never {
  throw new ContentError('CONTENT_ERR_BAD_MANIFEST', `manifest ${digest} refused: ${why}`);
}

async function loadManifest(
  store: ContentStore,
  upstream: Upstream,
  digest: Digest,
  trust: TrustStore | undefined,
  signal: AbortSignal | undefined,
): Promise<Manifest> {
  const opts = signal ? { signal } : {};
  let envelope: Uint8Array | null = await store.read('manifests', digest);
  if (envelope && trust && !openSignedManifest(envelope, trust).ok) envelope = null;
  if (!envelope) {
    const fetched = await upstream.get('manifests', digest, opts);
    if (!fetched)
      throw new ContentError('CONTENT_ERR_UPSTREAM', `${upstream.label} has no manifest ${digest}`);
    if (trust) {
      const opened = openSignedManifest(fetched, trust);
      if (!opened.ok) refuse(digest, opened.error.code);
      if (opened.value.digest !== digest) refuse(digest, 'payload digest differs');
    }
    await store.putManifest(digest, fetched);
    envelope = fetched;
  }
  const signed = decodeSignedManifest(envelope);
  const manifest = signed.ok ? decodeManifest(signed.value.payload) : signed;
  if (!manifest.ok)
    throw new ContentError('CONTENT_ERR_BAD_MANIFEST', `manifest ${digest}: ${manifest.error.message}`);
  return manifest.value;
}

export async function syncManifest(args: {
  store: ContentStore;
  upstream: Upstream;
  digest: Digest;
  concurrency: number;
  trust?: TrustStore | undefined;
  signal?: AbortSignal | undefined;
  log?: Logger;
}): Promise<SyncStats> {
  const { store, upstream, digest, concurrency, signal } = args;
  const manifest = await loadManifest(store, upstream, digest, args.trust, signal);

  const wanted = new Map<Digest, number>();
  for (const layer of manifest.layers) {
    let index: ChunkIndex | null = await store.loadIndex(layer.chunkIndexDigest);
    if (!index) {
      const fetched = await upstream.get('indexes', layer.chunkIndexDigest, signal ? { signal } : {});
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
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < missing.length && !failed) {
      const d = missing[next++]!;
      // The index says how long the chunk is: a longer body is cut off at the socket.
      const bytes = await upstream.get('chunks', d, {
        maxBytes: wanted.get(d)!,
        ...(signal ? { signal } : {}),
      });
      if (!bytes) throw new ContentError('CONTENT_ERR_UPSTREAM', `${upstream.label} has no chunk ${d}`);
      await store.putChunk(d, bytes);
      bytesFetched += bytes.length;
    }
  };
  // The first failure stops the other workers from taking more chunks.
  const guarded = () =>
    worker().catch((err: unknown) => {
      failed = true;
      throw err;
    });
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, missing.length) }, guarded),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  const stats = {
    manifest: digest,
    chunksFetched: missing.length,
    bytesFetched,
    chunksPresent: wanted.size - missing.length,
  };
  args.log?.info(stats, 'manifest synced');
  return stats;
}
