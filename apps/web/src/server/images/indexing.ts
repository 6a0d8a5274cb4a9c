import {
  chunkIndexDigest,
  encodeChunkIndex,
  LayerIndexer,
  type ChunkingParams,
  type Digest,
} from '@bootpt/protocol';
import type { PrismaClient } from '../../generated/prisma/client';
import type { BlobStore } from './blob-store';
import { bareDigest, storedDigest } from './deps';

/**
 * The `layer.index` job: streams a stored layer through the protocol's `LayerIndexer` (FastCDC +
 * SHA-256 per chunk), stores every chunk and the encoded chunk index as blobs, then marks the layer
 * READY with its chunk-index digest and chunk count.
 *
 * Idempotent and crash-safe: blobs are content-addressed (storing one twice is a no-op), the layer row
 * changes only at the end and only from a non-READY state, and READY is written after every chunk and
 * the index are durable. A worker killed halfway leaves the layer INDEXING and the job is run again.
 */
export type IndexOutcome =
  | { status: 'READY'; alreadyIndexed: boolean; chunkCount: number; chunkIndexDigest: Digest }
  | { status: 'FAILED'; error: string }
  | { status: 'MISSING' };

/** Collects the bytes of the chunk being read, across stream buffers, without copying until a cut. */
class PendingBytes {
  private parts: Buffer[] = [];
  private size = 0;

  push(buf: Buffer): void {
    this.parts.push(buf);
    this.size += buf.length;
  }

  /** Removes and returns the first `n` bytes. */
  take(n: number): Buffer {
    if (n > this.size) throw new Error(`indexer asked for ${n} bytes, ${this.size} pending`);
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.parts[0]!;
      if (head.length <= need) {
        out.push(head);
        this.parts.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.parts[0] = head.subarray(need);
        need = 0;
      }
    }
    this.size -= n;
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  }

  get length(): number {
    return this.size;
  }
}

export async function indexStoredLayer(
  db: PrismaClient,
  blobs: BlobStore,
  layerId: string,
  onProgress: (percent: number) => Promise<void> | void = () => undefined,
  chunking: Partial<ChunkingParams> = {},
): Promise<IndexOutcome> {
  const layer = await db.layer.findUnique({ where: { id: layerId } });
  if (!layer) return { status: 'MISSING' };
  if (layer.status === 'READY' && layer.chunkIndexDigest && layer.chunkCount !== null) {
    return {
      status: 'READY',
      alreadyIndexed: true,
      chunkCount: layer.chunkCount,
      chunkIndexDigest: bareDigest(layer.chunkIndexDigest),
    };
  }
  const digest = bareDigest(layer.digest);
  const size = Number(layer.size);
  const fail = async (error: string): Promise<IndexOutcome> => {
    await db.layer.updateMany({
      where: { id: layerId, status: { not: 'READY' } },
      data: { status: 'FAILED', error },
    });
    return { status: 'FAILED', error };
  };

  const source = await blobs.get(digest);
  if (!source) return fail(`the layer's bytes (${digest}) are missing from the blob store`);
  await db.layer.updateMany({
    where: { id: layerId, status: { in: ['UPLOADING', 'FAILED'] } },
    data: { status: 'INDEXING', error: null },
  });

  const indexer = new LayerIndexer(chunking);
  const pending = new PendingBytes();
  const batch = blobs.batch();

  let read = 0;
  let reported = -1;
  try {
    for await (const part of source) {
      const buf = part as Buffer;
      const completed = indexer.update(buf);
      pending.push(buf);
      for (const ref of completed) await batch.add(ref.digest, pending.take(ref.length));
      read += buf.length;
      const percent = size === 0 ? 99 : Math.min(99, Math.floor((read / size) * 100));
      if (percent >= reported + 2) {
        reported = percent;
        await onProgress(percent);
      }
    }
    const index = indexer.finish();
    if (pending.length > 0) {
      const last = index.chunks[index.chunks.length - 1]!;
      await batch.add(last.digest, pending.take(last.length));
    }
    await batch.commit();
    if (index.layerDigest !== digest || index.layerSize !== size) {
      return fail(
        `stored bytes do not match the layer (sha256 ${index.layerDigest}, ${index.layerSize} bytes)`,
      );
    }
    const indexDigest = chunkIndexDigest(index);
    await blobs.put(encodeChunkIndex(index), { digest: indexDigest });
    await db.layer.updateMany({
      where: { id: layerId, status: { not: 'READY' } },
      data: {
        status: 'READY',
        chunkIndexDigest: storedDigest(indexDigest),
        chunkCount: index.chunks.length,
        error: null,
      },
    });
    await onProgress(100);
    return {
      status: 'READY',
      alreadyIndexed: false,
      chunkCount: index.chunks.length,
      chunkIndexDigest: indexDigest,
    };
  } finally {
    source.destroy();
    await batch.abort();
  }
}

/** After the job's last attempt failed: record why, so the page shows it and a re-index can be asked for. */
export async function markIndexFailed(db: PrismaClient, layerId: string, error: string): Promise<void> {
  await db.layer.updateMany({
    where: { id: layerId, status: { not: 'READY' } },
    data: { status: 'FAILED', error: error.slice(0, 2000) },
  });
}
