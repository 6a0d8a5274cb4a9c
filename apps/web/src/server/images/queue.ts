import { Queue } from 'bullmq';
import { QUEUE } from '../jobs/definitions';
import { createQueueConnection } from '../redis';
import type { IndexQueue } from './deps';

/** BullMQ job ids may not contain ':'; one id per layer makes re-enqueueing a no-op while it waits. */
export function indexJobId(layerId: string): string {
  return `layer-index-${layerId}`;
}

/** The producer side of `layer.index` (the worker runs the handler in `./indexing.ts`). */
export function createBullIndexQueue(): IndexQueue {
  let queue: Queue | undefined;
  const q = () => (queue ??= new Queue(QUEUE, { connection: createQueueConnection() }));
  return {
    async enqueue(layerId) {
      const jobId = indexJobId(layerId);
      const existing = await q().getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized')
          return;
        // A finished job keeps its id: remove it so a re-index (after a failure) can be queued.
        await existing.remove().catch(() => undefined);
      }
      await q().add(
        'layer.index',
        { layerId },
        {
          jobId,
          attempts: 5,
          backoff: { type: 'exponential', delay: 2_000 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
    },
    async close() {
      await queue?.close();
      queue = undefined;
    },
    async progress(layerId) {
      const job = await q().getJob(indexJobId(layerId));
      if (!job) return null;
      return typeof job.progress === 'number' ? job.progress : null;
    },
  };
}
