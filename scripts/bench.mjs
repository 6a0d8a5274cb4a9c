#!/usr/bin/env node
// `npm run bench [-- NAME ...] [--quick]`: runs the benchmarks in tests/bench/*.bench.ts side by side with
// their peers, prints figures and ratios, and writes tests/bench/results/latest.json.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { provision, stopStartedServices } from './lib/provision.mjs';
import { ensureTestPackages } from './lib/test-deps.mjs';
import { ROOT } from './lib/services.mjs';
import { runMain, step } from './lib/log.mjs';

await runMain(async () => {
  ensureTestPackages({ bench: true });
  const prov = await provision({ fast: true, databaseName: 'bootpt_bench', doBuild: true });
  step('Running benchmarks');
  const res = spawnSync(
    'npx',
    ['tsx', '--conditions=source', join(ROOT, 'tests/bench/run.ts'), ...process.argv.slice(2)],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: prov.databaseUrl,
        REDIS_URL: prov.redisUrl.replace(/\/?$/, '/2'),
        NEXTAUTH_SECRET: prov.secrets.NEXTAUTH_SECRET,
        BOOTPT_KEY_ENCRYPTION_KEY: prov.secrets.BOOTPT_KEY_ENCRYPTION_KEY,
        LOG_LEVEL: 'warn',
      },
    },
  );
  stopStartedServices(prov.services);
  process.exit(res.status ?? 1);
});
