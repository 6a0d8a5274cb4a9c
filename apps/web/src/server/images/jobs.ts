import type { Job } from 'bullmq';
import { getDb } from '../db/client';
import { logger } from '../logger';
import { FsBlobStore } from './blob-store';
import { getImageDeps } from './deps';
import { indexStoredLayer, markIndexFailed } from './indexing';
import { sweepExpiredUploads } from './uploads';

/** Worker-side handlers of the image jobs (`layer.index`, `uploads.sweep`); payloads already validated. */
export async function runImageJob(
  name: 'layer.index' | 'uploads.sweep',
  payload: unknown,
  job: Job,
): Promise<unknown> {
  const db = getDb();
  const deps = getImageDeps();
  if (name === 'uploads.sweep') {
    const expired = await sweepExpiredUploads(db, deps);
    const temps = deps.blobs instanceof FsBlobStore ? await deps.blobs.sweepTemp() : 0;
    return { expired, temps };
  }
  const { layerId } = payload as { layerId: string };
  try {
    const outcome = await indexStoredLayer(
      db,
      deps.blobs,
      layerId,
      (p) => job.updateProgress(p),
      deps.chunking,
    );
    logger.info({ job: job.name, layerId, outcome }, 'layer indexed');
    return outcome;
  } catch (err) {
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts) await markIndexFailed(db, layerId, (err as Error).message);
    throw err;
  }
}
