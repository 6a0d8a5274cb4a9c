/**
 * `storm`: a boot storm over veth — 4, 16 and 32 clients (one namespace each) fetch one file at once from
 * the agent's TFTP service by unicast, by subnet-directed broadcast (`sbroadcast`) and by RFC 2090 multicast,
 * against atftpd's multicast. Per cell: the slowest client's time and the octets that crossed the server's
 * interface (eth0 tx_bytes, headers included) as a multiple of the file size.
 *
 * Clients: atftp (blksize 1468, windowsize 8 for unicast; `--option multicast` for both multicast servers);
 * sbroadcast uses `tests/tftp/client.ts` (no Debian client speaks it), whose time is measured from its RRQ
 * (Node start-up excluded). File 32 MiB (8 MiB with --quick).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { hasNetns, TestLan } from '../lib/netns.js';
import type { LanHost } from '../lib/netns.js';
import { atftpdBinary, startServer } from '../tftp/peers.js';
import type { ServerName } from '../tftp/peers.js';
import { result } from './lib.js';
import type { BenchResult } from './lib.js';

const COUNTS = [4, 16, 32];
const CLIENT = resolve(import.meta.dirname, '../tftp/client.ts');
const REPO = resolve(import.meta.dirname, '../..');

type Mode = 'unicast' | 'sbroadcast' | 'multicast';

interface Run {
  slowestSeconds: number;
  wireRatio: number;
}

export default async function stormBench({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const cap = hasNetns();
  if (!cap.ok) throw new Error(`storm bench needs network namespaces: ${cap.reason}`);
  const size = (quick ? 8 : 32) * 1024 * 1024;
  const work = mkdtempSync('/dev/shm/bpt-tf-storm-');
  const root = join(work, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'image.bin'), randomBytes(size));
  const max = Math.max(...COUNTS);
  const lan = await TestLan.create({ subnet: '10.215.210', hosts: max + 1, tag: 'tfs' });
  for (const h of lan.hosts) lan.addMulticastRoute(h);
  const server = lan.host(1);
  const clients = lan.hosts.slice(1);
  const runs = new Map<string, Run>();

  async function txBytes(): Promise<number> {
    const r = await lan.exec(server.namespace, ['cat', '/sys/class/net/eth0/statistics/tx_bytes']);
    return Number(r.stdout.trim());
  }

  async function fetchOne(host: LanHost, mode: Mode, viaAtftp: boolean): Promise<number> {
    const out = join(work, `out-${host.index}`);
    const started = process.hrtime.bigint();
    let argv: string[];
    if (viaAtftp) {
      argv = ['atftp', '-g', '-r', 'image.bin', '-l', out, '--option', 'blksize 1468'];
      if (mode === 'multicast') argv.push('--option', 'multicast');
      else argv.push('--option', 'windowsize 8');
      argv.push(server.address!, '69');
    } else {
      argv = [
        process.execPath,
        '--conditions=source',
        '--import',
        'tsx',
        CLIENT,
        server.address!,
        '69',
        'image.bin',
        out,
        '--blksize',
        '1468',
        '--windowsize',
        '8',
        '--sbroadcast',
        '255.255.255.0',
      ];
    }
    const r = await lan.exec(host.namespace, argv, { timeoutMs: 300_000, cwd: REPO });
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const got = r.code === 0 ? statSync(out).size : -1;
    rmSync(out, { force: true });
    if (got !== size) throw new Error(`${mode} client ${host.index} failed: ${r.stderr}${r.stdout}`);
    const reported = /done complete \d+ (\d+)/.exec(r.stdout);
    return reported ? Number(reported[1]) / 1000 : wall;
  }

  async function storm(name: ServerName, mode: Mode, count: number): Promise<Run> {
    const proc = await startServer(lan, server.namespace, name, {
      address: server.address!,
      root,
      multicast: { first: '239.255.216.1', last: '239.255.216.200' },
    });
    try {
      const before = await txBytes();
      const times = await Promise.all(
        clients.slice(0, count).map((h) => fetchOne(h, mode, mode !== 'sbroadcast')),
      );
      const after = await txBytes();
      return { slowestSeconds: Math.max(...times), wireRatio: (after - before) / size };
    } finally {
      await proc.stop('SIGTERM', 3000);
    }
  }

  try {
    runs.set('single', await storm('ours', 'unicast', 1));
    for (const count of COUNTS) {
      for (const mode of ['unicast', 'sbroadcast', 'multicast'] as const) {
        runs.set(`ours|${mode}|${count}`, await storm('ours', mode, count));
      }
      if (atftpdBinary()) runs.set(`atftpd|multicast|${count}`, await storm('atftpd', 'multicast', count));
    }
  } finally {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const out: BenchResult[] = [];
  const single = runs.get('single')!;
  const note = `${size / 1048576} MiB file over veth`;
  out.push(
    result('storm', 'single client unicast time', round(single.slowestSeconds), 's', 'lower', {}, note),
  );
  for (const count of COUNTS) {
    const peer = runs.get(`atftpd|multicast|${count}`);
    for (const mode of ['unicast', 'sbroadcast', 'multicast'] as const) {
      const r = runs.get(`ours|${mode}|${count}`)!;
      const peers: Record<string, number> = peer ? { 'atftpd multicast': round(peer.slowestSeconds) } : {};
      const wirePeers: Record<string, number> = peer ? { 'atftpd multicast': round(peer.wireRatio) } : {};
      out.push(
        result(
          'storm',
          `${count} clients ${mode}: slowest client`,
          round(r.slowestSeconds),
          's',
          'lower',
          peers,
          `${note}; ${round(r.slowestSeconds / single.slowestSeconds)}x single-client time`,
        ),
      );
      out.push(
        result(
          'storm',
          `${count} clients ${mode}: wire bytes`,
          round(r.wireRatio),
          'x file',
          'lower',
          wirePeers,
          note,
        ),
      );
    }
  }
  return out;
}

function round(n: number): number {
  return Number(n.toFixed(2));
}
