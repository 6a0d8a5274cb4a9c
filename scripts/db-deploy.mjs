#!/usr/bin/env node
// Applies pending prisma/migrations to DATABASE_URL (creating the database if needed) with plain pg, the
// way `prisma migrate deploy` would. See scripts/lib/migrate.mjs for the rules.
//
//   DATABASE_URL=postgresql://user@host:port/db node scripts/db-deploy.mjs [MIGRATIONS_DIR]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployMigrations, MigrationError } from './lib/migrate.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const migrationsDir = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'prisma/migrations');

try {
  const { applied, created, unknown } = await deployMigrations(process.env.DATABASE_URL, migrationsDir, {
    log: (line) => console.log(line),
  });
  if (created) console.log('created the database');
  for (const name of unknown) {
    console.warn(`warning: ${name} is recorded as applied but is not in ${migrationsDir}`);
  }
  console.log(applied.length > 0 ? `applied ${applied.length} migration(s)` : 'database is up to date');
} catch (error) {
  if (!(error instanceof MigrationError)) throw error;
  console.error(`db-deploy: ${error.message}`);
  process.exit(1);
}
