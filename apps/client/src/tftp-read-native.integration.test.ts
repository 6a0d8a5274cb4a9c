import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTftp, encodeTftp } from '@bootpt/protocol/tftp/index';
import { unwrapBlock } from '@bootpt/protocol/tftp/group';
import { seededRandom } from '@bootpt/protocol/turbo/index';
import type { TftpOption, TftpPacket } from '@bootpt/protocol/tftp/index';
import { pseudoRandom, sha256 } from '../../agent/src/tftp/testing.js';
import { nativeReceive, tftpRead, type TftpGroupMode, type TftpReadResult } from './tftp-read.js';

/**
 * The group receive path of `tftpRead` with the native add-on (`tftp_receive.node`, C fast path for
 * non-master members) and with node:dgram, against a scripted RFC 2090 / sbroadcast server on loopback:
 * one transfer socket for every member (the stream comes from its port), the master's ACKs drive a window
 * of blocks to the group (multicast 239.255.77.x joined on 127.0.0.1, or broadcast 127.255.255.255), a
 * seeded share of the group datagrams is dropped, an impostor on another port sends every block with wrong
 * octets first, and when the master ends the server hands the master role to the next member (OACK mc=1).
 * The outcomes and the files must be the same on both paths, and the native path must really be used.
 */

const WINDOW = 32;
// This file compares both paths itself (`native` per read): a run with BOOTPT_TFTP_RECEIVE=js (the other
// group tests' add-on-less mode) must not turn its native half into a second dgram half.
delete process.env.BOOTPT_TFTP_RECEIVE;
const api = nativeReceive();

interface Member {
  port: number;
  master: boolean;
  /** The server's reference for unwrapping this master's ACKs. */
  ref: number;
  done: boolean;
}

interface ScriptedServer {
  readonly port: number;
  /** OACKs that made a member master (the first one included). */
  readonly masters: () => number;
  readonly sent: () => number;
  readonly sentAtLeast: (n: number) => Promise<void>;
  readonly close: () => void;
}

async function bound(socket: Socket): Promise<void> {
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', () => done()));
}

async function scriptedServer(args: {
  file: Buffer;
  blksize: number;
  kind: TftpGroupMode['kind'];
  group: string;
  groupPort: number;
  loss: number;
  seed: number;
  /** Blocks whose first send to the group is dropped (beside the seeded loss). */
  dropFirst?: readonly number[];
}): Promise<ScriptedServer> {
  const { file, blksize, kind, groupPort } = args;
  const lastBlock = Math.floor(file.length / blksize) + 1;
  const sbid = 0x5eed;
  const server = createSocket('udp4');
  const impostor = createSocket('udp4');
  await bound(server);
  await bound(impostor);
  const destination = kind === 'multicast' ? args.group : '127.255.255.255';
  if (kind === 'multicast') {
    server.setMulticastInterface('127.0.0.1');
    impostor.setMulticastInterface('127.0.0.1');
  } else {
    server.setBroadcast(true);
    impostor.setBroadcast(true);
  }
  const drop = seededRandom(args.seed);
  const dropFirst = new Set(args.dropFirst);
  const members = new Map<number, Member>();
  let masters = 0;
  let sent = 0;
  const waiters: { n: number; done: () => void }[] = [];

  const to = (packet: TftpPacket, port: number): void => {
    server.send(encodeTftp(packet), port, '127.0.0.1');
  };
  const data = (block: number, bytes: Buffer): TftpPacket =>
    kind === 'multicast'
      ? { opcode: 'DATA', block: block & 0xffff, data: bytes }
      : { opcode: 'BDATA', block: block & 0xffff, sbid, data: bytes };
  const value = (master: boolean): string =>
    kind === 'multicast'
      ? `${args.group},${groupPort},${master ? 1 : 0}`
      : `${groupPort},${sbid},${master ? 1 : 0}`;
  const oack = (m: Member, first: boolean): void => {
    const options: TftpOption[] = [{ name: kind, value: value(m.master) }];
    if (first) {
      options.push(
        { name: 'blksize', value: String(blksize) },
        { name: 'windowsize', value: String(WINDOW) },
        { name: 'tsize', value: String(file.length) },
        { name: 'rollover', value: '0' },
      );
    }
    if (m.master) masters++;
    to({ opcode: 'OACK', options }, m.port);
  };
  const promote = (): void => {
    if ([...members.values()].some((m) => m.master && !m.done)) return;
    const next = [...members.values()].find((m) => !m.done);
    if (!next) return;
    next.master = true;
    next.ref = 0;
    oack(next, false);
  };
  const stream = (from: number): void => {
    for (let block = from; block < from + WINDOW && block <= lastBlock; block++) {
      const bytes = file.subarray((block - 1) * blksize, Math.min(file.length, block * blksize));
      impostor.send(encodeTftp(data(block, Buffer.alloc(bytes.length, 0xee))), groupPort, destination);
      sent++;
      if (drop() < args.loss || dropFirst.delete(block)) continue;
      server.send(encodeTftp(data(block, bytes)), groupPort, destination);
    }
    for (const w of waiters.filter((x) => sent >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.done();
    }
  };

  server.on('message', (msg, rinfo) => {
    const d = decodeTftp(msg);
    if (!d.ok) return;
    const p = d.value;
    if (p.opcode === 'RRQ') {
      const m: Member = { port: rinfo.port, master: false, ref: 0, done: false };
      m.master = ![...members.values()].some((x) => x.master && !x.done);
      members.set(rinfo.port, m);
      oack(m, true);
      return;
    }
    const m = members.get(rinfo.port);
    if (!m || m.done) return;
    if (p.opcode === 'ERROR') {
      m.done = true;
      promote();
    } else if (p.opcode === 'ACK') {
      const block = m.master
        ? unwrapBlock(m.ref, p.block)
        : p.block === (lastBlock & 0xffff)
          ? lastBlock
          : -1;
      if (block === lastBlock) {
        m.done = true;
        promote();
      } else if (m.master && block >= 0) {
        m.ref = block;
        stream(block + 1);
      }
    }
  });

  return {
    port: server.address().port,
    masters: () => masters,
    sent: () => sent,
    sentAtLeast: (n) =>
      sent >= n ? Promise.resolve() : new Promise<void>((done) => waiters.push({ n, done })),
    close: () => {
      server.close();
      impostor.close();
    },
  };
}

/**
 * A read into a destination buffer (as the client's group fetch does) or, with `file`, into a file
 * descriptor open on it (as the CLI does); the file's bytes and the result.
 */
async function member(
  server: ScriptedServer,
  kind: TftpGroupMode['kind'],
  size: number,
  blksize: number,
  native: boolean,
  file?: { path: string; flags: 'w' | 'r' },
): Promise<{ result: TftpReadResult; got: Buffer }> {
  const buffer = Buffer.alloc(size);
  const fd = file ? openSync(file.path, file.flags) : -1;
  const result = await tftpRead({
    server: '127.0.0.1',
    port: server.port,
    filename: 'file.bin',
    blksize,
    windowsize: WINDOW,
    group: kind === 'multicast' ? { kind } : { kind, mask: '255.0.0.0' },
    localAddress: '127.0.0.1',
    timeoutMs: 100,
    maxRetries: 20,
    groupIdleMs: 20_000,
    native,
    onSize: (tsize) => (tsize !== size ? undefined : file ? { fd } : buffer),
    onData: () => {
      throw new Error('blocks go to the destination');
    },
  }).finally(() => {
    if (file) closeSync(fd);
  });
  return { result, got: file ? readFileSync(file.path) : buffer };
}

let opened: ScriptedServer | undefined;
afterEach(() => {
  opened?.close();
  opened = undefined;
});

describe('tftpRead group receive: native add-on and node:dgram', () => {
  it('the add-on is built and loads here', () => {
    expect(api).not.toBeNull();
  });

  describe.each([
    { native: true, kind: 'multicast' as const },
    { native: false, kind: 'multicast' as const },
    { native: true, kind: 'sbroadcast' as const },
    { native: false, kind: 'sbroadcast' as const },
  ])('native $native, $kind', ({ native, kind }) => {
    it('seeded loss, a wrong-port impostor, a late joiner and a hand-over: three exact copies', async () => {
      const blksize = 1024;
      const size = 600 * blksize + 321;
      const file = pseudoRandom(size, 21);
      const server = await scriptedServer({
        file,
        blksize,
        kind,
        group: '239.255.77.21',
        groupPort: 47_000 + (native ? 10 : 20) + (kind === 'multicast' ? 1 : 2),
        loss: 0.05,
        seed: 21,
      });
      opened = server;
      const first = member(server, kind, size, blksize, native);
      const second = member(server, kind, size, blksize, native);
      await server.sentAtLeast(300);
      const late = member(server, kind, size, blksize, native);
      const all = await Promise.all([first, second, late]);
      for (const { result, got } of all) {
        expect(result).toMatchObject({
          outcome: 'complete',
          bytes: size,
          blocks: 601,
          tsize: size,
          delivery: kind,
        });
        expect(sha256(got)).toBe(sha256(file));
        expect(result.receive?.path).toBe(native ? 'native' : 'dgram');
      }
      // The late joiner misses the first half: it is handed the master role when the others are done.
      expect(server.masters()).toBeGreaterThanOrEqual(2);
      if (native) {
        // Every member took blocks in C (a master those that do not make it ACK) and dropped the impostor's.
        for (const { result } of all) {
          expect(result.receive!.fastBlocks).toBeGreaterThan(100);
          expect(result.receive!.foreign).toBeGreaterThan(100);
        }
      }
    }, 60_000);
  });

  describe.each([
    { native: true, kind: 'multicast' as const },
    { native: false, kind: 'multicast' as const },
    { native: true, kind: 'sbroadcast' as const },
  ])('native $native, $kind, into a file descriptor', ({ native, kind }) => {
    let dir = '';
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const blksize = 1024;
    /** This case's scripted server for `file` (group 239.255.77.<seed>, a port of its own), opened. */
    const serve = async (
      file: Buffer,
      seed: number,
      portBase: number,
      loss: number,
      dropFirst?: readonly number[],
    ) => {
      opened = await scriptedServer({
        file,
        blksize,
        kind,
        group: `239.255.77.${seed}`,
        groupPort: portBase + (native ? 1 : 2) + (kind === 'multicast' ? 0 : 4),
        loss,
        seed,
        dropFirst,
      });
      return opened;
    };

    it('three members write exact files, the fast path batching its writes', async () => {
      dir = mkdtempSync(join(tmpdir(), 'bpt-tftp-fd-'));
      const size = 400 * blksize + 77;
      const file = pseudoRandom(size, 41);
      const server = await serve(file, 41, 47_040, 0.05);
      const read = (k: number) =>
        member(server, kind, size, blksize, native, { path: join(dir, `out-${k}`), flags: 'w' });
      const first = read(1);
      const second = read(2);
      await server.sentAtLeast(200);
      const all = await Promise.all([first, second, read(3)]);
      for (const { result, got } of all) {
        expect(result).toMatchObject({ outcome: 'complete', bytes: size, blocks: 401 });
        expect(got.length).toBe(size);
        expect(sha256(got)).toBe(sha256(file));
      }
      if (native) {
        for (const { result } of all) expect(result.receive!.fastBlocks).toBeGreaterThan(100);
      }
    }, 60_000);

    it('a file of exactly n blocks: members missing the block before the empty last one still finish', async () => {
      // The last block of a file of n × blksize octets carries no data. A non-master that takes it while
      // still missing the block before it keeps it in C as a write run of its own with nothing in it: a
      // zero-length pwritev returns 0, which the write loop once took for a failed write (EIO).
      dir = mkdtempSync(join(tmpdir(), 'bpt-tftp-fd-'));
      const size = 300 * blksize;
      const file = pseudoRandom(size, 45);
      const server = await serve(file, 45, 47_060, 0, [300]);
      const read = (k: number) =>
        member(server, kind, size, blksize, native, { path: join(dir, `out-${k}`), flags: 'w' });
      const all = await Promise.all([read(1), read(2), read(3)]);
      for (const { result, got } of all) {
        expect(result).toMatchObject({ outcome: 'complete', bytes: size, blocks: 301 });
        expect(sha256(got)).toBe(sha256(file));
      }
    }, 60_000);

    it('a descriptor that cannot be written ends the read with the errno, not a complete file', async () => {
      dir = mkdtempSync(join(tmpdir(), 'bpt-tftp-fd-'));
      const size = 200 * blksize + 5;
      const path = join(dir, 'read-only');
      writeFileSync(path, '');
      const server = await serve(pseudoRandom(size, 43), 43, 47_050, 0);
      // Two members, so one is a non-master whose blocks the native fast path writes itself.
      const all = await Promise.all([
        member(server, kind, size, blksize, native, { path, flags: 'r' }),
        member(server, kind, size, blksize, native, { path, flags: 'r' }),
      ]);
      for (const { result } of all) {
        expect(result.outcome).not.toBe('complete');
        expect(result.error?.message).toMatch(/EBADF/);
      }
      if (native) {
        expect(all.some(({ result }) => /writing the destination: EBADF/.test(result.error!.message))).toBe(
          true,
        );
      }
    }, 60_000);
  });

  it.each([
    { native: true, blocks: 1 },
    { native: false, blocks: 1 },
    { native: true, blocks: 3 },
  ])(
    'native $native, a $blocks-block file into a read-only descriptor: the read ends with EBADF',
    async ({ native, blocks }) => {
      // A non-master member gets the whole file in one drain. One block: the block that completes the
      // file cannot be written (the machine has ended on it: the read must still end, with the error).
      // Three blocks, native: the fast path takes blocks 1 and 2 (their write fails) and hands block 3,
      // which completes the file, to JavaScript in the same onBatch call as the write error.
      const dir = mkdtempSync(join(tmpdir(), 'bpt-tftp-fd-'));
      const server = createSocket('udp4');
      let burst: NodeJS.Timeout | undefined;
      try {
        const blksize = 512;
        const size = (blocks - 1) * blksize + 9;
        const file = pseudoRandom(size, 47);
        const group = '239.255.77.47';
        const groupPort = 47_070 + (native ? 1 : 2) + blocks * 2;
        await bound(server);
        server.setMulticastInterface('127.0.0.1');
        server.on('message', (msg, rinfo) => {
          const d = decodeTftp(msg);
          if (!d.ok || d.value.opcode !== 'RRQ' || burst) return;
          const options: TftpOption[] = [
            { name: 'multicast', value: `${group},${groupPort},0` },
            { name: 'blksize', value: String(blksize) },
            { name: 'tsize', value: String(size) },
          ];
          server.send(encodeTftp({ opcode: 'OACK', options }), rinfo.port, '127.0.0.1');
          // The whole file to the group in one event-loop turn, again until the read ends (bounded).
          let bursts = 0;
          burst = setInterval(() => {
            if (++bursts > 100) clearInterval(burst);
            for (let block = 1; block <= blocks; block++) {
              const bytes = file.subarray((block - 1) * blksize, Math.min(size, block * blksize));
              server.send(encodeTftp({ opcode: 'DATA', block, data: bytes }), groupPort, group);
            }
          }, 50);
        });
        const path = join(dir, 'read-only');
        writeFileSync(path, '');
        const fd = openSync(path, 'r');
        const result = await tftpRead({
          server: '127.0.0.1',
          port: server.address().port,
          filename: 'tiny',
          blksize,
          group: { kind: 'multicast' },
          localAddress: '127.0.0.1',
          timeoutMs: 2000,
          groupIdleMs: 20_000,
          native,
          onSize: () => ({ fd }),
          onData: () => {
            throw new Error('blocks go to the destination');
          },
        }).finally(() => closeSync(fd));
        expect(result.outcome).toBe('aborted');
        expect(result.error?.message).toMatch(/EBADF/);
        if (native && blocks === 3) {
          expect(result.error?.message).toMatch(/^writing the destination: EBADF/);
          expect(result.receive!.fastBlocks).toBe(2);
        }
      } finally {
        clearInterval(burst);
        server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );

  it.each([true, false])(
    'native %s: past the block-number wrap a member takes no ambiguous number, and the copies are exact',
    async (native) => {
      const blksize = 8;
      const size = 66_000 * blksize + 5; // lastBlock 66,001: numbers 1 … 465 are ambiguous for a non-master
      const file = pseudoRandom(size, 33);
      const server = await scriptedServer({
        file,
        blksize,
        kind: 'multicast',
        group: '239.255.77.33',
        groupPort: native ? 47_031 : 47_032,
        loss: 0.01,
        seed: 33,
      });
      opened = server;
      const first = member(server, 'multicast', size, blksize, native);
      // Joins once blocks 1 … 465 have gone by: numbers 1 … 465 then arrive only as blocks 65,537 … 66,001.
      await server.sentAtLeast(4000);
      const all = await Promise.all([first, member(server, 'multicast', size, blksize, native)]);
      for (const { result, got } of all) {
        expect(result).toMatchObject({ outcome: 'complete', bytes: size, blocks: 66_001 });
        expect(sha256(got)).toBe(sha256(file));
      }
      if (native) {
        // The non-master left every ambiguous number to the machine (which ignored it).
        const member = all.find(({ result }) => result.receive!.fastBlocks > 60_000);
        expect(member?.result.receive!.handed).toBeGreaterThan(400);
      }
    },
    120_000,
  );
});
