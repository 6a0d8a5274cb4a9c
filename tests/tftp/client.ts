/**
 * A TFTP read client for the group modes the Debian clients lack (IBM `sbroadcast`) and for RFC 2090
 * multicast: a thin CLI over the client's TFTP read library (apps/client/src/tftp-read.ts, driven by the
 * protocol's client machine `clientReadStep`).
 *
 *   node --conditions=source --import tsx tests/tftp/client.ts SERVER PORT FILE OUT \
 *     [--blksize N] [--windowsize N] [--sbroadcast MASK | --multicast] [--local ADDR] [--timeout MS]
 *
 * Prints `done <outcome> <bytes> <ms>` (ms from the RRQ to the end) and exits 0 only on `complete`.
 * `--local` is this host's address: the interface for multicast membership.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tftpRead, type TftpGroupMode } from '../../apps/client/src/tftp-read.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    blksize: { type: 'string' },
    windowsize: { type: 'string' },
    sbroadcast: { type: 'string' },
    multicast: { type: 'boolean' },
    local: { type: 'string' },
    timeout: { type: 'string' },
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
const result = await tftpRead({
  server,
  port: Number(portText),
  filename,
  ...(values.blksize ? { blksize: Number(values.blksize) } : {}),
  ...(values.windowsize ? { windowsize: Number(values.windowsize) } : {}),
  ...(group ? { group } : {}),
  ...(values.local ? { localAddress: values.local } : {}),
  timeoutMs: Number(values.timeout ?? 1000),
  onData: (data, offset) => writeSync(out, data, 0, data.length, offset),
});
closeSync(out);
const { outcome, bytes, ms, error } = result;
process.stdout.write(`done ${outcome} ${bytes} ${ms}${error ? ` ${error.message}` : ''}\n`);
process.exitCode = outcome === 'complete' ? 0 : 1;
