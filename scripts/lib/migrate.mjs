// Applies prisma/migrations/*/migration.sql to a PostgreSQL database with plain `pg` (no Prisma engine),
// keeping the `_prisma_migrations` bookkeeping exactly as `prisma migrate deploy` writes it, so a machine
// with Prisma's native engine can take over the same database and folder at any time.
//
// Differences from `prisma migrate deploy`, all on the safe side:
// - Each migration runs in a transaction together with its bookkeeping row, so a failing migration leaves
//   nothing behind and is not recorded. Scripts that manage transactions themselves (BEGIN/COMMIT, which
//   Prisma emits when it rebuilds an enum) or use CONCURRENTLY cannot run inside one; they run like
//   Prisma runs every migration: row first, script, then the row is finished or marked failed.
// - A migration whose file changed after it was applied is refused (Prisma's deploy does not check).
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { databaseNameOf, isConnectError, redactUrl, withDatabase } from './pg-url.mjs';

export const MIGRATIONS_TABLE = '_prisma_migrations';
/** The advisory lock Prisma's engine takes around migrations: we and it exclude each other. */
export const PRISMA_MIGRATE_LOCK_ID = 72707369;
const CONNECT_TIMEOUT_MS = 10_000;

/** The DDL Prisma's schema engine uses for its bookkeeping table on PostgreSQL. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE "${MIGRATIONS_TABLE}" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** A problem the person running the command can fix; printed as one line without a stack trace. */
export class MigrationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** SHA-256 (hex) of the migration file's bytes: Prisma's `checksum` column. */
export const checksumOf = (sql) => createHash('sha256').update(sql, 'utf8').digest('hex');

/** Local migrations in the order Prisma applies them (directory name order). */
export async function listMigrations(migrationsDir) {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  const migrations = [];
  for (const name of dirs) {
    const path = join(migrationsDir, name, 'migration.sql');
    const sql = await readFile(path, 'utf8').catch(() => {
      throw new MigrationError(`migration directory ${name} has no readable migration.sql (${path})`);
    });
    migrations.push({ name, path, sql, checksum: checksumOf(sql) });
  }
  return migrations;
}

/**
 * True when the script controls transactions itself or uses statements Postgres refuses inside a
 * transaction block. Comments are ignored; statements are recognised at the start of a line.
 */
export function needsOwnTransaction(sql) {
  const code = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return (
    /^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\s*;/im.test(code) ||
    /\bCONCURRENTLY\b/i.test(code) ||
    /^\s*(VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM)\b/im.test(code)
  );
}

function connectProblem(databaseUrl, error) {
  return new MigrationError(
    `cannot connect to PostgreSQL at ${redactUrl(databaseUrl)} (DATABASE_URL): ${error.message || error.code}`,
  );
}

async function connect(databaseUrl) {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => undefined); // a dropped idle connection surfaces on the next query instead
  await client.connect();
  return client;
}

function assertSupportedUrl(databaseUrl) {
  if (!databaseUrl) {
    throw new MigrationError('DATABASE_URL is not set (expected postgresql://user@host:port/database)');
  }
  let schema;
  try {
    databaseNameOf(databaseUrl);
    schema = new URL(databaseUrl).searchParams.get('schema');
  } catch (error) {
    throw new MigrationError(error.message);
  }
  if (schema && schema !== 'public') {
    throw new MigrationError(`DATABASE_URL selects schema "${schema}"; only the public schema is supported`);
  }
}

/**
 * Connects to the database, creating it first (through the server's `postgres` database) when it does
 * not exist. Returns `{ client, created }`.
 */
export async function connectCreatingDatabase(databaseUrl) {
  assertSupportedUrl(databaseUrl);
  try {
    return { client: await connect(databaseUrl), created: false };
  } catch (error) {
    if (error.code !== '3D000') {
      if (isConnectError(error)) throw connectProblem(databaseUrl, error);
      throw error;
    }
  }
  const name = databaseNameOf(databaseUrl);
  let admin;
  try {
    admin = await connect(withDatabase(databaseUrl, 'postgres'));
  } catch (error) {
    if (isConnectError(error) || error.code === '3D000') throw connectProblem(databaseUrl, error);
    throw error;
  }
  try {
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    if (error.code !== '42P04') {
      throw new MigrationError(
        `database "${name}" does not exist and could not be created: ${error.message}`,
      );
    }
  } finally {
    await admin.end();
  }
  return { client: await connect(databaseUrl), created: true };
}

/** Creates the database named in `databaseUrl` if it does not exist; returns true when it created it. */
export async function ensureDatabase(databaseUrl) {
  const { client, created } = await connectCreatingDatabase(databaseUrl);
  await client.end();
  return created;
}

function lineOf(sql, position) {
  const offset = Number(position);
  if (!Number.isInteger(offset) || offset < 1) return '';
  return ` (line ${sql.slice(0, offset - 1).split('\n').length})`;
}

const describePgError = (error, sql) =>
  `${error.message}${error.code ? ` [${error.code}]` : ''}${lineOf(sql, error.position)}`;

async function readHistory(client) {
  const { rows } = await client.query(`SELECT to_regclass('"${MIGRATIONS_TABLE}"') IS NOT NULL AS present`);
  if (!rows[0].present) return null;
  const history = await client.query(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM "${MIGRATIONS_TABLE}" ORDER BY started_at, migration_name`,
  );
  return history.rows;
}

async function schemaHasTables(client) {
  const { rows } = await client.query(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')`,
  );
  return rows[0].n > 0;
}

/** Takes Prisma's migration lock, waiting up to `timeoutMs` for another run (ours or Prisma's) to finish. */
async function acquireMigrationLock(client, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [
      PRISMA_MIGRATE_LOCK_ID,
    ]);
    if (rows[0].locked) return;
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `another migration run has held the migration lock (advisory lock ${PRISMA_MIGRATE_LOCK_ID}) for ${Math.round(timeoutMs / 1000)} s; try again when it has finished`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function applyInTransaction(client, migration) {
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, date_trunc('milliseconds', clock_timestamp()), 0)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      `UPDATE "${MIGRATIONS_TABLE}" SET finished_at = date_trunc('milliseconds', clock_timestamp()), applied_steps_count = 1
        WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
      [migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(
      `migration ${migration.name} failed and was rolled back, nothing was recorded: ${describePgError(error, migration.sql)}`,
    );
  }
}

async function applyOutsideTransaction(client, migration) {
  const id = randomUUID();
  await client.query(
    `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, date_trunc('milliseconds', clock_timestamp()), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query(migration.sql);
  } catch (error) {
    const described = describePgError(error, migration.sql);
    await client.query(`UPDATE "${MIGRATIONS_TABLE}" SET logs = $2 WHERE id = $1`, [id, described]);
    throw new MigrationError(
      `migration ${migration.name} failed and is recorded as failed (it manages its own transactions, so part of it may have been applied): ${described}`,
    );
  }
  await client.query(
    `UPDATE "${MIGRATIONS_TABLE}" SET finished_at = date_trunc('milliseconds', clock_timestamp()), applied_steps_count = 1 WHERE id = $1`,
    [id],
  );
}

/**
 * Applies the pending migrations of `migrationsDir` to `databaseUrl`, creating the database when it does
 * not exist. Idempotent; concurrent runs (several replicas starting at once) take turns on Prisma's
 * advisory lock. Refuses (MigrationError) when a recorded migration failed, when an applied
 * migration's file changed, or when the database has tables but no migration history.
 *
 * Returns `{ applied, created, unknown }`: names applied now, whether the database was created, and
 * names recorded in the database but missing from the directory.
 */
export async function deployMigrations(
  databaseUrl,
  migrationsDir,
  { log = () => undefined, lockTimeoutMs = 30_000 } = {},
) {
  const migrations = await listMigrations(migrationsDir);
  const { client, created } = await connectCreatingDatabase(databaseUrl);
  try {
    await acquireMigrationLock(client, lockTimeoutMs);
    let history = await readHistory(client);
    if (history === null) {
      if (migrations.length > 0 && (await schemaHasTables(client))) {
        throw new MigrationError(
          `database ${databaseNameOf(databaseUrl)} has tables but no ${MIGRATIONS_TABLE} table; baseline it first (see Prisma's "baselining" guide) or use an empty database`,
        );
      }
      await client.query(CREATE_MIGRATIONS_TABLE);
      history = [];
    }

    const failed = history.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} is recorded as failed in ${MIGRATIONS_TABLE}; repair the database, then mark it rolled back or applied (prisma migrate resolve) before deploying`,
      );
    }

    const applied = new Map();
    for (const row of history)
      if (row.finished_at !== null && row.rolled_back_at === null) applied.set(row.migration_name, row);
    for (const migration of migrations) {
      const row = applied.get(migration.name);
      if (row && row.checksum !== migration.checksum) {
        throw new MigrationError(
          `migration ${migration.name} was modified after it was applied (checksum ${row.checksum.slice(0, 12)}… recorded, ${migration.checksum.slice(0, 12)}… on disk); restore the file and put the change in a new migration`,
        );
      }
    }
    const local = new Set(migrations.map((m) => m.name));
    const unknown = [...applied.keys()].filter((name) => !local.has(name));

    const appliedNow = [];
    for (const migration of migrations.filter((m) => !applied.has(m.name))) {
      log(`applying ${migration.name}`);
      if (needsOwnTransaction(migration.sql)) await applyOutsideTransaction(client, migration);
      else await applyInTransaction(client, migration);
      appliedNow.push(migration.name);
    }
    return { applied: appliedNow, created, unknown };
  } catch (error) {
    if (!(error instanceof MigrationError) && isConnectError(error)) throw connectProblem(databaseUrl, error);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
