/**
 * A TFTP read client for the group modes the Debian clients lack (IBM `sbroadcast`) and for RFC 2090
 * multicast: a thin CLI over the client's TFTP read library (apps/client/src/tftp-read.ts, driven by the
 * protocol's client machine `clientReadStep`).
 *
 *   node --conditions=source --import tsx tests/tftp/client.ts SERVER PORT FILE OUT \
 *     [--blksize N] [--windowsize N] [--sbroadcast MASK | --multicast] [--local ADDR] [--timeout MS] \
 *     [--wait FIFO]
 *
 * Prints `done <outcome> <bytes> <ms>` (ms from the RRQ to the end) and exits 0 only on `complete`.
 * `--local` is this host's address: the interface for multicast membership.
 *
 * `--wait FIFO` (benchmarks: start many clients at once, Node's start-up excluded): once loaded (the
 * library's `prepareTftpRead` included: the add-on and dgram's bind-time module), print
 * `ready`, read FIFO to its end (blocks until a writer opens and closes it), then send the RRQ; at the end
 * also print `end <epoch ms>` and `cpu <user µs> <system µs>` (this process's CPU time since the release).
 * A group read also prints `receive <native|dgram> <fast blocks> <handed> <foreign> <wakes> <datagrams>`
 * (how the group stream was received: the native add-on's counters, see the client README).
 *
 * Blocks are written into OUT at their offset as they come (the output file is the read's destination:
 * the native group path writes a batch of adjacent blocks with one pwritev), like a stdio client; no copy
 * of the file is held in memory.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { prepareTftpRead, tftpRead, writeAt, type TftpGroupMode } from '../../apps/client/src/tftp-read.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    blksize: { type: 'string' },
    windowsize: { type: 'string' },
    sbroadcast: { type: 'string' },
    multicast: { type: 'boolean' },
    local: { type: 'string' },
    timeout: { type: 'string' },
    wait: { type: 'string' },
  },
});
const [server, portText, filename, outPath] = positionals;
if (!server || !portText || !filename || !outPath) {
  process.stderr.write('usage: client.ts SERVER PORT FILE OUT [options]\n');
  process.exit(64);
}

const group: TftpGroupMode | undefined = values.sbroadcast
  ? { kind: 'sbroadcast', mask: values.sbroadcast }
  : values.multicast
    ? { kind: 'multicast' }
    : undefined;
const out = openSync(outPath, 'w');
if (values.wait) {
  // Loaded means loaded: the add-on and dgram's bind-time module too, not on the first packets.
  prepareTftpRead();
  process.stdout.write('ready\n');
  readFileSync(values.wait);
}
const startedAt = performance.timeOrigin + performance.now();
const cpuAtStart = process.cpuUsage();
const result = await tftpRead({
  server,
  port: Number(portText),
  filename,
  ...(values.blksize ? { blksize: Number(values.blksize) } : {}),
  ...(values.windowsize ? { windowsize: Number(values.windowsize) } : {}),
  ...(group ? { group } : {}),
  ...(values.local ? { localAddress: values.local } : {}),
  timeoutMs: Number(values.timeout ?? 1000),
  // The output file is the read's destination once tsize is known (the group fast path needs one).
  onSize: () => ({ fd: out }),
  // Without tsize (a server that ignored the option) blocks come here: the same file, the same offsets.
  onData: (data, offset) => writeAt(out, data, offset),
});
closeSync(out);
const { outcome, bytes, ms, error } = result;
process.stdout.write(`done ${outcome} ${bytes} ${ms}${error ? ` ${error.message}` : ''}\n`);
if (result.receive) {
  const { path, fastBlocks, handed, foreign, wakes, datagrams } = result.receive;
  process.stdout.write(`receive ${path} ${fastBlocks} ${handed} ${foreign} ${wakes} ${datagrams}\n`);
}
if (values.wait) {
  // The transfer's end by this host's clock (the library closes its sockets a moment later).
  const end = startedAt + ms;
  process.stdout.write(`end ${Math.round(end)}\n`);
  // CPU this process spent from the release to here (Node's start-up excluded), in µs.
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(`cpu ${cpu.user} ${cpu.system}\n`);
}
process.exitCode = outcome === 'complete' ? 0 : 1;
