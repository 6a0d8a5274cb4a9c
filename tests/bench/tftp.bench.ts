/**
 * `tftp`: single-client TFTP throughput over veth (namespace LAN), the agent's service against tftpd-hpa
 * and atftpd, at blksize 512/1468/8192 × windowsize 1/8/32. One client for every server: atftp
 * (C, RFC 2348/7440). File 64 MiB (16 MiB with --quick), median of 5 runs at windowsize 1 and of 3 in
 * windowed cells (1 with --quick), the runs of a cell alternating between the servers. tftpd-hpa has no
 * RFC 7440, so it is a peer only in the windowsize-1 cells. Each result's note also gives the server's
 * CPU time per block (ours, atftpd), which a shared machine disturbs far less than MB/s: lock-step
 * throughput is a round trip per block and moves with everyone else's load.
 *
 * Ours runs with its default configuration (`tftp.nativeFastPath: auto`: the DATA phase, lock-step and
 * windowed, in the native add-on when it is built), and a second time as `ours-js` with the add-on off,
 * interleaved with the others in every cell; the row note says which path ours used (counted by the
 * service's `bootpt_agent_tftp_unicast_transfers_total{path}`) and gives the JS path's figures.
 *
 * `TFTP_CELLS=512x1,8192x8` runs only those cells (blksize x windowsize) and `TFTP_RUNS=N` sets the runs per
 * cell: for A/B checks of one cell (a partial run still merges into latest.json per result).
 *
 * The 8192 × 32 cell measures a stall, not throughput: a window of 32 datagrams of 8196 octets, each
 * reassembled from six IP fragments, needs more than the client socket's default receive buffer
 * (net.core.rmem_default, 212,992 octets), so the tail of every window is dropped and the transfer crawls
 * on retransmission timeouts for every server. atftp cannot set SO_RCVBUF, and the sysctl is read-only in
 * a child network namespace on this kernel (6.18: mode 0444 there), so the only lever would be the host's
 * global value — not something a benchmark may change under other work. The cell is kept (servers are
 * treated alike) and marked stalled.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hasNetns, TestLan } from '../lib/netns.js';
import type { NetnsProcess } from '../lib/netns.js';
import { atftpdBinary, startServer, tftpdHpaBinary } from '../tftp/peers.js';
import type { ServerName } from '../tftp/peers.js';
import { metricValue } from '../../apps/agent/src/tftp/testing.js';
import { median, result } from './lib.js';
import type { BenchResult } from './lib.js';

const BLKSIZES = [512, 1468, 8192];
const WINDOWS = [1, 8, 32];
/** Longest one fetch may take; a stalled cell reports the rate reached until then. */
const RUN_LIMIT_MS = 20_000;

export default async function tftpBench({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const cap = hasNetns();
  if (!cap.ok) throw new Error(`tftp bench needs network namespaces: ${cap.reason}`);
  const size = (quick ? 16 : 64) * 1024 * 1024;
  /**
   * Runs per cell: 5 for lock-step cells, 3 for windowed ones (1 with --quick). Lock-step throughput is
   * one round trip per block, so it moves most with the machine's load: the same build's 1468 × 1 and
   * 8192 × 1 ratios to the best peer went 1.10/0.95 in one run and 0.96/1.10 in the next with 3 runs each.
   */
  const runsOf = (windowsize: number): number =>
    process.env.TFTP_RUNS ? Number(process.env.TFTP_RUNS) : quick ? 1 : windowsize === 1 ? 5 : 3;
  const only = process.env.TFTP_CELLS?.split(',').map((c) => c.trim());
  const wanted = (blksize: number, windowsize: number): boolean =>
    !only || only.includes(`${blksize}x${windowsize}`);
  const work = mkdtempSync('/dev/shm/bpt-tf-bench-');
  const root = join(work, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'image.bin'), randomBytes(size));
  /** Server labels: a peer's name, or ours / ours-js (ours with the native add-on off). */
  const servers: string[] = ['ours', 'ours-js'];
  if (tftpdHpaBinary()) servers.push('tftpd-hpa');
  if (atftpdBinary()) servers.push('atftpd');
  const serverName = (label: string): ServerName => (label === 'ours-js' ? 'ours' : (label as ServerName));
  // Every server runs on a host of its own for the whole bench, and the runs of one cell alternate
  // between the servers (in a rotating order), so a change in the machine's load hits all of them alike
  // instead of whichever server's turn it was.
  const lan = await TestLan.create({ subnet: '10.215.200', hosts: servers.length + 1, tag: 'tfb' });
  const client = lan.host(servers.length + 1);
  const figures = new Map<string, number>();
  /**
   * Median server CPU time per block (µs, user + system) — steadier than MB/s on a loaded machine. Not for
   * tftpd-hpa: it forks a child per request and leaves reaping to the kernel (SIGCHLD ignored), so the
   * child's time is never reported to it.
   */
  const cpuPerBlock = new Map<string, number>();
  const stalled = new Set<string>();
  const procs: NetnsProcess[] = [];
  let oursPath: string | undefined;
  try {
    for (const [i, name] of servers.entries()) {
      const host = lan.host(i + 1);
      const config = name === 'ours-js' ? { nativeFastPath: 'off' } : undefined;
      procs.push(
        await startServer(lan, host.namespace, serverName(name), { address: host.address!, root, config }),
      );
    }
    for (const blksize of BLKSIZES) {
      for (const windowsize of WINDOWS) {
        if (!wanted(blksize, windowsize)) continue;
        // tftpd-hpa has no RFC 7440.
        const cell = servers.filter((name) => windowsize === 1 || name !== 'tftpd-hpa');
        const rates = new Map<string, number[]>(cell.map((name) => [name, []]));
        const cpu = new Map<string, number[]>(cell.map((name) => [name, []]));
        const runs = runsOf(windowsize);
        for (let run = 0; run < runs; run++) {
          for (let k = 0; k < cell.length; k++) {
            const name = cell[(run + k) % cell.length]!;
            const key = `${name}|${blksize}|${windowsize}`;
            if (stalled.has(key)) continue;
            const index = servers.indexOf(name);
            const address = lan.host(index + 1).address!;
            const cpuBefore = cpuSeconds(procs[index]!.pid);
            const out = join(work, 'out.bin');
            const argv = ['atftp', '-g', '-r', 'image.bin', '-l', out, '--option', `blksize ${blksize}`];
            if (windowsize > 1) argv.push('--option', `windowsize ${windowsize}`);
            argv.push(address, '69');
            const started = process.hrtime.bigint();
            const r = await lan.exec(client.namespace, argv, { timeoutMs: RUN_LIMIT_MS });
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const got = existsSync(out) ? statSync(out).size : 0;
            rmSync(out, { force: true });
            if (r.timedOut) {
              // Bursts larger than the client's receive buffer (8192 × 32 > 208 KiB) stall on
              // retransmission timeouts; report what was delivered in the time limit.
              stalled.add(key);
              rates.get(name)!.push(got / seconds / 1e6);
              continue;
            }
            if (r.code !== 0 || got !== size) {
              throw new Error(`${name} ${blksize}/${windowsize}: ${r.stderr} (got ${got})`);
            }
            rates.get(name)!.push(size / seconds / 1e6);
            const blocks = Math.floor(size / blksize) + 1;
            if (name !== 'tftpd-hpa') {
              cpu.get(name)!.push(((cpuSeconds(procs[index]!.pid) - cpuBefore) / blocks) * 1e6);
            }
          }
        }
        for (const [name, values] of rates) figures.set(`${name}|${blksize}|${windowsize}`, median(values));
        for (const [name, values] of cpu) {
          if (values.length > 0) cpuPerBlock.set(`${name}|${blksize}|${windowsize}`, median(values));
        }
      }
    }
    // Which path ours used: every run of ours counted as native, or none.
    const metrics = (await procs[0]!.stop('SIGTERM', 3000)).stdout;
    const count = (path: string): number =>
      metricValue(metrics, 'bootpt_agent_tftp_unicast_transfers_total', { path });
    const [native, js] = [count('native'), count('js')];
    oursPath = native === 0 ? 'js' : js === 0 ? 'native' : `mixed (${native} native, ${js} js)`;
  } finally {
    for (const proc of procs) await proc.stop('SIGTERM', 3000);
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  const out: BenchResult[] = [];
  for (const blksize of BLKSIZES) {
    for (const windowsize of WINDOWS) {
      if (!wanted(blksize, windowsize)) continue;
      const peers: Record<string, number> = {};
      for (const name of servers) {
        const v = figures.get(`${name}|${blksize}|${windowsize}`);
        if (!name.startsWith('ours') && v !== undefined) peers[name] = Number(v.toFixed(1));
      }
      const ours = figures.get(`ours|${blksize}|${windowsize}`)!;
      const cpuNote = servers
        .filter((name) => cpuPerBlock.has(`${name}|${blksize}|${windowsize}`))
        .map((name) => `${name} ${cpuPerBlock.get(`${name}|${blksize}|${windowsize}`)!.toFixed(1)}`)
        .join(', ');
      out.push(
        result(
          'tftp',
          `unicast throughput blksize ${blksize} windowsize ${windowsize}`,
          Number(ours.toFixed(1)),
          'MB/s',
          'higher',
          peers,
          `${size / 1048576} MiB over veth, atftp client, median of ${runsOf(windowsize)}; ours: ` +
            `${oursPath ?? 'unknown'} path (JS path ${figures.get(`ours-js|${blksize}|${windowsize}`)!.toFixed(1)} MB/s)` +
            (cpuNote ? `; server CPU µs/block ${cpuNote}` : '') +
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

/** CPU seconds used by a process, all threads (utime + stime). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields 14 and 15 of proc(5); index 0 here is field 3 (state). In USER_HZ (100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
