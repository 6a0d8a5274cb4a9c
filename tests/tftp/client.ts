/**
 * A TFTP read client for the group modes the Debian clients lack (IBM `sbroadcast`) and for RFC 2090
 * multicast, driven by the protocol's client machine (`clientReadStep`).
 *
 *   node --conditions=source --import tsx tests/tftp/client.ts SERVER PORT FILE OUT \
 *     [--blksize N] [--windowsize N] [--sbroadcast MASK | --multicast] [--local ADDR]
 *
 * Prints `done <outcome> <bytes> <ms>` (ms from the RRQ to the end) and exits 0 only on `complete`.
 * `--local` is this host's address: the interface for multicast membership.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { clientReadStep, createClientRead, decodeTftp, encodeTftp } from '@bootpt/protocol/tftp/index';
import type { ClientReadEvent, ClientReadState, TftpEffect, TftpOption } from '@bootpt/protocol/tftp/index';

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

const options: TftpOption[] = [];
if (values.blksize) options.push({ name: 'blksize', value: values.blksize });
if (values.windowsize) options.push({ name: 'windowsize', value: values.windowsize });
options.push({ name: 'tsize', value: '0' });
if (values.sbroadcast) options.push({ name: 'sbroadcast', value: values.sbroadcast });
if (values.multicast) options.push({ name: 'multicast', value: '' });

const out = openSync(outPath, 'w');
const socket: Socket = createSocket({ type: 'udp4' });
let groupSocket: Socket | undefined;
let peerPort: number | null = null;
let state: ClientReadState;
let timer: NodeJS.Timeout | undefined;
const started = performance.now();
const timeoutMs = Number(values.timeout ?? 1000);

function step(event: ClientReadEvent): void {
  const r = clientReadStep(state, event, performance.now());
  state = r.state;
  apply(r.effects);
}

function apply(effects: readonly TftpEffect[]): void {
  for (const e of effects) {
    switch (e.type) {
      case 'send':
        socket.send(encodeTftp(e.packet), peerPort ?? Number(portText), server);
        break;
      case 'setTimer':
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => step({ type: 'timer' }), Math.max(0, e.at - performance.now()));
        break;
      case 'data':
        if (e.data.length > 0) writeSync(out, e.data, 0, e.data.length, e.offset);
        break;
      case 'joinGroup':
        joinGroup(e.kind, e.address, e.port);
        break;
      case 'done': {
        if (timer) clearTimeout(timer);
        closeSync(out);
        const ms = Math.round(performance.now() - started);
        process.stdout.write(`done ${e.outcome} ${e.bytes} ${ms}${e.error ? ` ${e.error.message}` : ''}\n`);
        // The final ACK was just queued: close once it has left.
        setTimeout(() => {
          socket.close();
          groupSocket?.close();
        }, 20);
        process.exitCode = e.outcome === 'complete' ? 0 : 1;
        break;
      }
      default:
        break;
    }
  }
}

function joinGroup(kind: 'multicast' | 'sbroadcast', address: string | null, port: number): void {
  if (groupSocket) return;
  const g = createSocket({ type: 'udp4', reuseAddr: true });
  groupSocket = g;
  g.on('message', (msg, rinfo) => {
    if (rinfo.port !== peerPort) return;
    const d = decodeTftp(msg);
    if (d.ok) step({ type: 'packet', packet: d.value, from: 'group' });
  });
  g.bind(port, () => {
    if (kind === 'multicast' && address) g.addMembership(address, values.local);
    else g.setBroadcast(true);
  });
}

socket.on('message', (msg, rinfo) => {
  if (rinfo.address !== server) return;
  if (peerPort === null) peerPort = rinfo.port;
  else if (rinfo.port !== peerPort) return;
  const d = decodeTftp(msg);
  step(
    d.ok ? { type: 'packet', packet: d.value, from: 'peer' } : { type: 'malformed', reason: d.error.message },
  );
});

socket.bind(0, () => {
  const r = createClientRead(
    {
      filename,
      mode: 'octet',
      options,
      retry: { timeoutMs, maxTimeoutMs: timeoutMs * 4, maxRetries: 8 },
      dallyMs: 0,
      groupIdleMs: 60_000,
    },
    performance.now(),
  );
  state = r.state;
  apply(r.effects);
});
