import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { decodeTftp, encodeTftp } from '@bootpt/protocol/tftp/index';
import type { TftpOption, TftpPacket } from '@bootpt/protocol/tftp/index';
import { TestLan } from '../../../../tests/lib/netns.js';
import type { NetnsProcess } from '../../../../tests/lib/netns.js';

/**
 * Test helpers for the TFTP integration tests (test-only; not imported by the service).
 */

const SERVE = resolve(import.meta.dirname, '../../../../tests/tftp/serve.ts');

/** Starts `tests/tftp/serve.ts` (the TFTP service alone) in a namespace; resolves once it is bound. */
export async function startTftpServer(
  lan: TestLan,
  namespace: string,
  config: Record<string, unknown>,
  logLevel = 'warn',
): Promise<NetnsProcess> {
  const proc = lan.spawn(
    namespace,
    [process.execPath, '--conditions=source', '--import', 'tsx', SERVE, JSON.stringify(config)],
    { env: { ...process.env, NODE_NO_WARNINGS: '1', TFTP_LOG_LEVEL: logLevel, TFTP_PRINT_METRICS: '1' } },
  );
  await proc.waitForOutput('tftp ready', 20_000);
  return proc;
}

/**
 * The unicast data paths the integration tests run against: the native lock-step add-on (`required`: a
 * missing add-on fails the test rather than skipping it) and pure JS.
 */
export const DATA_PATHS = [
  { path: 'native', nativeFastPath: 'required' },
  { path: 'js', nativeFastPath: 'off' },
] as const;

/**
 * Starts `tests/tftp/serve.ts` on loopback in a child process (prom-client does not load under vitest);
 * `stop()` sends SIGTERM and returns its stdout, which ends with the metrics.
 */
export async function startLoopbackServer(
  config: object,
): Promise<{ port: number; stop: () => Promise<string> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', SERVE, JSON.stringify(config)],
    {
      env: { ...process.env, NODE_NO_WARNINGS: '1', TFTP_PRINT_METRICS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.on('data', () => {
      const m = /tftp ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    });
    child.on('close', () => rej(new Error(`server exited: ${out}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      return out;
    },
  };
}

export interface Received {
  packet: TftpPacket;
  port: number;
}

/** A raw TFTP datagram client on loopback: sends packets, queues what it receives (decoded). */
export class RawClient {
  readonly socket: Socket;
  private readonly queue: Received[] = [];
  private waiter: (() => void) | undefined;

  constructor(options: { port?: number; reuse?: boolean } = {}) {
    this.socket = createSocket({ type: 'udp4', reuseAddr: options.reuse ?? false });
    this.socket.on('message', (msg, rinfo) => {
      const d = decodeTftp(msg);
      if (d.ok) this.queue.push({ packet: d.value, port: rinfo.port });
      this.waiter?.();
    });
  }

  bind(port = 0, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve) => this.socket.bind(port, address, () => resolve()));
  }

  send(packet: TftpPacket, port: number): void {
    this.socket.send(encodeTftp(packet), port, '127.0.0.1');
  }

  /** Next packet, or null after `ms`. */
  async next(ms = 1000): Promise<Received | null> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  close(): void {
    this.socket.close();
  }
}

export const rrq = (filename: string, options: TftpOption[] = [], mode = 'octet'): TftpPacket => ({
  opcode: 'RRQ',
  filename,
  mode,
  options,
});

export interface GroupLan {
  readonly lan: TestLan;
  readonly server: NetnsProcess;
  /** Scratch directory: the served files are under `root/`, clients write next to it. */
  readonly work: string;
  /** SHA-256 of the served file. */
  readonly digest: string;
  /** Destroys the LAN and the scratch directory. */
  readonly destroy: () => Promise<void>;
}

/**
 * A LAN of four hosts with multicast routes, a pseudo-random `file` of `size` octets and the TFTP service
 * (debug logs, so hand-overs show) on host 1 with a 300 ms retransmission timeout.
 */
export async function startGroupLan(opts: {
  readonly subnet: string;
  readonly tag: string;
  readonly file: string;
  readonly size: number;
  readonly seed: number;
}): Promise<GroupLan> {
  const work = mkdtempSync(join(tmpdir(), `bpt-${opts.tag}-`));
  mkdirSync(join(work, 'root'));
  const body = pseudoRandom(opts.size, opts.seed);
  writeFileSync(join(work, 'root', opts.file), body);
  const lan = await TestLan.create({ subnet: opts.subnet, hosts: 4, tag: opts.tag });
  for (const h of lan.hosts) lan.addMulticastRoute(h);
  const server = await startTftpServer(
    lan,
    lan.host(1).namespace,
    {
      interfaces: ['eth0'],
      root: join(work, 'root'),
      retry: { timeoutMs: 300, maxTimeoutMs: 1000, maxRetries: 8 },
    },
    'debug',
  );
  const destroy = async (): Promise<void> => {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  return { lan, server, work, digest: sha256(body), destroy };
}

/** Registers `beforeAll`/`afterAll` for a `startGroupLan` fixture; call the result inside a test. */
export function useGroupLan(opts: Parameters<typeof startGroupLan>[0]): () => GroupLan {
  let fixture: GroupLan | undefined;
  beforeAll(async () => {
    fixture = await startGroupLan(opts);
  }, 60_000);
  afterAll(async () => {
    await fixture?.destroy();
  });
  return () => {
    if (!fixture) throw new Error('group LAN not started');
    return fixture;
  };
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A deterministic pseudo-random file body (xorshift), so failures reproduce. */
export function pseudoRandom(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Sum of a metric's samples whose labels include all of `labels` (Prometheus text format). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) have.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(m[4]);
  }
  return total;
}
