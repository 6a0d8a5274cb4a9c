import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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
