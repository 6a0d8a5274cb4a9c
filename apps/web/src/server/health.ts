import { getDb } from './db/client';
import { getRedis } from './redis';

export interface DependencyState {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<DependencyState> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The state of the database and Redis, probed concurrently with a bounded wait each. */
export async function checkHealth(timeoutMs = 2000) {
  const [database, redis] = await Promise.all([
    probe(() => getDb().$queryRaw`SELECT 1`, timeoutMs),
    probe(() => getRedis().ping(), timeoutMs),
  ]);
  return { status: database.ok && redis.ok ? ('ok' as const) : ('degraded' as const), database, redis };
}
