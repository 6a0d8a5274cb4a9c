#!/usr/bin/env node
// Runs the Prisma CLI offline: `node scripts/prisma.mjs generate|validate|format [args]`.
// Prisma 7 downloads a native schema-engine binary for most commands, which fails without internet;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at a stub skips the download. Generation needs no engine.
// Migrations do need one, so they go through scripts/migrate-dev.mjs and scripts/db-deploy.mjs instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const SUPPORTED = new Set([
  'generate',
  'validate',
  'format',
  'version',
  '--version',
  '-v',
  'help',
  '--help',
  '-h',
]);
const [command = 'help', ...rest] = process.argv.slice(2);

if (!SUPPORTED.has(command)) {
  const hint =
    command.startsWith('migrate') || command.startsWith('db')
      ? ' (migrations: npm run db:migrate -- NAME to author one, npm run db:deploy to apply them)'
      : '';
  console.error(
    `prisma.mjs: "${command}" needs Prisma's native engine, which is not available offline${hint}`,
  );
  process.exit(2);
}

const cli = join(dirname(createRequire(import.meta.url).resolve('prisma/package.json')), 'build/index.js');
const result = spawnSync(process.execPath, [cli, command, ...rest], {
  cwd: ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'scripts/prisma-engine-stub.sh'),
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
if (result.error) {
  console.error(`prisma.mjs: could not run the Prisma CLI: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
