/**
 * The worker process: runs BullMQ job handlers (rollout orchestration, manifest signing, layer indexing,
 * telemetry roll-ups as later work adds them). Shutdown order: stop taking jobs → let running handlers
 * finish → close queue connections → disconnect the database → flush logs.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { env } from '../env';
import { logger } from '../server/logger';
import { createQueueConnection } from '../server/redis';
import { disconnectDb } from '../server/db/client';
import { jobSchemas, QUEUE, WORKER_HEARTBEAT_KEY, type JobName } from '../server/jobs/definitions';
import { runImageJob } from '../server/images/jobs';

async function handle(job: Job): Promise<unknown> {
  const name = job.name as JobName;
  const schema = jobSchemas[name];
  if (!schema) throw new Error(`unknown job ${job.name}`);
  const payload = schema.parse(job.data);
  switch (name) {
    case 'system.heartbeat':
      await job.updateProgress(100);
      return { at: (payload as { at: string }).at };
    case 'layer.index':
    case 'uploads.sweep':
      return runImageJob(name, payload, job);
  }
}

async function main() {
  env();
  const connection = createQueueConnection();
  const queue = new Queue(QUEUE, { connection: createQueueConnection() });
  const worker = new Worker(QUEUE, handle, { connection, concurrency: 4 });
  worker.on('failed', (job, err) => logger.error({ job: job?.name, id: job?.id, err }, 'job failed'));
  await queue.upsertJobScheduler(
    'uploads.sweep',
    { every: 15 * 60_000 },
    { name: 'uploads.sweep', data: {} },
  );
  await queue.upsertJobScheduler(
    'system.heartbeat',
    { every: 15_000 },
    { name: 'system.heartbeat', data: { at: new Date().toISOString() } },
  );

  const beat = setInterval(() => {
    void connection.set(WORKER_HEARTBEAT_KEY, new Date().toISOString(), 'EX', 60).catch(() => undefined);
  }, 5_000);
  await connection.set(WORKER_HEARTBEAT_KEY, new Date().toISOString(), 'EX', 60);
  logger.info({ queue: QUEUE }, 'worker started');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker stopping');
    clearInterval(beat);
    await worker.close();
    await queue.close();
    connection.disconnect();
    await disconnectDb();
    logger.info('worker stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, (err as Error).message);
  process.exit(1);
});
