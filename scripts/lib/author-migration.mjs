// The `prisma migrate dev` flow on the WASM schema engine: bring the development database up to date,
// draft the migration from the schema, write it in Prisma's folder format and apply it.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDatabase, MigrationError } from './migrate.mjs';
import {
  LOCKFILE_NAME,
  lockfileContent,
  NO_FILTER,
  openSchemaEngine,
  readMigrationsList,
  readSchemaFiles,
} from './schema-engine.mjs';

/** The directory-name part Prisma derives from a migration name (lower-case words joined by `_`). */
export function slugifyMigrationName(name) {
  return name
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase()
    .slice(0, 200);
}

const feedback = (items) => items.map((item) => item.message.trim()).join(' / ');

async function writeMigration(migrationsDir, created) {
  const dir = join(migrationsDir, created.generatedMigrationName);
  if (existsSync(dir)) throw new MigrationError(`the migration directory already exists: ${dir}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `migration.${created.extension}`);
  await writeFile(file, created.migrationScript, 'utf8');
  await writeFile(join(migrationsDir, LOCKFILE_NAME), lockfileContent(created.connectorType), 'utf8');
  return file;
}

/**
 * Authors the next migration. Options: `databaseUrl` (development database, created when missing),
 * `schemaPath`, `migrationsDir`, `name`, `createOnly` (write without applying), `acceptDataLoss`,
 * `reset` (drop the dev database's contents when it drifted from the migrations), `log`.
 *
 * Returns `{ created, applied }`: the path of the written migration.sql (null when already in sync) and
 * the migration names applied to the development database.
 */
export async function authorMigration({
  databaseUrl,
  schemaPath,
  migrationsDir,
  name = '',
  createOnly = false,
  acceptDataLoss = false,
  reset = false,
  debug = false,
  log = () => undefined,
}) {
  if (!databaseUrl) throw new MigrationError('DATABASE_URL is not set: point it at the development database');
  const migrationName = slugifyMigrationName(name);
  if (await ensureDatabase(databaseUrl)) log('created the development database');

  const schemaFiles = await readSchemaFiles(schemaPath);
  const engine = await openSchemaEngine({ databaseUrl, schemaFiles, debug });
  const applied = [];
  const migrationsList = () => readMigrationsList(migrationsDir);
  const applyPending = async () => {
    const { appliedMigrationNames } = await engine.run('applyMigrations', {
      migrationsList: await migrationsList(),
      filters: NO_FILTER,
    });
    for (const appliedName of appliedMigrationNames) log(`applied ${appliedName}`);
    applied.push(...appliedMigrationNames);
  };
  try {
    const { action } = await engine.run('devDiagnostic', {
      migrationsList: await migrationsList(),
      filters: NO_FILTER,
    });
    if (action.tag === 'reset') {
      const reason = action.reason.replace(/\s+/g, ' ').trim();
      if (!reset) {
        throw new MigrationError(
          `the development database must be reset: ${reason} Re-run with --reset to drop all its data.`,
        );
      }
      await engine.run('reset', { filter: NO_FILTER });
      log('reset the development database');
    }
    await applyPending();

    // The engine wires up the shadow database only when devDiagnostic gets as far as its drift check,
    // which it skips while migrations are pending; without this second call, evaluateDataLoss and
    // createMigration fail with "PostgreSQL shadow DB must be provided through an external factory".
    if (applied.length > 0) {
      await engine.run('devDiagnostic', { migrationsList: await migrationsList(), filters: NO_FILTER });
    }
    const evaluation = await engine.run('evaluateDataLoss', {
      migrationsList: await migrationsList(),
      schema: { files: schemaFiles },
      filters: NO_FILTER,
    });
    if (evaluation.migrationSteps === 0 && !createOnly) {
      log('already in sync: no schema change and no pending migration');
      return { created: null, applied };
    }
    if (!migrationName) throw new MigrationError('the schema changed: give the migration a name');
    if (evaluation.unexecutableSteps.length > 0 && !createOnly) {
      throw new MigrationError(
        `the migration cannot run on the existing rows: ${feedback(evaluation.unexecutableSteps)} Use --create-only and edit it, or --reset.`,
      );
    }
    if (evaluation.warnings.length > 0 && !acceptDataLoss && !createOnly) {
      throw new MigrationError(
        `the migration would lose data: ${feedback(evaluation.warnings)} Re-run with --accept-data-loss, or with --create-only to edit it first.`,
      );
    }
    const created = await engine.run('createMigration', {
      draft: true,
      migrationName,
      migrationsList: await migrationsList(),
      schema: { files: schemaFiles },
      filters: NO_FILTER,
    });
    const file = await writeMigration(migrationsDir, created);
    log(`wrote ${file}`);
    if (createOnly) {
      log('not applied (--create-only): edit it if needed, then run again to apply it');
    } else {
      await applyPending();
    }
    return { created: file, applied };
  } finally {
    await engine.close();
  }
}
