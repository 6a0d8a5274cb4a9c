import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The daemon as an operator runs it, in loopback mode on ephemeral ports (no root, no namespaces):
 * configuration errors, start-up, /healthz and /metrics, a DHCP exchange over 127.0.0.1, SIGHUP reload
 * and the documented shutdown order on SIGTERM.
 */

const BIN = resolve(import.meta.dirname, 'bin/bootpt-agent.ts');

function launch(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, ...args], {
    env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): {
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
} {
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => err,
    exited,
  };
}

async function until<T>(probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function discover(port: number): Promise<Buffer> {
  const b = Buffer.alloc(300);
  b.set([1, 1, 6, 0, 0, 0, 0x12, 0x34]);
  b.set([2, 0, 0, 0, 0, 1], 28);
  b.writeUInt32BE(0x63825363, 236);
  b.set([53, 1, 1, 255], 240);
  const s = createSocket('udp4');
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolvePromise(m);
    });
    s.send(b, port, '127.0.0.1');
  });
}

describe('bootpt-agent daemon (loopback mode)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpt-agent-daemon-'));
    await writeFile(
      join(dir, 'site.json'),
      JSON.stringify({
        subnets: [{ id: 'demo', cidr: '10.214.250.0/24', profile: 'p' }],
        profiles: [{ id: 'p', bootFiles: { default: 'pxelinux.0' } }],
        hosts: [{ mac: '02:00:00:00:00:01', ip: '10.214.250.10' }],
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start without an interface and lists every configuration problem at once', async () => {
    const run = collect(launch([], { BOOTPT_AGENT_PORT: 'x', BOOTPT_AGENT_METRICS_PORT: '99999' }));
    expect(await run.exited).toBe(78);
    const text = run.stderr();
    expect(text).toMatch(/invalid agent configuration \(4 problems\)/);
    expect(text).toMatch(/BOOTPT_AGENT_PORT="x": not an integer/);
    expect(text).toMatch(/no interface named/);
    expect(text).toMatch(/metrics\.port \(from BOOTPT_AGENT_METRICS_PORT\)/);
    expect(text).toMatch(/backend/);
  });

  it('serves, reports health and metrics, reloads on SIGHUP and shuts down in order', async () => {
    const child = launch([], {
      BOOTPT_AGENT_LOOPBACK: '1',
      BOOTPT_AGENT_PORT: '0',
      BOOTPT_AGENT_METRICS_PORT: '0',
      BOOTPT_AGENT_BACKEND_FILE: join(dir, 'site.json'),
      BOOTPT_AGENT_DATA_DIR: join(dir, 'data'),
    });
    const run = collect(child);
    await until(() => run.lines().find((l) => l.msg === 'agent started'));
    const udpPort = run.lines().find((l) => l.msg === 'responder listening')!.port as number;
    const httpPort = (run.lines().find((l) => l.msg === 'metrics listening')!.address as { port: number })
      .port;

    const offer = await discover(udpPort);
    expect(offer[0]).toBe(2);
    expect([...offer.subarray(16, 20)]).toEqual([10, 214, 250, 10]);
    expect(offer.subarray(108, 118).toString()).toBe('pxelinux.0');

    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(
      /bootpt_agent_dhcp_requests_total\{client="dhcp",message="discover",outcome="offer"\} 1/,
    );
    expect(metrics).not.toMatch(/02:00:00:00:00:01|10\.214\.250\.10/);

    await writeFile(join(dir, 'site.json'), '{ not json');
    child.kill('SIGHUP');
    await until(() =>
      run.lines().find((l) => l.msg === 'site data reload failed; keeping the previous version'),
    );
    expect((await discover(udpPort))[0]).toBe(2);

    child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const order = run.lines().map((l) => l.msg);
    const at = (msg: string) => order.indexOf(msg);
    expect(at('shutdown requested')).toBeGreaterThan(at('agent started'));
    expect(at('agent stopping')).toBeGreaterThan(at('shutdown requested'));
    expect(at('agent stopped')).toBe(order.length - 1);
    const leases = JSON.parse(await readFile(join(dir, 'data', 'leases.json'), 'utf8')) as {
      version: number;
    };
    expect(leases.version).toBe(1);
  });
});
