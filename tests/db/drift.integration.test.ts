import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployMigrations } from '../../scripts/lib/migrate.mjs';
import {
  diffDatabaseToSchema,
  LOCKFILE_NAME,
  lockfileContent,
  readSchemaFiles,
  type SchemaFile,
} from '../../scripts/lib/schema-engine.mjs';
import { MIGRATIONS_DIR, SCHEMA_PATH, scratchDatabase, type ScratchDatabase } from './helpers.js';

/** The schema with one more column on `Site`, to prove the drift check can fail. */
function withExtraSiteColumn(files: SchemaFile[]): SchemaFile[] {
  const [file] = files;
  if (!file) throw new Error('no schema file');
  const marker = '  timezone    String   @default("UTC") @db.VarChar(64)\n';
  if (!file.content.includes(marker)) throw new Error('Site.timezone not found: update this test');
  return [
    {
      ...file,
      content: file.content.replace(marker, `${marker}  driftProbe  String?  @map("drift_probe")\n`),
    },
  ];
}

describe('migrations and schema.prisma', () => {
  let db: ScratchDatabase;
  let schemaFiles: SchemaFile[];

  beforeAll(async () => {
    db = await scratchDatabase('drift');
    schemaFiles = await readSchemaFiles(SCHEMA_PATH);
    await deployMigrations(db.url, MIGRATIONS_DIR);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('have not drifted apart: the migrated database diffs empty against the schema', async () => {
    expect(await diffDatabaseToSchema(db.url, schemaFiles)).toBe('');
  });

  it('would be caught drifting: one extra field in the schema gives a non-empty diff', async () => {
    const diff = await diffDatabaseToSchema(db.url, withExtraSiteColumn(schemaFiles));
    expect(diff).toMatch(/ALTER TABLE "sites" ADD COLUMN\s+"drift_probe" TEXT/);
  });

  it('come with the lock file prisma migrate writes', async () => {
    expect(await readFile(join(MIGRATIONS_DIR, LOCKFILE_NAME), 'utf8')).toBe(lockfileContent('postgresql'));
  });
});
