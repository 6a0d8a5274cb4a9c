// Local PostgreSQL and Redis for a single machine (ARCHITECTURE decision 9): with no configuration the
// project runs its own servers on non-default ports in a project-local directory (kept across restarts);
// given DATABASE_URL / REDIS_URL it uses those instead and never starts anything.
import { existsSync, mkdirSync, readdirSync, chownSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { capture, run, which } from './proc.mjs';
import { info, step, UserError } from './log.mjs';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const DATA_DIR = process.env.BOOTPT_DATA_DIR ?? join(ROOT, '.data');
export const PG_PORT = Number(process.env.BOOTPT_PG_PORT ?? 54329);
export const REDIS_PORT = Number(process.env.BOOTPT_REDIS_PORT ?? 63799);

const isRoot = process.getuid?.() === 0;
let aptUpdated = false;

/** Installs Debian packages whose commands are missing (root only; otherwise one clear error). */
export function ensureDebianPackages(wanted) {
  const missing = wanted.filter(({ check }) => !check());
  if (missing.length === 0) return;
  const names = missing.map((m) => m.pkg);
  if (!isRoot) {
    throw new UserError(
      `missing system packages: ${names.join(', ')}. Install them (sudo apt-get install -y ${names.join(' ')}) or run as root.`,
    );
  }
  step(`Installing Debian packages: ${names.join(', ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq'], { env, quiet: true, what: 'apt-get update' });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], {
    env,
    quiet: true,
    what: `apt-get install ${names.join(' ')}`,
  });
}

export function postgresBinDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

export const systemPackages = {
  postgres: { pkg: 'postgresql', check: () => postgresBinDir() !== null },
  redis: { pkg: 'redis-server', check: () => which('redis-server') },
};

/** Resolves when a TCP connection to host:port succeeds, rejects after `timeoutMs`. */
export function tcpReachable(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Sends PING to a Redis URL and resolves true on +PONG. */
async function redisPing(url, timeoutMs = 1500) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port || 6379) });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => {
      const auth = u.password ? `AUTH ${decodeURIComponent(u.password)}\r\n` : '';
      sock.write(`${auth}PING\r\n`);
    });
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) done(true);
      else if (buf.startsWith('-')) done(false);
    });
  });
}

function pgCtl(bin, args, what) {
  const cmd = join(bin, 'pg_ctl');
  return isRoot
    ? run('runuser', ['-u', 'postgres', '--', cmd, ...args], { quiet: true, what })
    : run(cmd, args, { quiet: true, what });
}

function pgDirs() {
  const dir = join(DATA_DIR, 'postgres');
  return { dir, data: join(dir, 'data'), sock: join(dir, 'run'), log: join(dir, 'postgres.log') };
}

/**
 * Starts the project's own PostgreSQL if it is not already running. Returns { url, started }.
 * `fast` (tests only) turns fsync off; a real deployment never does that.
 */
export async function startLocalPostgres({ fast = false } = {}) {
  ensureDebianPackages([systemPackages.postgres]);
  const bin = postgresBinDir();
  const { dir, data, sock, log } = pgDirs();
  const url = `postgresql://postgres@127.0.0.1:${PG_PORT}`;
  if (await tcpReachable('127.0.0.1', PG_PORT, 500)) {
    if (existsSync(join(data, 'postmaster.pid'))) return { url, started: false };
    throw new UserError(
      `port ${PG_PORT} is taken by a server this project did not start. Set BOOTPT_PG_PORT to a free port or DATABASE_URL to use that server.`,
    );
  }
  mkdirSync(sock, { recursive: true });
  if (isRoot) {
    const pw = capture('id', ['-u', 'postgres']);
    if (pw.status !== 0)
      throw new UserError('the postgres system user is missing; reinstall the postgresql package');
    const uid = Number(pw.stdout.trim());
    const gid = Number(capture('id', ['-g', 'postgres']).stdout.trim());
    for (const p of [DATA_DIR, dir, sock])
      chownSync(p, isRoot && p === DATA_DIR ? 0 : uid, isRoot && p === DATA_DIR ? 0 : gid);
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    step(`Creating PostgreSQL data directory ${data}`);
    const args = ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale'];
    const initdb = join(bin, 'initdb');
    if (isRoot) run('runuser', ['-u', 'postgres', '--', initdb, ...args], { quiet: true, what: 'initdb' });
    else run(initdb, args, { quiet: true, what: 'initdb' });
  }
  const opts = [`-p ${PG_PORT}`, `-k ${sock}`, '-c listen_addresses=127.0.0.1', '-c max_connections=200'];
  if (fast) opts.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  pgCtl(
    bin,
    ['-D', data, '-l', log, '-w', '-t', '60', '-o', opts.join(' '), 'start'],
    `PostgreSQL (log: ${log})`,
  );
  info(`PostgreSQL on 127.0.0.1:${PG_PORT} (data ${data})`);
  return { url, started: true };
}

export function stopLocalPostgres() {
  const bin = postgresBinDir();
  const { data } = pgDirs();
  if (!bin || !existsSync(join(data, 'postmaster.pid'))) return;
  pgCtl(bin, ['-D', data, '-m', 'fast', '-w', 'stop'], 'stopping PostgreSQL');
}

function redisPaths() {
  const dir = join(DATA_DIR, 'redis');
  return { dir, pid: join(dir, 'redis.pid'), log: join(dir, 'redis.log') };
}

export async function startLocalRedis() {
  ensureDebianPackages([systemPackages.redis]);
  const { dir, pid, log } = redisPaths();
  const url = `redis://127.0.0.1:${REDIS_PORT}`;
  if (await redisPing(url, 500)) {
    if (existsSync(pid)) return { url, started: false };
    throw new UserError(
      `port ${REDIS_PORT} is taken by a server this project did not start. Set BOOTPT_REDIS_PORT to a free port or REDIS_URL to use that server.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  run(
    'redis-server',
    [
      '--port',
      String(REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'yes',
      '--pidfile',
      pid,
      '--dir',
      dir,
      '--logfile',
      log,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { quiet: true, what: `redis-server (log: ${log})` },
  );
  for (let i = 0; i < 50; i++) {
    if (await redisPing(url, 300)) {
      info(`Redis on 127.0.0.1:${REDIS_PORT} (data ${dir})`);
      return { url, started: true };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new UserError(`Redis did not answer on port ${REDIS_PORT}; see ${log}`);
}

export function stopLocalRedis() {
  const { pid } = redisPaths();
  if (!existsSync(pid)) return;
  const n = Number(readFileSync(pid, 'utf8').trim());
  try {
    if (n > 0) process.kill(n, 'SIGTERM');
  } catch {
    /* already gone */
  }
  writeFileSync(pid, '');
}

function describe(url) {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || '(default port)'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Resolves the database server and Redis to use. Given URLs must be reachable (one clear error line
 * otherwise); missing ones are started locally. Returns URLs and what this call started.
 */
export async function ensureServices({ fast = false } = {}) {
  const out = {
    startedPostgres: false,
    startedRedis: false,
    databaseServerUrl: null,
    databaseUrl: null,
    redisUrl: null,
  };
  if (process.env.DATABASE_URL) {
    let u;
    try {
      u = new URL(process.env.DATABASE_URL);
    } catch {
      throw new UserError('DATABASE_URL is not a valid URL (expected postgresql://user:pass@host:port/db)');
    }
    if (!(await tcpReachable(u.hostname, Number(u.port || 5432), 3000))) {
      throw new UserError(
        `DATABASE_URL (${describe(process.env.DATABASE_URL)}) is unreachable: start that PostgreSQL server, fix DATABASE_URL, or unset it to let this project run its own.`,
      );
    }
    out.databaseUrl = process.env.DATABASE_URL;
  } else {
    const pg = await startLocalPostgres({ fast });
    out.startedPostgres = pg.started;
    out.databaseServerUrl = pg.url;
  }
  if (process.env.REDIS_URL) {
    if (!(await redisPing(process.env.REDIS_URL, 3000))) {
      throw new UserError(
        `REDIS_URL (${describe(process.env.REDIS_URL)}) does not answer PING: start that Redis server, fix REDIS_URL, or unset it to let this project run its own.`,
      );
    }
    out.redisUrl = process.env.REDIS_URL;
  } else {
    const r = await startLocalRedis();
    out.startedRedis = r.started;
    out.redisUrl = r.url;
  }
  return out;
}
