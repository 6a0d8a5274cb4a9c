import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSocket, Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeTftp, encodeTftp } from '@bootpt/protocol/tftp/index';
import { pseudoRandom, sha256 } from '../../agent/src/tftp/testing.js';
import { tftpRead, type TftpReadOptions } from './tftp-read.js';

/**
 * The TFTP read library over loopback against the agent's TFTP service (`tests/tftp/serve.ts`, a child
 * process): unicast and multicast reads deliver the exact file; a server that never answers ends in
 * `timeout` after the retries (never hangs); an ERROR ends the read with it. A scripted group server checks
 * that a master's ACK 0 (which starts the stream) leaves only once its group socket is bound.
 */

const SERVE = resolve(import.meta.dirname, '../../../tests/tftp/serve.ts');
const SIZE = 700_000 + 13;

describe('tftpRead over loopback', () => {
  let work: string;
  let port: number;
  let stop: () => void;
  const body = pseudoRandom(SIZE, 5);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'bpt-tftp-read-'));
    writeFileSync(join(work, 'file.bin'), body);
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        SERVE,
        JSON.stringify({ loopback: true, port: 0, root: work }),
      ],
      { env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    stop = () => child.kill('SIGTERM');
    port = await new Promise<number>((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 30_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /tftp ready (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          done(Number(m[1]));
        }
      });
    });
  }, 40_000);

  afterAll(() => {
    stop?.();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function read(over: Partial<TftpReadOptions>) {
    const got = Buffer.alloc(SIZE);
    const result = await tftpRead({
      server: '127.0.0.1',
      port,
      filename: 'file.bin',
      timeoutMs: 200,
      onData: (data, offset) => got.set(data, offset),
      ...over,
    });
    return { result, got };
  }

  it('reads a file unicast and as a multicast group member', async () => {
    const unicast = await read({ blksize: 1428, windowsize: 8 });
    expect(unicast.result).toMatchObject({
      outcome: 'complete',
      bytes: SIZE,
      tsize: SIZE,
      delivery: 'unicast',
    });
    expect(sha256(unicast.got)).toBe(sha256(body));
    const group = await read({ blksize: 1428, group: { kind: 'multicast' }, localAddress: '127.0.0.1' });
    expect(group.result).toMatchObject({ outcome: 'complete', bytes: SIZE, delivery: 'multicast' });
    expect(sha256(group.got)).toBe(sha256(body));
    expect(group.result.wireRead).toBeGreaterThan(SIZE);
  }, 30_000);

  it('ends with the ERROR the server sends, and aborts when the caller refuses the size', async () => {
    const missing = await read({ filename: 'nothere.bin' });
    expect(missing.result.outcome).toBe('error');
    expect(missing.result.error?.code).toBe(1);
    const refused = await read({
      onSize: (tsize) => {
        throw new Error(`want 10 bytes, server has ${tsize}`);
      },
    });
    expect(refused.result.outcome).toBe('aborted');
    expect(refused.result.bytes).toBeLessThan(SIZE);
  }, 30_000);

  it('gives up with timeout after its retries when nobody answers (never hangs)', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((done) => silent.bind(0, '127.0.0.1', () => done()));
    let requests = 0;
    silent.on('message', () => requests++);
    const { result } = await read({ port: silent.address().port, timeoutMs: 50, maxRetries: 3 });
    silent.close();
    expect(result.outcome).toBe('timeout');
    expect(requests).toBe(4);
  }, 30_000);

  it('sends ACK 0 of a group transfer only once the group socket is bound', async () => {
    // Every bind 50 ms late: an ACK 0 sent before the group socket's would start a stream nobody hears.
    const { bind } = Socket.prototype as { bind: (...args: unknown[]) => Socket };
    const spy = vi.spyOn(Socket.prototype, 'bind').mockImplementation(function (this: Socket, ...args) {
      setTimeout(() => Reflect.apply(bind, this, args), 50);
      return this;
    });
    const probePort = await freePort();
    const server = createSocket('udp4');
    await new Promise<void>((done) => server.bind(0, '127.0.0.1', () => done()));
    const file = Buffer.from(pseudoRandom(600, 9));
    const boundAtAck0: boolean[] = [];
    server.on('message', (msg, rinfo) => {
      const packet = decodeTftp(msg);
      if (!packet.ok) return;
      const reply = (p: Parameters<typeof encodeTftp>[0], port = rinfo.port): void => {
        server.send(encodeTftp(p), port, '127.0.0.1');
      };
      if (packet.value.opcode === 'RRQ') {
        reply({
          opcode: 'OACK',
          options: [
            { name: 'tsize', value: String(file.length) },
            { name: 'sbroadcast', value: `${probePort},7,1` },
          ],
        });
      } else if (packet.value.opcode === 'ACK' && packet.value.block === 0) {
        boundAtAck0.push(!canBind(probePort));
        // The whole file once, never again: the client completes only if it heard these.
        reply({ opcode: 'BDATA', block: 1, sbid: 7, data: file.subarray(0, 512) }, probePort);
        reply({ opcode: 'BDATA', block: 2, sbid: 7, data: file.subarray(512) }, probePort);
      }
    });
    try {
      const got = Buffer.alloc(file.length);
      const result = await tftpRead({
        server: '127.0.0.1',
        port: (server.address() as { port: number }).port,
        filename: 'file.bin',
        group: { kind: 'sbroadcast', mask: '255.0.0.0' },
        timeoutMs: 2000,
        maxRetries: 0,
        onData: (data, offset) => got.set(data, offset),
      });
      expect(boundAtAck0).toEqual([true]);
      expect(result).toMatchObject({ outcome: 'complete', bytes: file.length, delivery: 'sbroadcast' });
      expect(got.equals(file)).toBe(true);
    } finally {
      spy.mockRestore();
      server.close();
    }
  }, 30_000);
});

/** A UDP port nobody uses right now. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((done) => s.bind(0, '127.0.0.1', () => done()));
  const { port } = s.address();
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

/** Whether no UDP socket is bound to `port` (checked synchronously with `ss`). */
function canBind(port: number): boolean {
  const r = spawnSync('ss', ['-Hlun', `sport = :${port}`], { encoding: 'utf8' });
  return r.stdout.trim() === '';
}
