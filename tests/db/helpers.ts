import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCHEMA_PATH = join(ROOT, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = join(ROOT, 'prisma/migrations');

/**
 * The PostgreSQL server the tests use, from DATABASE_URL. The tests never start a server themselves:
 * `npm test` provides one; for a manual run point DATABASE_URL at any server where the user may create
 * databases (each test creates and drops its own).
 */
export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set: the tests in tests/db need a PostgreSQL server where they may create databases, e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:55432/bootpt_test npx vitest run --project integration tests/db',
    );
  }
  return url;
}

export function urlFor(database: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `fn` with a client on the server's `postgres` database. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function query<R extends pg.QueryResultRow>(
  databaseUrl: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A unique database name for one test (`bootpt_t_<label>_<random>`); `create: false` leaves creating it
 * to the code under test. `drop()` removes it and any shadow database named after it.
 */
export async function scratchDatabase(label: string, { create = true } = {}): Promise<ScratchDatabase> {
  const name = `bootpt_t_${label}_${randomBytes(4).toString('hex')}`;
  if (create) await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: urlFor(name),
    drop: () =>
      withAdmin(async (c) => {
        const { rows } = await c.query<{ datname: string }>(
          'SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2',
          [name, `${name}\\_shadow\\_%`],
        );
        for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }),
  };
}

/** Shadow databases left behind for `database` (there should be none once the engine is closed). */
export function leftoverShadowDatabases(database: string): Promise<string[]> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${database}\\_shadow\\_%`],
    );
    return rows.map((r) => r.datname);
  });
}

/** A temporary copy of the repository's migrations (and schema) for tests that change them. */
export async function scratchMigrations(): Promise<{
  dir: string;
  migrationsDir: string;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'bootpt-migrations-'));
  const migrationsDir = join(dir, 'migrations');
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  await cp(SCHEMA_PATH, join(dir, 'schema.prisma'));
  return { dir, migrationsDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Scratch databases and migration copies for the tests of the calling `describe`: each (and anything
 * given to `defer`) is removed after the test that made it, the last made first.
 */
export function scratchSpace(): {
  database: (label: string, options?: { create?: boolean }) => Promise<ScratchDatabase>;
  migrations: () => ReturnType<typeof scratchMigrations>;
  defer: (cleanup: () => Promise<void>) => void;
} {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    database: async (label, options) => {
      const db = await scratchDatabase(label, options);
      cleanups.push(() => db.drop());
      return db;
    },
    migrations: async () => {
      const copy = await scratchMigrations();
      cleanups.push(() => copy.cleanup());
      return copy;
    },
    defer: (cleanup) => void cleanups.push(cleanup),
  };
}
