import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorMigration } from '../../scripts/lib/author-migration.mjs';
import { deployMigrations, listMigrations } from '../../scripts/lib/migrate.mjs';
import { diffDatabaseToSchema, readSchemaFiles } from '../../scripts/lib/schema-engine.mjs';
import { leftoverShadowDatabases, MIGRATIONS_DIR, query, ROOT, scratchSpace } from './helpers.js';

const TIMEZONE_LINE = '  timezone    String   @default("UTC") @db.VarChar(64)\n';
const REGION_LINE = '  region      String?  @db.VarChar(100)\n';

describe('authoring migrations with the WASM schema engine (scripts/migrate-dev.mjs)', () => {
  const { database: scratch, migrations: migrationsCopy } = scratchSpace();

  it('brings the dev database up to date, then writes and applies a migration for a schema change', async () => {
    const dev = await scratch('dev', { create: false });
    const copy = await migrationsCopy();
    const schemaPath = join(copy.dir, 'schema.prisma');
    const options = { databaseUrl: dev.url, schemaPath, migrationsDir: copy.migrationsDir };
    const initial = (await listMigrations(copy.migrationsDir)).map((m) => m.name);

    expect(await authorMigration({ ...options, name: 'nothing' })).toEqual({
      created: null,
      applied: initial,
    });

    const schema = await readFile(schemaPath, 'utf8');
    await writeFile(schemaPath, schema.replace(TIMEZONE_LINE, TIMEZONE_LINE + REGION_LINE));
    const added = await authorMigration({ ...options, name: 'Add site region!' });
    expect(added.created).toMatch(/\/\d{14}_add_site_region\/migration\.sql$/);
    const sql = await readFile(added.created ?? '', 'utf8');
    expect(sql).toContain('ALTER TABLE "sites" ADD COLUMN     "region" VARCHAR(100);');
    expect(added.applied).toHaveLength(1);
    expect(
      await query(
        dev.url,
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'sites' AND column_name = 'region'`,
      ),
    ).toHaveLength(1);
    expect(await leftoverShadowDatabases(dev.name)).toEqual([]);

    // The authored folder deploys with plain pg and matches the changed schema exactly.
    const deployed = await scratch('authored');
    await deployMigrations(deployed.url, copy.migrationsDir);
    expect(await diffDatabaseToSchema(deployed.url, await readSchemaFiles(schemaPath))).toBe('');

    // Dropping the column with data in it needs consent; nothing is written without it.
    await query(
      dev.url,
      `INSERT INTO sites (id, name, region, updated_at) VALUES (gen_random_uuid(), 'x', 'eu', now())`,
    );
    await writeFile(schemaPath, schema);
    const before = await readdir(copy.migrationsDir);
    await expect(authorMigration({ ...options, name: 'drop region' })).rejects.toThrow(
      /would lose data: .*region/,
    );
    expect(await readdir(copy.migrationsDir)).toEqual(before);
    const dropped = await authorMigration({ ...options, name: 'drop region', acceptDataLoss: true });
    expect(await readFile(dropped.created ?? '', 'utf8')).toContain('DROP COLUMN "region"');
  });

  it('replays hand-written SQL with semicolons inside statements (function bodies) on the shadow database', async () => {
    const dev = await scratch('custom', { create: false });
    const copy = await migrationsCopy();
    const options = {
      databaseUrl: dev.url,
      schemaPath: join(copy.dir, 'schema.prisma'),
      migrationsDir: copy.migrationsDir,
    };

    const empty = await authorMigration({ ...options, name: 'custom function', createOnly: true });
    expect(empty.created).toMatch(/_custom_function\/migration\.sql$/);
    await writeFile(
      empty.created ?? '',
      `CREATE FUNCTION bootpt_probe(a integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE b integer;
BEGIN
  b := a + 1; -- a comment; with a semicolon
  RETURN b;
END;
$$;
COMMENT ON FUNCTION bootpt_probe(integer) IS 'text; with; semicolons';
`,
    );
    const applied = await authorMigration(options);
    expect(applied.created).toBeNull();
    expect(applied.applied).toEqual([empty.created?.split('/').at(-2)]);
    expect(await query(dev.url, 'SELECT bootpt_probe(41) AS v')).toEqual([{ v: 42 }]);

    // A later run replays every migration, the custom one included, on a fresh shadow database.
    expect(await authorMigration(options)).toEqual({ created: null, applied: [] });
    expect(await leftoverShadowDatabases(dev.name)).toEqual([]);
  });

  it('runs as a command against the repository schema', async () => {
    const dev = await scratch('cli', { create: false });
    const res = spawnSync(process.execPath, ['scripts/migrate-dev.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: dev.url },
    });
    const names = (await listMigrations(MIGRATIONS_DIR)).map((m) => `applied ${m.name}`);
    expect(res.stderr).toBe('');
    expect(res.stdout.trim().split('\n')).toEqual([
      'created the development database',
      ...names,
      'already in sync: no schema change and no pending migration',
    ]);
    expect(res.status).toBe(0);
  });
});
