// Shared provisioning for `npm run up` and `npm test`: Node dependencies, local services, the Prisma
// client, migrations and the build. Each step is idempotent and cheap when there is nothing to do.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, ROOT, ensureServices, stopLocalPostgres, stopLocalRedis } from './services.mjs';
import { run } from './proc.mjs';
import { info, step } from './log.mjs';

export const toolEnv = {
  PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'scripts/prisma-engine-stub.sh'),
  PRISMA_QUERY_ENGINE_LIBRARY: join(ROOT, 'scripts/prisma-engine-stub.sh'),
  PRISMA_SKIP_POSTINSTALL_GENERATE: '1',
  CHECKPOINT_DISABLE: '1',
  TURBO_TELEMETRY_DISABLED: '1',
  NEXT_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};
Object.assign(process.env, toolEnv);

const sha = (data) => createHash('sha256').update(data).digest('hex');

/** `npm install` with the committed lockfile when node_modules is missing or older than the lockfile. */
export function ensureNodeModules() {
  const lock = join(ROOT, 'package-lock.json');
  const stamp = join(ROOT, 'node_modules', '.bootpt-lock-sha256');
  const want = sha(readFileSync(lock));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  step('Installing npm packages (npm install with the committed lockfile)');
  // `npm ci` fails against a registry without every platform's optional packages; install keeps the lock.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, what: 'npm install' });
  writeFileSync(stamp, want);
}

/** Generates the Prisma client when the schema changed since the last generation. */
export function ensurePrismaClient() {
  const schema = join(ROOT, 'prisma/schema.prisma');
  const stamp = join(ROOT, 'apps/web/src/generated/.schema-sha256');
  const want = sha(readFileSync(schema));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  step('Generating the Prisma client');
  run('node', ['scripts/prisma.mjs', 'generate'], { cwd: ROOT, quiet: true, what: 'prisma generate' });
  mkdirSync(join(ROOT, 'apps/web/src/generated'), { recursive: true });
  writeFileSync(stamp, want);
}

export async function migrate(databaseUrl) {
  step('Applying database migrations');
  const { deployMigrations } = await import('./migrate.mjs');
  const res = await deployMigrations(databaseUrl, join(ROOT, 'prisma/migrations'));
  info(res?.applied?.length ? `applied: ${res.applied.join(', ')}` : 'database is up to date');
}

export function build() {
  step('Building (turbo: protocol, agent, web)');
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: ROOT, what: 'build' });
}

/** Secrets generated once per checkout and kept in the data directory (never committed). */
export function localSecrets() {
  const file = join(DATA_DIR, 'secrets.json');
  mkdirSync(DATA_DIR, { recursive: true });
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = {
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
    BOOTPT_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Database URL for a named database on the resolved server (local server) or DATABASE_URL as given. */
export function databaseUrlFor(services, name) {
  if (services.databaseUrl) return services.databaseUrl;
  return `${services.databaseServerUrl}/${name}`;
}

export async function provision({ fast = false, databaseName = 'bootpt', doBuild = true } = {}) {
  ensureNodeModules();
  step('Checking PostgreSQL and Redis');
  const services = await ensureServices({ fast });
  const databaseUrl = databaseUrlFor(services, databaseName);
  try {
    ensurePrismaClient();
    await migrate(databaseUrl);
    if (doBuild) build();
  } catch (err) {
    // Leave nothing running that this call started when a later step fails.
    stopStartedServices(services);
    throw err;
  }
  return { services, databaseUrl, redisUrl: services.redisUrl, secrets: localSecrets() };
}

/** Stops the local PostgreSQL and Redis if (and only if) `ensureServices` started them. */
export function stopStartedServices(services) {
  if (services.startedRedis) stopLocalRedis();
  if (services.startedPostgres) stopLocalPostgres();
}
