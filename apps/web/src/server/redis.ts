import { Redis } from 'ioredis';
import { env } from '../env';

const globalForRedis = globalThis as unknown as { bootptRedis?: Redis };

/** The shared Redis connection for request handlers (BullMQ workers open their own). */
export function getRedis(): Redis {
  globalForRedis.bootptRedis ??= new Redis(env().REDIS_URL, {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    enableOfflineQueue: false,
  });
  return globalForRedis.bootptRedis;
}

/** A connection suitable for BullMQ (it requires maxRetriesPerRequest: null). */
export function createQueueConnection(): Redis {
  return new Redis(env().REDIS_URL, { maxRetriesPerRequest: null });
}
