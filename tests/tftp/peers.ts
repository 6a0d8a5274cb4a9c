/**
 * Reference TFTP servers and shared plumbing for the TFTP benchmarks: the agent's service
 * (`tests/tftp/serve.ts`), tftpd-hpa (extracted from its Debian package into `.data/cache/`, since it
 * conflicts with atftpd in apt) and atftpd, each started in a namespace of a test LAN.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { debianFile } from '../bench/lib.js';
import type { NetnsProcess, TestLan } from '../lib/netns.js';

const REPO = resolve(import.meta.dirname, '../..');
const SERVE = join(REPO, 'tests/tftp/serve.ts');
const CACHE = join(REPO, '.data/cache/tftpd-hpa');

export type ServerName = 'ours' | 'tftpd-hpa' | 'atftpd';

/** Path of tftpd-hpa's `in.tftpd`, unpacked from its .deb into the cache on first use. */
export function tftpdHpaBinary(): string | null {
  return debianFile('tftpd-hpa', 'usr/sbin/in.tftpd', join(CACHE, 'root')) ?? null;
}

export function atftpdBinary(): string | null {
  return existsSync('/usr/sbin/atftpd') ? '/usr/sbin/atftpd' : null;
}

export interface ServerOptions {
  readonly address: string;
  readonly root: string;
  /** atftpd / ours: multicast range for RFC 2090 groups. */
  readonly multicast?: { first: string; last: string };
  /** ours: further `tftp` config keys (e.g. `nativeFastPath`). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Starts one server on `address`:69 in `namespace`; resolves once it accepts requests. */
export async function startServer(
  lan: TestLan,
  namespace: string,
  name: ServerName,
  options: ServerOptions,
): Promise<NetnsProcess> {
  switch (name) {
    case 'ours': {
      const config = {
        enabled: true,
        interfaces: ['eth0'],
        root: options.root,
        maxBlksize: 65464,
        maxWindowsize: 64,
        maxTransfers: 4096,
        ...(options.multicast ? { multicast: { ...options.multicast, port: 1758, ttl: 1 } } : {}),
        ...options.config,
      };
      const proc = lan.spawn(
        namespace,
        [process.execPath, '--conditions=source', '--import', 'tsx', SERVE, JSON.stringify(config)],
        { env: { ...process.env, NODE_NO_WARNINGS: '1', TFTP_PRINT_METRICS: '1' } },
      );
      await proc.waitForOutput('tftp ready', 20_000);
      return proc;
    }
    case 'tftpd-hpa': {
      const bin = tftpdHpaBinary();
      if (!bin) throw new Error('tftpd-hpa unavailable');
      const proc = lan.spawn(namespace, [
        bin,
        '-L',
        '-s',
        '-u',
        'root',
        '-a',
        `${options.address}:69`,
        options.root,
      ]);
      await waitForPort(lan, namespace);
      return proc;
    }
    case 'atftpd': {
      const mcast = options.multicast ?? { first: '239.255.216.1', last: '239.255.216.254' };
      const lastOctet = mcast.last.split('.')[3];
      const proc = lan.spawn(namespace, [
        atftpdBinary()!,
        '--daemon',
        '--no-fork',
        '--user',
        'root.root',
        '--bind-address',
        options.address,
        '--port',
        '69',
        '--logfile',
        '/dev/null',
        '--verbose=1',
        '--mcast-addr',
        `${mcast.first}-${lastOctet}`,
        '--mcast-port',
        '1758',
        '--mcast-ttl',
        '1',
        '--maxthread',
        '256',
        options.root,
      ]);
      await waitForPort(lan, namespace);
      return proc;
    }
  }
}

async function waitForPort(lan: TestLan, namespace: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await lan.exec(namespace, ['ss', '-Hlun', 'sport = :69'], { timeoutMs: 3000 });
    if (r.stdout.trim() !== '') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('server did not bind port 69');
}
