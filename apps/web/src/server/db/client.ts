import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';

/**
 * The one place that creates the Prisma client (adapter-pg; Prisma 7 needs no engine binary at runtime).
 * Plain TypeScript with no Next.js imports, so the web app and the worker share it.
 *
 * One client per process: in development the instance is kept on `globalThis` so Next.js hot reloads
 * reuse it instead of opening a new connection pool on every edit.
 */
const cache = globalThis as typeof globalThis & { __bootptDb?: { url: string; client: PrismaClient } };

export class DatabaseUrlMissingError extends Error {
  constructor() {
    super('DATABASE_URL is not set: point it at the PostgreSQL database (postgresql://user@host:port/db)');
    this.name = 'DatabaseUrlMissingError';
  }
}

/** Creates a client of its own (tests, one-off scripts); the caller disconnects it. */
export function createDb(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
}

/**
 * The process-wide client for `databaseUrl` (default: `DATABASE_URL`). Asking for another URL than the
 * cached client's is a programming error, so it throws rather than silently switching databases.
 */
export function getDb(databaseUrl: string | undefined = process.env.DATABASE_URL): PrismaClient {
  if (!databaseUrl) throw new DatabaseUrlMissingError();
  const cached = cache.__bootptDb;
  if (cached) {
    if (cached.url !== databaseUrl) {
      throw new Error(
        'getDb() was already initialised with a different database URL; call disconnectDb() first',
      );
    }
    return cached.client;
  }
  const client = createDb(databaseUrl);
  cache.__bootptDb = { url: databaseUrl, client };
  return client;
}

/** Closes the process-wide client's pool, if one was created. Safe to call more than once. */
export async function disconnectDb(): Promise<void> {
  const cached = cache.__bootptDb;
  cache.__bootptDb = undefined;
  await cached?.client.$disconnect();
}
