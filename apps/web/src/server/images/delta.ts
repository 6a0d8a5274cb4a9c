import { decodeChunkIndex, planDelta, type ChunkIndex, type Digest, type Manifest } from '@bootpt/protocol';
import type { BlobStore } from './blob-store';

/**
 * What an update between two releases costs a host: the protocol's `planDelta` with every chunk of
 * the previous release's layers as "held". Chunk indexes are immutable (content-addressed), so decoded
 * ones are cached per process.
 */
export interface UpdateCost {
  fromReleaseId: string;
  fromVersion: string;
  fetchBytes: number;
  fetchChunks: number;
  reusedBytes: number;
  totalBytes: number;
}

const CACHE_LIMIT = 256;
const indexCache = new Map<Digest, ChunkIndex>();

export async function loadChunkIndex(blobs: BlobStore, digest: Digest): Promise<ChunkIndex> {
  const cached = indexCache.get(digest);
  if (cached) return cached;
  const bytes = await blobs.getBytes(digest);
  if (!bytes) throw new Error(`chunk index ${digest} is missing from the blob store`);
  const decoded = decodeChunkIndex(bytes);
  if (!decoded.ok) throw new Error(`chunk index ${digest}: ${decoded.error.message}`);
  if (indexCache.size >= CACHE_LIMIT) indexCache.delete(indexCache.keys().next().value!);
  indexCache.set(digest, decoded.value);
  return decoded.value;
}

async function indexesOf(blobs: BlobStore, manifest: Manifest): Promise<Map<Digest, ChunkIndex>> {
  const out = new Map<Digest, ChunkIndex>();
  for (const layer of manifest.layers) {
    out.set(layer.chunkIndexDigest, await loadChunkIndex(blobs, layer.chunkIndexDigest));
  }
  return out;
}

export async function updateCost(
  blobs: BlobStore,
  from: { id: string; version: string; manifest: Manifest },
  target: Manifest,
): Promise<UpdateCost> {
  const held = new Set<Digest>();
  for (const index of (await indexesOf(blobs, from.manifest)).values()) {
    for (const c of index.chunks) held.add(c.digest);
  }
  const plan = planDelta(target, await indexesOf(blobs, target), held);
  if (!plan.ok) throw new Error(`delta plan: ${plan.error.message}`);
  return {
    fromReleaseId: from.id,
    fromVersion: from.version,
    fetchBytes: plan.value.fetchBytes,
    fetchChunks: plan.value.fetch.length,
    reusedBytes: plan.value.reusedBytes,
    totalBytes: plan.value.totalBytes,
  };
}
