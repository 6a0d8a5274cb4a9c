import { join } from 'node:path';
import { isDigest, type ChunkingParams, type Digest } from '@bootpt/protocol';
import { env } from '../../env';
import { DomainError } from '../api/errors';
import { FsBlobStore, type BlobStore } from './blob-store';
import { parseKeyEncryptionKey } from './key-crypto';
import { createBullIndexQueue } from './queue';

/**
 * What the image services need besides the database: the blob store, the indexing queue and the
 * key-encryption key. Built once from the environment; tests substitute their own with `setImageDeps`.
 */
export interface IndexQueue {
  /** Enqueues `layer.index` for a layer (a no-op when a job for it is already waiting or running). */
  enqueue(layerId: string): Promise<void>;
  /** The running job's progress in percent, or null when no job is known. */
  progress(layerId: string): Promise<number | null>;
  close?(): Promise<void>;
}

export interface ImageDeps {
  blobs: BlobStore;
  /** Where upload sessions keep their partial files (same filesystem as the blob store: renames). */
  uploadDir: string;
  queue: IndexQueue;
  kek: () => Buffer;
  /** Chunking parameters for newly indexed layers (recorded in each chunk index). */
  chunking: Partial<ChunkingParams>;
}

/** min = avg/4, max = avg*4, the protocol's normalization. */
export function chunkingFor(avgSize: number): Partial<ChunkingParams> {
  return { minSize: avgSize / 4, avgSize, maxSize: avgSize * 4 };
}

const holder = globalThis as typeof globalThis & { __bootptImageDeps?: ImageDeps };

export function setImageDeps(deps: ImageDeps | undefined): void {
  holder.__bootptImageDeps = deps;
}

export function getImageDeps(): ImageDeps {
  if (holder.__bootptImageDeps) return holder.__bootptImageDeps;
  const dir = env().BOOTPT_BLOB_DIR;
  if (!dir) {
    throw new DomainError('BAD_REQUEST', 'BOOTPT_BLOB_DIR is not configured: images cannot be stored');
  }
  let kek: Buffer | undefined;
  holder.__bootptImageDeps = {
    blobs: new FsBlobStore(dir),
    uploadDir: join(dir, 'uploads'),
    queue: createBullIndexQueue(),
    kek: () => (kek ??= parseKeyEncryptionKey(env().BOOTPT_KEY_ENCRYPTION_KEY)),
    chunking: chunkingFor(env().BOOTPT_CHUNK_AVG_SIZE),
  };
  return holder.__bootptImageDeps;
}

/** Database columns hold digests as `sha256:<hex>`; the protocol and the blob store use bare hex. */
export function storedDigest(hex: Digest): string {
  return `sha256:${hex}`;
}

export function bareDigest(stored: string): Digest {
  const hex = stored.startsWith('sha256:') ? stored.slice(7) : stored;
  if (!isDigest(hex)) throw new Error(`malformed stored digest ${stored.slice(0, 80)}`);
  return hex;
}

/** Accepts `sha256:<hex>` or bare hex from callers; null when neither. */
export function parseDigestInput(text: string): Digest | null {
  const hex = text
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
  return isDigest(hex) ? hex : null;
}
