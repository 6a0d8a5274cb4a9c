/**
 * `storm`: a boot storm over veth — 4, 16 and 32 clients (one namespace each) fetch one file at once from
 * the agent's TFTP service by unicast, by subnet-directed broadcast (`sbroadcast`) and by RFC 2090 multicast,
 * against atftpd's multicast. Per cell: the slowest client's time, that time as a multiple of one client
 * alone on the same server, mode and client program, and the octets that crossed the server's interface
 * (eth0 tx_bytes, headers included, with UDP segmentation offload off on that veth so that a GSO send
 * counts as the datagrams it carries) as a multiple of the file size.
 *
 * Clients: atftp (blksize 1468, windowsize 8 for unicast; `--option multicast` for both multicast servers);
 * sbroadcast uses `tests/tftp/client.ts` (no Debian client speaks it; windowsize 8, blksize 1464: BDATA has
 * an 8-octet header, so that is the block whose datagram is the same 1,500-octet IP packet as a 1468-octet
 * DATA block — 1468 would be IP-fragmented). The row `multicast, client.ts` runs that same client against
 * our multicast (blksize 1468), to tell the client program's cost from the delivery mode's.
 *
 * Every cell starts its clients the same way: each client is started and loaded first (atftp behind a
 * shell, ours after Node has loaded), then blocks reading one FIFO; the bench releases them all at once by
 * opening and closing the FIFO. A client's time runs from that release to the end of its transfer by its
 * own clock (`date` after atftp exits; `end` from ours, after writing the file). One client alone is run
 * three times per row and its median is the reference. File 32 MiB (8 MiB with --quick). The 1-minute load
 * average when each cell started is in the notes.
 */
import { spawnSync } from 'node:child_process';
import {
  constants,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { hasNetns, TestLan } from '../lib/netns.js';
import type { LanHost, NetnsProcess } from '../lib/netns.js';
import { atftpdBinary, startServer } from '../tftp/peers.js';
import type { ServerName } from '../tftp/peers.js';
import { result } from './lib.js';
import type { BenchResult } from './lib.js';

const COUNTS = [4, 16, 32];
const SINGLE_RUNS = 3;
const CLIENT = resolve(import.meta.dirname, '../tftp/client.ts');
const REPO = resolve(import.meta.dirname, '../..');
/** Waits on the FIFO in $1, runs the rest, prints the end time in epoch ms, keeps the exit status. */
const GATE = 'echo ready; read _ < "$1"; shift; "$@"; s=$?; echo "end $(date +%s%3N)"; exit $s';

type Mode = 'unicast' | 'sbroadcast' | 'multicast';

interface Cell {
  readonly server: ServerName;
  readonly mode: Mode;
  /** Client program: atftp, or tests/tftp/client.ts. */
  readonly client: 'atftp' | 'ours';
  /** Row name. */
  readonly label: string;
}

interface Run {
  slowestSeconds: number;
  wireRatio: number;
  load: number;
}

const OURS: readonly Cell[] = [
  { server: 'ours', mode: 'unicast', client: 'atftp', label: 'unicast' },
  { server: 'ours', mode: 'sbroadcast', client: 'ours', label: 'sbroadcast' },
  { server: 'ours', mode: 'multicast', client: 'atftp', label: 'multicast' },
  // Same client program as the sbroadcast row: tells the client's cost from the delivery mode's.
  { server: 'ours', mode: 'multicast', client: 'ours', label: 'multicast, client.ts' },
];
const ATFTPD: Cell = { server: 'atftpd', mode: 'multicast', client: 'atftp', label: 'atftpd multicast' };

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
  // veth passes a UDP GSO send through as one packet with one set of headers: with the offload off the
  // kernel cuts it into datagrams before the interface, so tx_bytes counts what a real wire carries.
  const uso = await lan.exec(server.namespace, ['ethtool', '-K', 'eth0', 'tx-udp-segmentation', 'off']);
  if (uso.code !== 0) throw new Error(`ethtool failed: ${uso.stderr}`);
  const cells = atftpdBinary() ? [...OURS, ATFTPD] : OURS;
  const runs = new Map<string, Run>();
  const key = (cell: Cell, count: number): string => `${cell.label}|${count}`;

  async function txBytes(): Promise<number> {
    const r = await lan.exec(server.namespace, ['cat', '/sys/class/net/eth0/statistics/tx_bytes']);
    return Number(r.stdout.trim());
  }

  function clientArgv(host: LanHost, cell: Cell, out: string, fifo: string): string[] {
    const { mode } = cell;
    if (cell.client === 'ours') {
      return [
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
        mode === 'sbroadcast' ? '1464' : '1468',
        '--windowsize',
        '8',
        ...(mode === 'sbroadcast'
          ? ['--sbroadcast', '255.255.255.0']
          : ['--multicast', '--local', host.address!]),
        '--wait',
        fifo,
      ];
    }
    const atftp = ['atftp', '-g', '-r', 'image.bin', '-l', out, '--option', 'blksize 1468'];
    if (mode === 'multicast') atftp.push('--option', 'multicast');
    else atftp.push('--option', 'windowsize 8');
    atftp.push(server.address!, '69');
    return ['sh', '-c', GATE, 'gate', fifo, ...atftp];
  }

  /** Opens and closes the FIFO (releasing every reader blocked on it) while `pending` is true. */
  async function release(fifo: string, pending: () => boolean): Promise<void> {
    for (let i = 0; i < 60_000 && pending(); i++) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: nobody is waiting right now.
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function storm(cell: Cell, count: number): Promise<Run> {
    const load = loadavg()[0]!;
    const proc = await startServer(lan, server.namespace, cell.server, {
      address: server.address!,
      root,
      multicast: { first: '239.255.216.1', last: '239.255.216.200' },
    });
    const fifo = join(work, 'go');
    rmSync(fifo, { force: true });
    if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
    const procs: { host: LanHost; out: string; proc: NetnsProcess }[] = [];
    try {
      for (const host of clients.slice(0, count)) {
        const out = join(work, `out-${host.index}`);
        const argv = clientArgv(host, cell, out, fifo);
        procs.push({ host, out, proc: lan.spawn(host.namespace, argv, { cwd: REPO }) });
      }
      await Promise.all(procs.map((p) => p.proc.waitForOutput('ready', 300_000)));
      const before = await txBytes();
      const exits = Promise.all(procs.map((p) => p.proc.exited));
      let running = true;
      void exits.then(() => (running = false));
      const releasedAt = Date.now();
      const releasing = release(fifo, () => running);
      const timeout = setTimeout(() => {
        for (const p of procs) void p.proc.stop('SIGKILL', 0);
      }, 300_000);
      const results = await exits;
      clearTimeout(timeout);
      await releasing;
      const after = await txBytes();
      const ends = results.map((r, i) => {
        const { host, out } = procs[i]!;
        const got = r.code === 0 ? statSync(out).size : -1;
        rmSync(out, { force: true });
        const end = /^end (\d+)$/m.exec(r.stdout);
        if (got !== size || !end) {
          throw new Error(`${cell.label} client ${host.index} failed: ${r.stderr}${r.stdout}`);
        }
        return Number(end[1]);
      });
      return {
        slowestSeconds: (Math.max(...ends) - releasedAt) / 1000,
        wireRatio: (after - before) / size,
        load,
      };
    } finally {
      for (const p of procs) await p.proc.stop('SIGKILL', 0);
      await proc.stop('SIGTERM', 3000);
    }
  }

  try {
    // The reference a storm is divided by: one client alone, median of SINGLE_RUNS (one run of a short
    // transfer swings by 2x or more on this shared machine).
    const singles = new Map(cells.map((cell) => [cell, [] as Run[]]));
    for (let i = 0; i < SINGLE_RUNS; i++) {
      for (const cell of cells) singles.get(cell)!.push(await storm(cell, 1));
    }
    for (const cell of cells) runs.set(key(cell, 1), medianRun(singles.get(cell)!));
    for (const count of COUNTS) {
      for (const cell of cells) runs.set(key(cell, count), await storm(cell, count));
    }
  } finally {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const out: BenchResult[] = [];
  const note = (r: Run): string => `${size / 1048576} MiB file over veth; load ${r.load.toFixed(1)}`;
  const peerOf = (cell: Cell, count: number, pick: (r: Run) => number): Record<string, number> => {
    const peer =
      cell.mode === 'multicast' || cell.mode === 'sbroadcast' ? runs.get(key(ATFTPD, count)) : undefined;
    return peer ? { 'atftpd multicast': round(pick(peer)) } : {};
  };
  for (const cell of OURS) {
    const r = runs.get(key(cell, 1))!;
    out.push(
      result(
        'storm',
        `1 client ${cell.label}: time`,
        round(r.slowestSeconds),
        's',
        'lower',
        peerOf(cell, 1, (p) => p.slowestSeconds),
        note(r),
      ),
    );
  }
  for (const count of COUNTS) {
    for (const cell of OURS) {
      const r = runs.get(key(cell, count))!;
      const single = runs.get(key(cell, 1))!;
      const atftpdSingle = runs.get(key(ATFTPD, 1));
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: slowest client`,
          round(r.slowestSeconds),
          's',
          'lower',
          peerOf(cell, count, (p) => p.slowestSeconds),
          note(r),
        ),
      );
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: slowest / 1 client`,
          round(r.slowestSeconds / single.slowestSeconds),
          'x',
          'lower',
          atftpdSingle && cell.mode !== 'unicast'
            ? peerOf(cell, count, (p) => p.slowestSeconds / atftpdSingle.slowestSeconds)
            : {},
          `same server, mode and client program alone: ${round(single.slowestSeconds)} s`,
        ),
      );
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: wire bytes`,
          round(r.wireRatio),
          'x file',
          'lower',
          peerOf(cell, count, (p) => p.wireRatio),
          note(r),
        ),
      );
    }
  }
  return out;
}

/** The run with the median time (its wire ratio and load come with it). */
function medianRun(runs: readonly Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.slowestSeconds - b.slowestSeconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(n: number): number {
  return Number(n.toFixed(2));
}
