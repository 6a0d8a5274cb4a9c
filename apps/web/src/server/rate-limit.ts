import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { getRedis } from './redis';
import { logger } from './logger';

/**
 * Failed sign-in counter per (email, client address) in Redis, so every web replica sees the same
 * count. After MAX_FAILURES failures within the window further attempts are refused until the window,
 * which restarts with each failure, runs out. A success clears the counter.
 */
export const MAX_FAILURES = 5;
export const WINDOW_SECONDS = 15 * 60;

function key(email: string, ip: string | null): string {
  const digest = createHash('sha256')
    .update(`${email}\u0000${ip ?? '-'}`)
    .digest('hex')
    .slice(0, 32);
  return `bootpt:signin-failures:${digest}`;
}

export interface SignInLimiter {
  isBlocked(email: string, ip: string | null): Promise<boolean>;
  recordFailure(email: string, ip: string | null): Promise<void>;
  reset(email: string, ip: string | null): Promise<void>;
}

/**
 * The shared connection refuses commands until it is connected (no offline queue), so the first
 * sign-in after start waits briefly for it instead of skipping the check.
 */
async function redis(): Promise<Redis> {
  const r = getRedis();
  if (r.status === 'ready') return r;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready (${r.status})`)), 2000);
    r.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return r;
}

/** Redis unavailable: sign-in keeps working (logged), rather than locking every user out. */
export const redisSignInLimiter: SignInLimiter = {
  async isBlocked(email, ip) {
    try {
      const count = Number((await (await redis()).get(key(email, ip))) ?? 0);
      return count >= MAX_FAILURES;
    } catch (err) {
      logger.warn({ err }, 'sign-in rate limiter unavailable');
      return false;
    }
  },
  async recordFailure(email, ip) {
    try {
      await (await redis()).multi().incr(key(email, ip)).expire(key(email, ip), WINDOW_SECONDS).exec();
    } catch (err) {
      logger.warn({ err }, 'sign-in rate limiter unavailable');
    }
  },
  async reset(email, ip) {
    try {
      await (await redis()).del(key(email, ip));
    } catch (err) {
      logger.warn({ err }, 'sign-in rate limiter unavailable');
    }
  },
};
