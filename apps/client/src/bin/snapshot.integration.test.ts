import { execFile, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateManifestKeyPair } from '@bootpt/protocol';
import { buildClientExecutable } from '../testing/lab.js';
import type { RuntimeProbe } from './main.js';

/**
 * The client executable (`dist/bootpt-client`) starts from a V8 startup snapshot made at build time:
 * whatever the client's modules (and pino, zod, the protocol codecs) computed at load is frozen into it
 * and the same in every start. These tests start the executable, freshly built the way `npm run build`
 * builds it, several times and check that what must differ per run does: randomness (V8's Math.random,
 * Node's crypto pool the DHCP xid is drawn from, as a loopback listener sees it), the clock
 * (`performance.now()` counts from this process's start), pid, argv, env, cwd, and log timestamps.
 */

const REPO = resolve(import.meta.dirname, '../../../..');
let dir: string;
let exe: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-snapshot-'));
  exe = join(dir, 'bootpt-client');
  buildClientExecutable(exe);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One start with BOOTPT_CLIENT_PROBE=1, timed by this process's clock around the spawn. */
function probe(
  argv: string[],
  value: string,
  cwd: string,
): { p: RuntimeProbe; pid: number; before: number; after: number } {
  const before = Date.now();
  const run = spawnSync(exe, argv, {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, BOOTPT_CLIENT_PROBE: '1', BOOTPT_CLIENT_PROBE_VALUE: value },
  });
  const after = Date.now();
  expect(run.status, run.stderr).toBe(0);
  return { p: JSON.parse(run.stdout) as RuntimeProbe, pid: run.pid, before, after };
}

describe('the client executable (startup snapshot)', () => {
  it('starts from the snapshot, and every start has its own randomness, clock, pid, argv, env and cwd', async () => {
    const other = await mkdtemp(join(dir, 'cwd-'));
    const a = probe(['--mac', 'one'], 'first', dir);
    // Past a millisecond boundary or two, so a clock frozen at the first start would show.
    await new Promise((r) => setTimeout(r, 30));
    const b = probe(['--mac=two', 'x'], 'second', other);

    // Both really ran from a snapshot: the builder's Date.now() at load is frozen into it, before
    // either start (a client loaded at run time would report kind 'script' and no builtAt).
    for (const { p, before } of [a, b]) {
      expect(p.entry.kind).toBe('snapshot');
      expect(p.entry.builtAt).toBeLessThan(before);
    }
    expect(b.p.entry.builtAt).toBe(a.p.entry.builtAt);

    // Randomness: V8 reseeds Math.random per start; Node's random pools (randomInt, randomUUID) are
    // empty in the snapshot (nothing drew from them at load).
    expect(b.p.random).not.toEqual(a.p.random);
    expect(new Set([...a.p.random, ...b.p.random]).size).toBe(8);
    expect(b.p.xid).not.toBe(a.p.xid);
    expect(b.p.uuid).not.toBe(a.p.uuid);

    for (const { p, pid, before, after } of [a, b]) {
      expect(p.pid).toBe(pid);
      expect(p.ppid).toBe(process.pid);
      expect(p.hostname).toBe(hostname());
      // The clock: the time origin is this start (after the spawn began, not at build time),
      // performance.now() counts from it, and a log line carries the wall time of this run.
      expect(p.timeOrigin).toBeGreaterThanOrEqual(before - 5);
      expect(p.timeOrigin).toBeLessThanOrEqual(after);
      expect(p.now).toBeGreaterThan(0);
      expect(p.now).toBeLessThanOrEqual(after - before + 5);
      expect(Math.abs(p.timeOrigin + p.now - p.date)).toBeLessThan(20);
      expect(p.logTime).toBeGreaterThanOrEqual(before - 5);
      expect(p.logTime).toBeLessThanOrEqual(after);
    }
    expect(a.p.argv).toEqual(['--mac', 'one']);
    expect(b.p.argv).toEqual(['--mac=two', 'x']);
    expect([a.p.env, b.p.env]).toEqual(['first', 'second']);
    expect([a.p.cwd, b.p.cwd]).toEqual([dir, other]);
  });

  it('draws a new DHCP xid at every start (the discovers a loopback listener receives)', async () => {
    const sock: Socket = createSocket('udp4');
    const xids: number[][] = [];
    sock.on('message', (m: Buffer) => {
      // BOOTP: op, htype, hlen, hops, then the 32-bit xid; one list per run (the listener is reset).
      if (m.length >= 240 && m[0] === 1) xids.at(-1)!.push(m.readUInt32BE(4));
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const key = generateManifestKeyPair().publicKeyRaw;
    const argv = [
      '--mac=52:54:00:bb:00:02',
      '--server=127.0.0.1',
      `--server-port=${sock.address().port}`,
      '--client-port=0',
      '--window-ms=50',
      '--max-rounds=1',
      `--trusted-key=${key}`,
      `--pin=${'ab'.repeat(32)}`,
      `--cache-dir=${join(dir, 'cache')}`,
      `--output-dir=${join(dir, 'out')}`,
      '--no-report',
      '--log-level=silent',
    ];
    try {
      for (let i = 0; i < 2; i++) {
        xids.push([]);
        // No server answers: one round of discovers, then the client gives up (exit 1).
        const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = execFile(exe, argv, { cwd: dir, timeout: 30_000 }, (_, __, stderr) =>
            resolve({ code: child.exitCode, stderr }),
          );
        });
        expect(run.code, run.stderr).toBe(1);
      }
    } finally {
      sock.close();
    }
    const [first, second] = xids as [number[], number[]];
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    // One xid per round (a burst repeats it), and the two starts' rounds differ.
    expect(new Set(first).size).toBe(1);
    expect(new Set(second).size).toBe(1);
    expect(second[0]).not.toBe(first[0]);
  });

  it('loads the TFTP group receive add-on shipped beside it (dist/tftp_receive.node), and runs without one', async () => {
    // The executable alone in a directory with no node_modules above it, then with the add-on beside it,
    // as `npm run build` leaves them in dist/ to be copied into an image together.
    const ship = await mkdtemp(join(dir, 'ship-'));
    const alone = join(ship, 'bootpt-client');
    await copyFile(exe, alone);
    await chmod(alone, 0o755);
    const receivePath = (): string => {
      const run = spawnSync(alone, [], {
        cwd: ship,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, BOOTPT_CLIENT_PROBE: '1' },
      });
      expect(run.status, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as RuntimeProbe).tftpReceive;
    };
    expect(receivePath()).toBe('js');
    // Built by @bootpt/tftp-native's build wherever a C compiler is (CI); without it only the first half runs.
    const built = join(REPO, 'packages/tftp-native/build/Release/tftp_receive.node');
    if (!existsSync(built)) return;
    await copyFile(built, join(ship, 'tftp_receive.node'));
    expect(receivePath()).toBe('native');
  });
});
