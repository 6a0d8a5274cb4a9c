#!/usr/bin/env node
// `prisma migrate dev` without the native engine: authors the next migration from prisma/schema.prisma
// with Prisma's WASM schema engine (scripts/lib/schema-engine.mjs) and applies it to the development
// database.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:54329/bootpt node scripts/migrate-dev.mjs NAME
//     --create-only       write the migration without applying it (edit it, then run again)
//     --accept-data-loss  go ahead when the migration drops or narrows data
//     --reset             empty the development database when it drifted from the migrations
//
// Needs a running PostgreSQL where the user may create databases: the engine replays the migrations on
// a throwaway shadow database to compute the difference. DEBUG_SCHEMA_ENGINE=1 prints the engine's log.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorMigration } from './lib/author-migration.mjs';
import { MigrationError } from './lib/migrate.mjs';
import { lastEnginePanic, SchemaEngineError } from './lib/schema-engine.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const FLAGS = { '--create-only': 'createOnly', '--accept-data-loss': 'acceptDataLoss', '--reset': 'reset' };
const USAGE = `usage: node scripts/migrate-dev.mjs NAME [${Object.keys(FLAGS).join('] [')}]`;

function fail(message) {
  console.error(`migrate-dev: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = {};
  const words = [];
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!arg.startsWith('--')) words.push(arg);
    else if (FLAGS[arg]) options[FLAGS[arg]] = true;
    else fail(`unknown option ${arg}; ${USAGE}`);
  }
  return { ...options, name: words.join(' ') };
}

// An engine panic surfaces as an uncaught exception from inside the WASM glue, not as a rejection.
process.on('uncaughtException', (error) => {
  const panic = lastEnginePanic();
  if (panic) fail(`the schema engine panicked: ${panic.split('\n').slice(0, 2).join(' ')}`);
  console.error(error);
  process.exit(1);
});

try {
  await authorMigration({
    ...parseArgs(process.argv.slice(2)),
    databaseUrl: process.env.DATABASE_URL,
    schemaPath: join(ROOT, 'prisma/schema.prisma'),
    migrationsDir: join(ROOT, 'prisma/migrations'),
    debug: Boolean(process.env.DEBUG_SCHEMA_ENGINE),
    log: (line) => console.log(line.replaceAll(`${ROOT}/`, '')),
  });
} catch (error) {
  if (error instanceof MigrationError || error instanceof SchemaEngineError) fail(error.message);
  throw error;
}
