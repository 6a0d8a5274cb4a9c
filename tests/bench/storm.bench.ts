/**
 * `storm`: a boot storm over veth — 4, 16 and 32 clients (one namespace each) fetch one file at once from
 * the agent's TFTP service by unicast, by subnet-directed broadcast (`sbroadcast`) and by RFC 2090 multicast,
 * against atftpd's multicast. Per cell: the slowest client's time, that time as a multiple of one client
 * alone on the same server, mode and client program, and the octets that crossed the server's interface
 * (eth0 tx_bytes, headers included, with UDP segmentation offload off on that veth so that a GSO send
 * counts as the datagrams it carries) as a multiple of the file size.
 *
 * Clients: our modes use our client, `tests/tftp/client.ts` (the product's TFTP read library; windowsize 8)
 * at the group blksize 8192: a block is then 6 IP fragments, and each member's cost per datagram (Node's
 * receive path, ~60 µs per 8192-octet block against ~25 µs per 1468-octet one) is paid a sixth as often.
 * The client receives the group stream through the native add-on (`tftp_receive.node`, recvmmsg; blocks
 * that need no protocol decision never enter JS; a non-master member drains its socket every 5 ms rather
 * than on every datagram and writes blocks into the output file with a pwritev per run of adjacent blocks;
 * the CPU note gives datagrams per drain) when it is built: BOOTPT_TFTP_RECEIVE=js in the bench's
 * environment makes every client use node:dgram instead (A/B; see the client README).
 * `unicast` uses atftp (blksize 1468, windowsize 8). Against atftpd's multicast with atftp (`--option
 * multicast`) at blksize 1468 and at 8192 (both RFC 2348-negotiated); our multicast and sbroadcast rows are
 * compared with the atftpd row of the same blksize. `multicast, atftp client` (diagnostic) runs atftp at
 * 1468 against our multicast: the same client program and blksize as `atftpd multicast`, server against
 * server.
 *
 * CPU (per storm row): the server process's user + system seconds from /proc/<pid>/stat, each client's
 * from the release to its end (ours: `process.cpuUsage`; atftp: the gate shell's `times`), and the
 * machine's softirq and busy seconds from /proc/stat (bridge replication and delivery into the member
 * namespaces run there or in whichever process is on the CPU; busy includes other work on the machine).
 * Wire rows of our server also give its group datagram count (blocks + resent blocks + OACKs).
 * Diagnostics: STORM_ONLY='label;label' runs only those rows, STORM_COUNTS=32 only those storm sizes, and
 * STORM_MTU=9000 sets that MTU on every veth of the LAN (jumbo frames: an 8192-octet block is one frame
 * instead of six fragments; the default is the LAN's 1,500).
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
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
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
const GATE = 'echo ready; read _ < "$1"; shift; "$@"; s=$?; echo "end $(date +%s%3N)"; times; exit $s';

type Mode = 'unicast' | 'sbroadcast' | 'multicast';

interface Cell {
  readonly server: ServerName;
  readonly mode: Mode;
  /** Client program: atftp, or tests/tftp/client.ts. */
  readonly client: 'atftp' | 'ours';
  readonly blksize: number;
  /** Row name. */
  readonly label: string;
}

/** CPU seconds (user + system) spent during one cell. */
interface Cpu {
  /** The server process, and the system (kernel) part of that. */
  server: number;
  serverSystem: number;
  /** All clients together, and the system (kernel) part of that. */
  clients: number;
  clientsSystem: number;
  /** Machine-wide softirq time (bridge replication and delivery run there, charged to no process). */
  softirq: number;
  /** Machine-wide busy time (everything, other users of the machine included). */
  busy: number;
}

interface Run {
  slowestSeconds: number;
  wireRatio: number;
  /** Ours: datagrams the group session sent (blocks, resent blocks, OACKs), from the server's metrics. */
  groupDatagrams: number | null;
  load: number;
  cpu: Cpu;
  /** Our client's native group receive: socket drains and datagrams read, all clients (null for atftp). */
  receive: { wakes: number; datagrams: number } | null;
}

/** Group blksize of our client's rows: 6 IP fragments a block on a 1,500-octet MTU (see the header). */
const GROUP_BLKSIZE = 8192;

const OURS: readonly Cell[] = [
  { server: 'ours', mode: 'unicast', client: 'atftp', blksize: 1468, label: 'unicast' },
  { server: 'ours', mode: 'sbroadcast', client: 'ours', blksize: GROUP_BLKSIZE, label: 'sbroadcast' },
  { server: 'ours', mode: 'multicast', client: 'ours', blksize: GROUP_BLKSIZE, label: 'multicast' },
  // Diagnostic: the same client program and blksize as the atftpd row, so server against server.
  { server: 'ours', mode: 'multicast', client: 'atftp', blksize: 1468, label: 'multicast, atftp client' },
];
const ATFTPD: readonly Cell[] = [
  { server: 'atftpd', mode: 'multicast', client: 'atftp', blksize: 1468, label: 'atftpd multicast' },
  {
    server: 'atftpd',
    mode: 'multicast',
    client: 'atftp',
    blksize: GROUP_BLKSIZE,
    label: `atftpd multicast, blksize ${GROUP_BLKSIZE}`,
  },
];

/** The atftpd row a row of ours is compared with: same blksize, so same datagram count. */
function peerCell(cell: Cell): Cell | undefined {
  if (cell.mode === 'unicast') return undefined;
  return ATFTPD.find((a) => a.blksize === cell.blksize);
}

export default async function stormBench({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const cap = hasNetns();
  if (!cap.ok) throw new Error(`storm bench needs network namespaces: ${cap.reason}`);
  const size = (quick ? 8 : 32) * 1024 * 1024;
  const only = process.env.STORM_ONLY ? process.env.STORM_ONLY.split(';').map((l) => l.trim()) : null;
  const counts = process.env.STORM_COUNTS ? process.env.STORM_COUNTS.split(',').map(Number) : COUNTS;
  const all = atftpdBinary() ? [...OURS, ...ATFTPD] : OURS;
  const cells = only ? all.filter((c) => only.includes(c.label)) : all;
  const work = mkdtempSync('/dev/shm/bpt-tf-storm-');
  const root = join(work, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'image.bin'), randomBytes(size));
  const max = Math.max(...counts);
  const lan = await TestLan.create({ subnet: '10.215.210', hosts: max + 1, tag: 'tfs' });
  for (const h of lan.hosts) lan.addMulticastRoute(h);
  if (process.env.STORM_MTU) lan.setMtu(Number(process.env.STORM_MTU));
  const server = lan.host(1);
  const clients = lan.hosts.slice(1);
  // veth passes a UDP GSO send through as one packet with one set of headers: with the offload off the
  // kernel cuts it into datagrams before the interface, so tx_bytes counts what a real wire carries.
  const uso = await lan.exec(server.namespace, ['ethtool', '-K', 'eth0', 'tx-udp-segmentation', 'off']);
  if (uso.code !== 0) throw new Error(`ethtool failed: ${uso.stderr}`);
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
        String(cell.blksize),
        '--windowsize',
        '8',
        ...(mode === 'sbroadcast'
          ? ['--sbroadcast', '255.255.255.0']
          : ['--multicast', '--local', host.address!]),
        '--wait',
        fifo,
      ];
    }
    const atftp = ['atftp', '-g', '-r', 'image.bin', '-l', out, '--option', `blksize ${cell.blksize}`];
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
      const serverBefore = processCpu(proc.pid);
      const machineBefore = machineCpu();
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
      const machineAfter = machineCpu();
      const serverAfter = processCpu(proc.pid);
      const after = await txBytes();
      const stopped = await proc.stop('SIGTERM', 3000);
      let clientsCpu = 0;
      let clientsSystem = 0;
      let receive: Run['receive'] = null;
      const ends = results.map((r, i) => {
        const { host, out } = procs[i]!;
        const got = r.code === 0 ? statSync(out).size : -1;
        rmSync(out, { force: true });
        const end = /^end (\d+)$/m.exec(r.stdout);
        if (got !== size || !end) {
          throw new Error(`${cell.label} client ${host.index} failed: ${r.stderr}${r.stdout}`);
        }
        const c = clientCpu(r.stdout);
        clientsCpu += c.user + c.system;
        clientsSystem += c.system;
        // `receive native <fast> <handed> <foreign> <wakes> <datagrams>` (tests/tftp/client.ts)
        const rx = /^receive native \d+ \d+ \d+ (\d+) (\d+)$/m.exec(r.stdout);
        if (rx) {
          receive ??= { wakes: 0, datagrams: 0 };
          receive.wakes += Number(rx[1]);
          receive.datagrams += Number(rx[2]);
        }
        return Number(end[1]);
      });
      return {
        slowestSeconds: (Math.max(...ends) - releasedAt) / 1000,
        wireRatio: (after - before) / size,
        groupDatagrams:
          cell.server === 'ours' && cell.mode !== 'unicast' ? groupDatagrams(stopped.stdout) : null,
        load,
        receive,
        cpu: {
          server: serverAfter.user + serverAfter.system - serverBefore.user - serverBefore.system,
          serverSystem: serverAfter.system - serverBefore.system,
          clients: clientsCpu,
          clientsSystem,
          softirq: machineAfter.softirq - machineBefore.softirq,
          busy: machineAfter.busy - machineBefore.busy,
        },
      };
    } finally {
      for (const p of procs) await p.proc.stop('SIGKILL', 0);
      if (proc.running) await proc.stop('SIGTERM', 3000);
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
    for (const count of counts) {
      for (const cell of cells) runs.set(key(cell, count), await storm(cell, count));
    }
  } finally {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const out: BenchResult[] = [];
  const note = (r: Run): string => `${size / 1048576} MiB file over veth; load ${r.load.toFixed(1)}`;
  const peerOf = (cell: Cell, count: number, pick: (r: Run) => number): Record<string, number> => {
    const peer = peerCell(cell);
    const r = peer && runs.get(key(peer, count));
    return peer && r ? { [peer.label]: round(pick(r)) } : {};
  };
  const rows = cells.filter((c) => c.server === 'ours');
  const cpuNote = ({ cpu, slowestSeconds, load, receive }: Run, cell: Cell, count: number): string =>
    `server ${round(cpu.server)} (kernel ${round(cpu.serverSystem)}) + clients ${round(cpu.clients)} (kernel ${round(cpu.clientsSystem)}; ` +
    `${round((cpu.clients / count / Math.ceil(size / cell.blksize)) * 1e6)} µs per client per block` +
    (receive && receive.wakes > 0
      ? `; ${round(receive.datagrams / receive.wakes)} datagrams per socket drain, ${Math.round(receive.wakes / count)} drains per client`
      : '') +
    `); ` +
    `machine: softirq ${round(cpu.softirq)}, busy ${round(cpu.busy)} of ` +
    `${round(slowestSeconds * cpus().length)} core-seconds; load ${load.toFixed(1)}`;
  /**
   * The storm's CPU floor: every client of the storm runs on this machine's cores, so the CPU seconds its
   * server and clients used (user + kernel, the bridge's copies to the members included) take at least
   * that divided by the cores, however well they overlap. Above 1.5× one client, the 1.5× target cannot be
   * met here by any scheduling of the same work.
   */
  const cpuFloor = (r: Run, single: Run): string => {
    const coreSeconds = r.cpu.server + r.cpu.clients;
    const floor = coreSeconds / cpus().length;
    return (
      `CPU floor: the server's and clients' ${round(coreSeconds)} core-seconds on ${cpus().length} cores ` +
      `take at least ${round(floor)} s (${round(floor / single.slowestSeconds)}× one client)`
    );
  };
  for (const cell of rows) {
    const r = runs.get(key(cell, 1))!;
    out.push(
      result(
        'storm',
        `1 client ${cell.label}: time`,
        round(r.slowestSeconds),
        's',
        'lower',
        peerOf(cell, 1, (p) => p.slowestSeconds),
        `blksize ${cell.blksize}; ${note(r)}`,
      ),
    );
  }
  for (const count of counts) {
    for (const cell of rows) {
      const r = runs.get(key(cell, count))!;
      const single = runs.get(key(cell, 1))!;
      const peer = peerCell(cell);
      const peerSingle = peer && runs.get(key(peer, 1));
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: slowest client`,
          round(r.slowestSeconds),
          's',
          'lower',
          peerOf(cell, count, (p) => p.slowestSeconds),
          `blksize ${cell.blksize}; ${note(r)}`,
        ),
      );
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: slowest / 1 client`,
          round(r.slowestSeconds / single.slowestSeconds),
          'x',
          'lower',
          peerSingle ? peerOf(cell, count, (p) => p.slowestSeconds / peerSingle.slowestSeconds) : {},
          `same server, mode and client program alone: ${round(single.slowestSeconds)} s; ` +
            cpuFloor(r, single),
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
          r.groupDatagrams === null
            ? note(r)
            : `${r.groupDatagrams} group datagrams for ${Math.floor(size / cell.blksize) + 1} blocks ` +
                `and ${count} members (an OACK each, another per hand-over); ${note(r)}`,
        ),
      );
      out.push(
        result(
          'storm',
          `${count} clients ${cell.label}: CPU seconds`,
          round(r.cpu.server + r.cpu.clients),
          's',
          'lower',
          peerOf(cell, count, (p) => p.cpu.server + p.cpu.clients),
          cpuNote(r, cell, count) +
            (peer && runs.has(key(peer, count))
              ? `; ${peer.label}: ${cpuNote(runs.get(key(peer, count))!, peer, count)}`
              : ''),
        ),
      );
    }
  }
  return out;
}

/** The run with the median time (its wire ratio, load and CPU come with it). */
function medianRun(runs: readonly Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.slowestSeconds - b.slowestSeconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(n: number): number {
  return Number(n.toFixed(2));
}

const TICK = 100; // USER_HZ: /proc times are in 1/100 s

/** utime and stime of one process, in seconds. */
function processCpu(pid: number): { user: number; system: number } {
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICK, system: Number(fields[12]) / TICK };
}

/** Machine-wide CPU seconds: softirq, and everything but idle and iowait. */
function machineCpu(): { softirq: number; busy: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return {
    softirq: softirq! / TICK,
    busy: (user! + nice! + system! + irq! + softirq! + steal!) / TICK,
  };
}

/** Group datagrams sent (multicast and sbroadcast) from the metrics the server prints when it stops. */
function groupDatagrams(metrics: string): number {
  let n = 0;
  for (const m of metrics.matchAll(
    /^bootpt_agent_tftp_packets_sent_total\{mode="(?:multicast|sbroadcast)"\} (\d+)$/gm,
  )) {
    n += Number(m[1]);
  }
  return n;
}

/** A client's CPU seconds from its output: `cpu <user µs> <system µs>` (ours) or the shell's `times`. */
function clientCpu(stdout: string): { user: number; system: number } {
  const ours = /^cpu (\d+) (\d+)$/m.exec(stdout);
  if (ours) return { user: Number(ours[1]) / 1e6, system: Number(ours[2]) / 1e6 };
  // `times`: the shell's user/system, then its children's (atftp) on the second line.
  const times = [...stdout.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)][1];
  if (!times) return { user: 0, system: 0 };
  return {
    user: Number(times[1]) * 60 + Number(times[2]),
    system: Number(times[3]) * 60 + Number(times[4]),
  };
}
