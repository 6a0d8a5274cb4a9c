/**
 * `tftp`: single-client TFTP throughput over veth (namespace LAN), the agent's service against tftpd-hpa
 * and atftpd, at blksize 512/1468/8192 × windowsize 1/8/32. One client for every server: atftp
 * (C, RFC 2348/7440). File 64 MiB (16 MiB with --quick), median of 3 runs (1 with --quick). tftpd-hpa has
 * no RFC 7440, so it is a peer only in the windowsize-1 cells.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hasNetns, TestLan } from '../lib/netns.js';
import { atftpdBinary, median, startServer, tftpdHpaBinary } from '../tftp/peers.js';
import type { ServerName } from '../tftp/peers.js';
import { result } from './lib.js';
import type { BenchResult } from './lib.js';

const BLKSIZES = [512, 1468, 8192];
const WINDOWS = [1, 8, 32];
/** Longest one fetch may take; a stalled cell reports the rate reached until then. */
const RUN_LIMIT_MS = 20_000;

export default async function tftpBench({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const cap = hasNetns();
  if (!cap.ok) throw new Error(`tftp bench needs network namespaces: ${cap.reason}`);
  const size = (quick ? 16 : 64) * 1024 * 1024;
  const runs = quick ? 1 : 3;
  const work = mkdtempSync('/dev/shm/bpt-tf-bench-');
  const root = join(work, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'image.bin'), randomBytes(size));
  const lan = await TestLan.create({ subnet: '10.215.200', hosts: 2, tag: 'tfb' });
  const server = lan.host(1);
  const client = lan.host(2);
  const servers: ServerName[] = ['ours'];
  if (tftpdHpaBinary()) servers.push('tftpd-hpa');
  if (atftpdBinary()) servers.push('atftpd');
  const figures = new Map<string, number>();
  const stalled = new Set<string>();
  try {
    for (const name of servers) {
      const proc = await startServer(lan, server.namespace, name, { address: server.address!, root });
      try {
        for (const blksize of BLKSIZES) {
          for (const windowsize of WINDOWS) {
            if (name === 'tftpd-hpa' && windowsize > 1) continue;
            const rates: number[] = [];
            for (let i = 0; i < runs; i++) {
              const out = join(work, 'out.bin');
              const argv = ['atftp', '-g', '-r', 'image.bin', '-l', out, '--option', `blksize ${blksize}`];
              if (windowsize > 1) argv.push('--option', `windowsize ${windowsize}`);
              argv.push(server.address!, '69');
              const started = process.hrtime.bigint();
              const r = await lan.exec(client.namespace, argv, { timeoutMs: RUN_LIMIT_MS });
              const seconds = Number(process.hrtime.bigint() - started) / 1e9;
              const got = existsSync(out) ? statSync(out).size : 0;
              rmSync(out, { force: true });
              if (r.timedOut) {
                // Bursts larger than the client's receive buffer (8192 × 32 > 208 KiB) stall on
                // retransmission timeouts; report what was delivered in the time limit.
                stalled.add(`${name}|${blksize}|${windowsize}`);
                rates.push(got / seconds / 1e6);
                break;
              }
              if (r.code !== 0 || got !== size) {
                throw new Error(`${name} ${blksize}/${windowsize}: ${r.stderr} (got ${got})`);
              }
              rates.push(size / seconds / 1e6);
            }
            figures.set(`${name}|${blksize}|${windowsize}`, median(rates));
          }
        }
      } finally {
        await proc.stop('SIGTERM', 3000);
      }
    }
  } finally {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  const out: BenchResult[] = [];
  for (const blksize of BLKSIZES) {
    for (const windowsize of WINDOWS) {
      const peers: Record<string, number> = {};
      for (const name of servers) {
        const v = figures.get(`${name}|${blksize}|${windowsize}`);
        if (name !== 'ours' && v !== undefined) peers[name] = Number(v.toFixed(1));
      }
      const ours = figures.get(`ours|${blksize}|${windowsize}`)!;
      out.push(
        result(
          'tftp',
          `unicast throughput blksize ${blksize} windowsize ${windowsize}`,
          Number(ours.toFixed(1)),
          'MB/s',
          'higher',
          peers,
          `${size / 1048576} MiB over veth, atftp client, median of ${runs}` +
            ([...stalled].some((k) => k.endsWith(`|${blksize}|${windowsize}`))
              ? `; stalled (client receive buffer overflow) for ${[...stalled]
                  .filter((k) => k.endsWith(`|${blksize}|${windowsize}`))
                  .map((k) => k.split('|')[0])
                  .join(', ')}: rate within ${RUN_LIMIT_MS / 1000} s`
              : ''),
        ),
      );
    }
  }
  return out;
}
