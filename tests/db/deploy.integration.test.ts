import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  checksumOf,
  deployMigrations,
  listMigrations,
  MigrationError,
  needsOwnTransaction,
  PRISMA_MIGRATE_LOCK_ID,
} from '../../scripts/lib/migrate.mjs';
import {
  NO_FILTER,
  openSchemaEngine,
  readMigrationsList,
  readSchemaFiles,
} from '../../scripts/lib/schema-engine.mjs';
import { MIGRATIONS_DIR, query, ROOT, SCHEMA_PATH, scratchSpace } from './helpers.js';

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const history = (url: string) =>
  query<MigrationRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name');

const tableShape = (url: string) =>
  query(
    url,
    `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
  );

describe('deployMigrations', () => {
  const { database: scratch, migrations: migrationsCopy, defer } = scratchSpace();

  it('creates the database, applies every migration once and records them as Prisma does', async () => {
    const db = await scratch('deploy', { create: false });
    const local = await listMigrations(MIGRATIONS_DIR);
    expect(local.length).toBeGreaterThan(0);

    const first = await deployMigrations(db.url, MIGRATIONS_DIR);
    expect(first).toEqual({ applied: local.map((m) => m.name), created: true, unknown: [] });
    const second = await deployMigrations(db.url, MIGRATIONS_DIR);
    expect(second).toEqual({ applied: [], created: false, unknown: [] });

    const rows = await history(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(local.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      const file = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.checksum).toBe(local[i]?.checksum);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row).toMatchObject({ logs: null, rolled_back_at: null, applied_steps_count: 1 });
      expect(row.finished_at?.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
  });

  it("matches the bookkeeping of Prisma's own engine, which accepts our history as up to date", async () => {
    const ours = await scratch('ours');
    const theirs = await scratch('theirs');
    await deployMigrations(ours.url, MIGRATIONS_DIR);

    const schemaFiles = await readSchemaFiles(SCHEMA_PATH);
    const engine = await openSchemaEngine({ databaseUrl: theirs.url, schemaFiles });
    try {
      const list = await readMigrationsList(MIGRATIONS_DIR);
      await engine.run('applyMigrations', { migrationsList: list, filters: NO_FILTER });
    } finally {
      await engine.close();
    }
    expect(await tableShape(ours.url)).toEqual(await tableShape(theirs.url));
    const pick = (rows: MigrationRow[]) =>
      rows.map(({ checksum, migration_name, logs, rolled_back_at, applied_steps_count, finished_at }) => ({
        checksum,
        migration_name,
        logs,
        rolled_back_at,
        applied_steps_count,
        finished: finished_at !== null,
      }));
    expect(pick(await history(ours.url))).toEqual(pick(await history(theirs.url)));

    const check = await openSchemaEngine({ databaseUrl: ours.url, schemaFiles });
    try {
      const list = await readMigrationsList(MIGRATIONS_DIR);
      const diagnosis = await check.run('diagnoseMigrationHistory', {
        migrationsList: list,
        optInToShadowDatabase: false,
        filters: NO_FILTER,
      });
      expect(diagnosis).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], history: null });
      const again = await check.run('applyMigrations', { migrationsList: list, filters: NO_FILTER });
      expect(again.appliedMigrationNames).toEqual([]);
    } finally {
      await check.close();
    }
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    const db = await scratch('edited');
    const copy = await migrationsCopy();
    const [first] = await listMigrations(copy.migrationsDir);
    if (!first) throw new Error('no migrations');
    await deployMigrations(db.url, copy.migrationsDir);
    await appendFile(first.path, '\n-- edited after deploy\n');

    await expect(deployMigrations(db.url, copy.migrationsDir)).rejects.toThrow(MigrationError);
    await expect(deployMigrations(db.url, copy.migrationsDir)).rejects.toThrow(
      new RegExp(`migration ${first.name} was modified after it was applied`),
    );
  });

  it('rolls back a failing migration, records nothing, and applies it once fixed', async () => {
    const db = await scratch('failing');
    const copy = await migrationsCopy();
    await deployMigrations(db.url, copy.migrationsDir);
    const dir = join(copy.migrationsDir, '29991231000000_broken');
    await mkdir(dir);
    const file = join(dir, 'migration.sql');
    await writeFile(file, 'CREATE TABLE "probe" ("id" INTEGER);\nSELECT "nope" FROM "missing";\n');

    await expect(deployMigrations(db.url, copy.migrationsDir)).rejects.toThrow(
      /29991231000000_broken failed and was rolled back.*relation "missing" does not exist \[42P01\] \(line 2\)/,
    );
    expect(await query(db.url, `SELECT to_regclass('probe') AS t`)).toEqual([{ t: null }]);
    expect((await history(db.url)).map((r) => r.migration_name)).not.toContain('29991231000000_broken');

    await writeFile(file, 'CREATE TABLE "probe" ("id" INTEGER);\n');
    expect((await deployMigrations(db.url, copy.migrationsDir)).applied).toEqual(['29991231000000_broken']);
  });

  it('refuses to go on while a failed migration is recorded', async () => {
    const db = await scratch('failed');
    const copy = await migrationsCopy();
    await deployMigrations(db.url, copy.migrationsDir);
    const dir = join(copy.migrationsDir, '29991231000000_own_transaction');
    await mkdir(dir);
    // BEGIN/COMMIT in the script: it runs outside our transaction, the way Prisma runs migrations.
    await writeFile(
      join(dir, 'migration.sql'),
      'BEGIN;\nCREATE TABLE "probe" ("id" INTEGER);\nCOMMIT;\nSELECT 1/0;\n',
    );

    await expect(deployMigrations(db.url, copy.migrationsDir)).rejects.toThrow(/is recorded as failed/);
    const failed = (await history(db.url)).find((r) => r.migration_name === '29991231000000_own_transaction');
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(failed?.logs).toMatch(/division by zero/);

    await expect(deployMigrations(db.url, copy.migrationsDir)).rejects.toThrow(
      /migration 29991231000000_own_transaction is recorded as failed in _prisma_migrations/,
    );
  });

  it('waits for the migration lock another run holds, and gives up with a clear message', async () => {
    const db = await scratch('locked');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    defer(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_ID]);

    await expect(deployMigrations(db.url, MIGRATIONS_DIR, { lockTimeoutMs: 300 })).rejects.toThrow(
      /another migration run has held the migration lock/,
    );
    const waiting = deployMigrations(db.url, MIGRATIONS_DIR, { lockTimeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    expect((await waiting).applied.length).toBeGreaterThan(0);
  });

  it('refuses a database that has tables but no migration history', async () => {
    const db = await scratch('unbaselined');
    await query(db.url, 'CREATE TABLE legacy (id INTEGER)');
    await expect(deployMigrations(db.url, MIGRATIONS_DIR)).rejects.toThrow(
      /has tables but no _prisma_migrations/,
    );
  });

  it('reports an unreachable server in one line naming DATABASE_URL, without a stack trace', () => {
    const res = spawnSync(process.execPath, ['scripts/db-deploy.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'postgresql://postgres:secret@127.0.0.1:1/nowhere' },
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      'db-deploy: cannot connect to PostgreSQL at postgresql://postgres:***@127.0.0.1:1/nowhere (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:1',
    ]);
  });

  it('knows which scripts must run outside a transaction', () => {
    expect(needsOwnTransaction('-- CreateTable\nCREATE TABLE "a" ("id" INTEGER);')).toBe(false);
    expect(needsOwnTransaction('BEGIN;\nALTER TYPE "x" RENAME TO "y";\nCOMMIT;')).toBe(true);
    expect(needsOwnTransaction('CREATE INDEX CONCURRENTLY "i" ON "a" ("id");')).toBe(true);
    expect(needsOwnTransaction('DO $$\nBEGIN\n  PERFORM 1;\nEND $$;')).toBe(false);
    expect(needsOwnTransaction('-- BEGIN;\nSELECT 1;')).toBe(false);
    expect(checksumOf('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
