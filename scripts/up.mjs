#!/usr/bin/env node
// `npm run up`: brings the whole system up on this machine with no configuration.
// Installs what is missing, starts (or reuses) PostgreSQL and Redis, migrates, seeds a demo on first
// run, builds, then runs the web app, the worker and one demo agent until Ctrl-C.
import { join } from 'node:path';
import { provision, stopStartedServices } from './lib/provision.mjs';
import { ROOT, DATA_DIR, ensureDebianPackages, tcpReachable } from './lib/services.mjs';
import { run, startChild, stopChild } from './lib/proc.mjs';
import { info, runMain, step, UserError, warn } from './lib/log.mjs';
import { startDemoAgent } from './lib/demo-agent.mjs';
import { nativeBuildPackages } from './lib/test-deps.mjs';

const PORT = Number(process.env.PORT ?? 3000);

async function waitForHealth(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new UserError(`the web app did not become healthy at ${url} within ${timeoutMs / 1000} s: ${last}`);
}

let stopping = false;

await runMain(async () => {
  if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535)
    throw new UserError(`PORT must be a port number, got "${process.env.PORT}"`);
  if (await tcpReachable('127.0.0.1', PORT, 300)) {
    throw new UserError(
      `port ${PORT} is already in use: stop what is listening there or set PORT to a free port`,
    );
  }
  const started = Date.now();
  // g++, make, python3 for the optional native TFTP add-on; without root its build is skipped (JS path).
  if (process.getuid?.() === 0) ensureDebianPackages(nativeBuildPackages);
  const { services, databaseUrl, redisUrl, secrets } = await provision({ databaseName: 'bootpt' });
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://localhost:${PORT}`,
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? secrets.NEXTAUTH_SECRET,
    BOOTPT_KEY_ENCRYPTION_KEY: process.env.BOOTPT_KEY_ENCRYPTION_KEY ?? secrets.BOOTPT_KEY_ENCRYPTION_KEY,
    BOOTPT_BLOB_DIR: process.env.BOOTPT_BLOB_DIR ?? join(DATA_DIR, 'blobs'),
    PORT: String(PORT),
  };

  const children = [];
  const stopAll = async () => {
    step('Stopping');
    await Promise.all(children.reverse().map((c) => stopChild(c)));
    stopStartedServices(services);
    info('stopped; data kept in ' + DATA_DIR);
  };
  try {
    await runSystem(env, children, stopAll, started, { databaseUrl, redisUrl });
  } catch (err) {
    stopping = true;
    await stopAll();
    throw err;
  }
});

async function runSystem(env, children, stopAll, started, { databaseUrl, redisUrl }) {
  step('Seeding the demo (first run only)');
  run('node', [join(ROOT, 'apps/web/dist/seed.js')], { env, what: 'seed' });

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      void stopAll().then(() => process.exit(0));
    });
  }

  step('Starting the web app, the worker and the demo agent');
  const web = startChild('web', 'npx', ['next', 'start', '-p', String(PORT)], {
    cwd: join(ROOT, 'apps/web'),
    env: { ...env, BOOTPT_SERVICE: 'web' },
  });
  children.push(web);
  const worker = startChild('worker', 'node', ['dist/worker.js'], {
    cwd: join(ROOT, 'apps/web'),
    env: { ...env, BOOTPT_SERVICE: 'worker' },
  });
  children.push(worker);
  const agent = await startDemoAgent(env);
  if (agent) children.push(agent.child);
  for (const c of children) {
    c.once('exit', (code, signal) => {
      if (!stopping) warn(`a process exited (pid ${c.pid}, code ${code ?? signal}); stopping everything`);
      if (!stopping) process.kill(process.pid, 'SIGTERM');
    });
  }
  await waitForHealth(`http://127.0.0.1:${PORT}/api/health`, 60_000);
  console.log('');
  step(`BOOTP Turbo is up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  info(`web:       http://localhost:${PORT}  (sign in at /login)`);
  info(`database:  ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}`);
  info(`redis:     ${redisUrl.replace(/:[^:@/]*@/, ':***@')}`);
  if (agent) info(`agent:     ${agent.describe}`);
  info(`data:      ${DATA_DIR}`);
  info('Ctrl-C stops everything this command started.');
}
