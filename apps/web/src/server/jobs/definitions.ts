import { z } from 'zod';

/**
 * Every background job is a definition: a queue name, a zod payload schema and (in the worker) an
 * idempotent handler. Producers validate before enqueueing; the worker validates again on receipt.
 */
export const QUEUE = 'bootpt';

export const jobSchemas = {
  'system.heartbeat': z.object({ at: z.string() }),
  /** Chunk a layer, store its chunks and chunk index in the blob store, mark it READY (idempotent). */
  'layer.index': z.object({ layerId: z.uuid() }),
  /** Expire abandoned upload sessions and delete their partial files and stray blob temp files. */
  'uploads.sweep': z.object({}),
} as const;

export type JobName = keyof typeof jobSchemas;
export type JobPayload<N extends JobName> = z.infer<(typeof jobSchemas)[N]>;

export const WORKER_HEARTBEAT_KEY = 'bootpt:worker:heartbeat';
