import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrismaClient } from '../../generated/prisma/client';
import { parseKeyEncryptionKey } from './key-crypto';
import { FsBlobStore } from './blob-store';
import { chunkingFor, setImageDeps, type ImageDeps } from './deps';
import { indexStoredLayer } from './indexing';

/**
 * Image-pipeline dependencies for tests: a temporary blob directory and an in-process queue that
 * records what was enqueued (tests run the indexer themselves, or with `runQueued`).
 */
export interface TestImageDeps extends ImageDeps {
  blobs: FsBlobStore;
  enqueued: string[];
  runQueued(db: PrismaClient): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createTestImageDeps(): Promise<TestImageDeps> {
  const dir = await mkdtemp(join(tmpdir(), 'bootpt-images-'));
  const blobs = new FsBlobStore(join(dir, 'blobs'));
  const enqueued: string[] = [];
  const kek = parseKeyEncryptionKey(
    process.env.BOOTPT_KEY_ENCRYPTION_KEY ?? randomBytes(32).toString('base64url'),
  );
  const deps: TestImageDeps = {
    blobs,
    uploadDir: join(dir, 'uploads'),
    enqueued,
    kek: () => kek,
    chunking: chunkingFor(16384),
    queue: {
      enqueue: async (layerId) => {
        enqueued.push(layerId);
      },
      progress: async () => null,
    },
    async runQueued(db) {
      while (enqueued.length > 0)
        await indexStoredLayer(db, blobs, enqueued.shift()!, undefined, deps.chunking);
    },
    async cleanup() {
      setImageDeps(undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  setImageDeps(deps);
  return deps;
}
