#!/usr/bin/env node
// `npm test`: the same provisioning as `npm run up` (against a separate test database), then lint,
// format check, typecheck, unit, integration and end-to-end tests, and one summary line.
// `npm test -- --only unit,integration` runs a subset of phases; extra args after `--` go to vitest.
import { readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { provision, stopStartedServices } from './lib/provision.mjs';
import { ensureTestPackages } from './lib/test-deps.mjs';
import { DATA_DIR, ROOT } from './lib/services.mjs';
import { info, runMain, step } from './lib/log.mjs';

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1].split(',')) : null;
const want = (phase) => !only || only.has(phase);

function testDatabaseUrl(services, databaseUrl) {
  if (!services.databaseUrl) return databaseUrl;
  // A given DATABASE_URL is the user's data: tests use a sibling database with a _test suffix.
  const u = new URL(databaseUrl);
  u.pathname = `${u.pathname.replace(/^\//, '') || 'bootpt'}_test`;
  return u.toString();
}

function timed(name, cmd, cmdArgs, env) {
  step(name);
  const t0 = Date.now();
  const res = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  info(`${name}: ${res.status === 0 ? 'ok' : `FAILED (exit ${res.status})`} in ${secs} s`);
  return res.status === 0;
}

await runMain(async () => {
  const t0 = Date.now();
  ensureTestPackages();
  const prov = await provision({
    fast: true,
    databaseName: 'bootpt_test',
    doBuild: want('build') || want('e2e'),
  });
  // Provision the real test database name (the first migrate ran against it already when local).
  const databaseUrl = testDatabaseUrl(prov.services, prov.databaseUrl);
  if (databaseUrl !== prov.databaseUrl) {
    const { deployMigrations } = await import('./lib/migrate.mjs');
    await deployMigrations(databaseUrl, join(ROOT, 'prisma/migrations'));
  }
  const redis = new URL(prov.redisUrl);
  redis.pathname = '/1'; // tests use Redis database 1, leaving 0 to `npm run up`
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.toString(),
    NEXTAUTH_SECRET: prov.secrets.NEXTAUTH_SECRET,
    BOOTPT_KEY_ENCRYPTION_KEY: prov.secrets.BOOTPT_KEY_ENCRYPTION_KEY,
    BOOTPT_TEST_DATABASE_SERVER_URL: prov.services.databaseServerUrl ?? '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };

  const results = {};
  if (want('lint'))
    results.lint = timed('Lint (eslint, typed)', 'npx', ['eslint', '--max-warnings=0', '.'], env);
  if (want('format'))
    results.format = timed(
      'Format (prettier --check)',
      'npx',
      ['prettier', '--check', '--log-level=warn', '.'],
      env,
    );
  if (want('typecheck')) {
    results.typecheck =
      timed(
        'Typecheck (workspaces)',
        'npx',
        ['turbo', 'run', 'typecheck', '--output-logs=errors-only'],
        env,
      ) && timed('Typecheck (root: tests, config)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], env);
  }
  const reportDir = join(DATA_DIR, 'test-reports');
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const passthrough = onlyIdx >= 0 ? args.filter((_, i) => i !== onlyIdx && i !== onlyIdx + 1) : args;
  for (const project of ['unit', 'integration', 'e2e']) {
    if (!want(project)) continue;
    results[project] = timed(
      `Tests: ${project}`,
      'npx',
      [
        'vitest',
        'run',
        '--project',
        project,
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${join(reportDir, `${project}.json`)}`,
        ...passthrough,
      ],
      env,
    );
  }

  let passed = 0,
    failed = 0,
    skipped = 0;
  for (const project of ['unit', 'integration', 'e2e']) {
    const f = join(reportDir, `${project}.json`);
    if (!existsSync(f)) continue;
    const r = JSON.parse(readFileSync(f, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
  stopStartedServices(prov.services);
  const failedPhases = Object.entries(results)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  console.log('');
  info(
    `phases: ${Object.entries(results)
      .map(([k, ok]) => `${k} ${ok ? 'ok' : 'FAILED'}`)
      .join(', ')}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`,
  );
  console.log(
    `tests: ${passed} passed, ${failed + failedPhases.filter((p) => !['unit', 'integration', 'e2e'].includes(p)).length} failed, ${skipped} skipped`,
  );
  process.exit(failedPhases.length ? 1 : 0);
});
