import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TftpPacket } from '@bootpt/protocol/tftp/index';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import type { NetnsProcess } from '../../../../tests/lib/netns.js';
import {
  DATA_PATHS as PATHS,
  metricValue,
  pseudoRandom,
  RawClient,
  rrq,
  sha256,
  sha256File,
  startLoopbackServer,
  startTftpServer,
} from './testing.js';

/**
 * Unicast read transfers on both data paths: the native add-on (`tftp.nativeFastPath: required`, so a
 * missing add-on fails these tests instead of skipping them) and pure JS (`off`), with the same
 * expectations (outcomes, datagrams and retransmissions counted in the metrics) for both.
 *
 * Loopback, raw datagram client: the lock-step DATA phase retransmits only on timeout (never for a
 * duplicate or stale ACK), gives up after the retries, and ends with the machine's outcome on an ERROR from
 * the client, a malformed ACK and an unexpected opcode. Windows: an ACK short of the window end (a lost
 * block) restarts the window after it, a timeout resends the window, stale and duplicate ACKs send nothing.
 *
 * Namespace LAN, atftp, a window lost once (nftables drops the first packet carrying DATA 5): one timeout,
 * the window again, the same datagram and retransmission counts on both paths.
 *
 * Namespace LAN, atftp: the unicast ACK fast path (`unicast.ts`: the next window goes out before the
 * machine step, whose identical sends are then skipped) and the native DATA phase must send every block
 * exactly once on a clean link: a duplicate would still leave the client's file intact, so this counts the
 * datagrams the service reports instead. Lock-step and windows, GSO-sized and IP-fragmented blocks, and
 * the block-number rollover.
 */

function dataOf(packet: TftpPacket | undefined): { block: number; length: number } | null {
  return packet?.opcode === 'DATA' ? { block: packet.block, length: packet.data.length } : null;
}

/** A loopback server (fixed retransmission interval) serving `file` as file.bin from a new directory. */
async function serveFile(
  tag: string,
  file: Buffer,
  nativeFastPath: string,
  timeoutMs: number,
  maxRetries: number,
): Promise<{ work: string; server: Awaited<ReturnType<typeof startLoopbackServer>> }> {
  const work = mkdtempSync(join(tmpdir(), `bpt-tftp-${tag}-${nativeFastPath}-`));
  writeFileSync(join(work, 'file.bin'), file);
  const server = await startLoopbackServer({
    loopback: true,
    port: 0,
    root: work,
    nativeFastPath,
    retry: { timeoutMs, maxTimeoutMs: timeoutMs, maxRetries },
  });
  return { work, server };
}

describe.each(PATHS)('lock-step DATA phase on loopback ($path path)', ({ path, nativeFastPath }) => {
  let work: string;
  let server: Awaited<ReturnType<typeof startLoopbackServer>>;
  const clients: RawClient[] = [];
  const file = pseudoRandom(4 * 512 + 100, 7);
  const TIMEOUT_MS = 300;
  const MAX_RETRIES = 2;

  async function client(): Promise<RawClient> {
    const c = new RawClient();
    await c.bind();
    clients.push(c);
    return c;
  }

  /** RRQ with blksize 512 (so an OACK), ACK 0; returns the transfer's port after DATA 1 arrived. */
  async function open(c: RawClient): Promise<number> {
    c.send(rrq('file.bin', [{ name: 'blksize', value: '512' }]), server.port);
    const oack = await c.next();
    expect(oack?.packet.opcode).toBe('OACK');
    c.send({ opcode: 'ACK', block: 0 }, oack!.port);
    expect(dataOf((await c.next())?.packet)).toEqual({ block: 1, length: 512 });
    return oack!.port;
  }

  beforeAll(async () => {
    ({ work, server } = await serveFile('ls', file, nativeFastPath, TIMEOUT_MS, MAX_RETRIES));
  }, 30_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // Datagrams the server sent in this file's transfers (loopback loses nothing): checked against its metrics.
  let received = 0;
  let dataReceived = 0;
  let blocksServed = 0;

  it('retransmits the block in flight on timeout, never for a duplicate or stale ACK; file intact', async () => {
    const c = await client();
    const tid = await open(c);
    // No ACK for DATA 1: it comes again once the timer fires.
    expect(dataOf((await c.next(5000))?.packet)).toEqual({ block: 1, length: 512 });
    const got: Buffer[] = [];
    let r = { packet: { opcode: 'DATA', block: 1, data: file.subarray(0, 512) } as TftpPacket, port: tid };
    let data = 2;
    received = 1 + 2;
    for (;;) {
      if (r.packet.opcode !== 'DATA') throw new Error(`unexpected ${r.packet.opcode}`);
      const block = r.packet.block;
      if (got.length < block) got.push(Buffer.from(r.packet.data));
      // Every ACK twice, plus a stale ACK 0: only the first may move the transfer on.
      c.send({ opcode: 'ACK', block }, tid);
      c.send({ opcode: 'ACK', block }, tid);
      c.send({ opcode: 'ACK', block: 0 }, tid);
      if (r.packet.data.length < 512) break;
      const next = await c.next(5000);
      expect(next).not.toBeNull();
      r = next!;
      received++;
      data++;
    }
    expect(Buffer.concat(got).equals(file)).toBe(true);
    // Anything still arriving is a timer-driven DATA (a stalled test process), counted as such below.
    for (let extra = await c.next(200); extra; extra = await c.next(200)) {
      expect(extra.packet.opcode).toBe('DATA');
      received++;
      data++;
    }
    dataReceived += data;
    blocksServed += 5;
  });

  it('gives up after the retries when the client goes silent', async () => {
    const c = await client();
    await open(c);
    let copies = 1;
    // maxRetries 2: DATA 1 goes out three times in all, then the transfer ends (outcome timeout).
    for (let r = await c.next(TIMEOUT_MS * 10); r; r = await c.next(TIMEOUT_MS * 10)) {
      expect(dataOf(r.packet)).toEqual({ block: 1, length: 512 });
      copies++;
    }
    expect(copies).toBe(1 + MAX_RETRIES);
    received += 1 + copies;
    dataReceived += copies;
    blocksServed += 1;
  }, 20_000);

  it('ends on an ERROR from the client mid-transfer, without answering it', async () => {
    const c = await client();
    const tid = await open(c);
    c.send({ opcode: 'ACK', block: 1 }, tid);
    expect(dataOf((await c.next())?.packet)).toEqual({ block: 2, length: 512 });
    c.send({ opcode: 'ERROR', errorCode: 3, errorMessage: 'disk full' }, tid);
    let extra = 0;
    // No ERROR back; only a DATA 2 retransmission could come if the test stalled past the timeout.
    for (let r = await c.next(200); r; r = await c.next(200)) {
      expect(r.packet.opcode).toBe('DATA');
      extra++;
    }
    received += 3 + extra;
    dataReceived += 2 + extra;
    blocksServed += 2;
  });

  it('answers a malformed ACK and an unexpected opcode with ERROR 4 and ends the transfer', async () => {
    for (const bad of [
      Buffer.from([0, 4, 0, 1, 0]), // ACK with a trailing octet
      Buffer.from([0, 4, 0]), // truncated ACK
      Buffer.from([0, 3, 0, 1, 9]), // DATA from the reader
    ]) {
      const c = await client();
      const tid = await open(c);
      c.socket.send(bad, tid, '127.0.0.1');
      let r = await c.next(5000);
      let extra = 0;
      for (; r?.packet.opcode === 'DATA'; extra++) r = await c.next(5000); // timer-driven (stalled test)
      expect(r?.packet).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
      received += 3 + extra;
      dataReceived += 1 + extra;
      blocksServed += 1;
    }
  });

  it(`ran on the ${path} path, with the outcomes and counts of the machine`, async () => {
    const text = await server.stop();
    const count = 'bootpt_agent_tftp_transfer_duration_seconds_count';
    expect(metricValue(text, 'bootpt_agent_tftp_unicast_transfers_total', { path })).toBe(6);
    expect(metricValue(text, count, { mode: 'unicast', outcome: 'complete' })).toBe(1);
    expect(metricValue(text, count, { mode: 'unicast', outcome: 'timeout' })).toBe(1);
    expect(metricValue(text, count, { mode: 'unicast', outcome: 'error' })).toBe(4);
    expect(metricValue(text, 'bootpt_agent_tftp_active_transfers')).toBe(0);
    // Every DATA beyond one per block served is a counted timer retransmission (none answers an ACK).
    const retransmissions = metricValue(text, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' });
    expect(retransmissions).toBeGreaterThanOrEqual(1 + MAX_RETRIES);
    expect(dataReceived).toBe(blocksServed + retransmissions);
    // Everything sent reached the client (loopback): OACKs, DATA and the ERROR 4 replies.
    expect(metricValue(text, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(received);
  });
});

describe.each(PATHS)('windowed DATA phase on loopback ($path path)', ({ path, nativeFastPath }) => {
  let work: string;
  let server: Awaited<ReturnType<typeof startLoopbackServer>>;
  const blksize = 512;
  const file = pseudoRandom(10 * blksize + 77, 9);
  const TIMEOUT_MS = 300;

  beforeAll(async () => {
    ({ work, server } = await serveFile('win', file, nativeFastPath, TIMEOUT_MS, 2));
  }, 30_000);

  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  let received = 0;
  let dataReceived = 0;

  it('restarts after a short ACK, resends the window on timeout, ignores stale and duplicate ACKs', async () => {
    const c = new RawClient();
    await c.bind();
    try {
      const got = new Map<number, Buffer>();
      const window = async (): Promise<number[]> => {
        const blocks: number[] = [];
        for (let i = 0; i < 4; i++) {
          const r = await c.next(5000);
          if (r?.packet.opcode !== 'DATA') throw new Error(`expected DATA, got ${r?.packet.opcode}`);
          got.set(r.packet.block, Buffer.from(r.packet.data));
          blocks.push(r.packet.block);
          received++;
          dataReceived++;
          if (r.packet.data.length < blksize) break;
        }
        return blocks;
      };
      c.send(
        rrq('file.bin', [
          { name: 'blksize', value: String(blksize) },
          { name: 'windowsize', value: '4' },
        ]),
        server.port,
      );
      const oack = await c.next();
      expect(oack?.packet).toMatchObject({ opcode: 'OACK' });
      expect(oack?.packet.opcode === 'OACK' && oack.packet.options).toContainEqual({
        name: 'windowsize',
        value: '4',
      });
      received++;
      const tid = oack!.port;
      c.send({ opcode: 'ACK', block: 0 }, tid);
      expect(await window()).toEqual([1, 2, 3, 4]);
      // Block 3 "lost": ACK 2 restarts the window at 3 (a stale ACK 0 before it changes nothing).
      c.send({ opcode: 'ACK', block: 0 }, tid);
      c.send({ opcode: 'ACK', block: 2 }, tid);
      expect(await window()).toEqual([3, 4, 5, 6]);
      // No ACK: the same window again once the timer fires.
      expect(await window()).toEqual([3, 4, 5, 6]);
      c.send({ opcode: 'ACK', block: 6 }, tid);
      c.send({ opcode: 'ACK', block: 6 }, tid);
      c.send({ opcode: 'ACK', block: 5 }, tid);
      expect(await window()).toEqual([7, 8, 9, 10]);
      c.send({ opcode: 'ACK', block: 10 }, tid);
      expect(await window()).toEqual([11]);
      c.send({ opcode: 'ACK', block: 11 }, tid);
      const body = Buffer.concat([...Array(11).keys()].map((i) => got.get(i + 1)!));
      expect(body.equals(file)).toBe(true);
      // Anything still arriving is a timer-driven DATA (a stalled test process), counted as such below.
      for (let extra = await c.next(300); extra; extra = await c.next(300)) {
        expect(extra.packet.opcode).toBe('DATA');
        received++;
        dataReceived++;
      }
    } finally {
      c.close();
    }
  });

  it(`ran on the ${path} path, with the outcome and counts of the machine`, async () => {
    const text = await server.stop();
    const count = 'bootpt_agent_tftp_transfer_duration_seconds_count';
    expect(metricValue(text, 'bootpt_agent_tftp_unicast_transfers_total', { path })).toBe(1);
    expect(metricValue(text, count, { mode: 'unicast', outcome: 'complete' })).toBe(1);
    // 4 + 4 + 4 + 1 blocks answered ACKs; the rest went out on timeouts, a window (4 blocks) each.
    const retransmissions = metricValue(text, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' });
    expect(retransmissions).toBeGreaterThanOrEqual(1);
    expect(dataReceived - 13).toBe(4 * retransmissions);
    expect(metricValue(text, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(received);
  });
});

const netns = hasNetns();
const hasAtftp = spawnSync('which', ['atftp'], { encoding: 'utf8' }).status === 0;
const skip = !netns.ok ? netns.reason : hasAtftp ? '' : 'missing atftp';
const subnet = `10.215.${100 + (process.pid % 50)}`;

interface Case {
  readonly blksize: number;
  readonly windowsize: number;
  readonly size: number;
}

const CASES: readonly Case[] = [
  { blksize: 512, windowsize: 1, size: 300 * 512 + 100 },
  { blksize: 1468, windowsize: 1, size: 200 * 1468 },
  { blksize: 8192, windowsize: 1, size: 40 * 8192 + 5 },
  { blksize: 1468, windowsize: 8, size: 101 * 1468 },
  { blksize: 8192, windowsize: 8, size: 45 * 8192 + 1 },
  { blksize: 512, windowsize: 32, size: 77 * 512 - 1 },
  // Past block 65,535: the fast path matches 16-bit ACK numbers across the wrap.
  { blksize: 512, windowsize: 16, size: 65_540 * 512 + 7 },
  { blksize: 64, windowsize: 1, size: 65_540 * 64 + 3 },
];

/**
 * Host 2 fetches each case with atftp from the server at `server` (files `<prefix>-<blksize>-<windowsize>.bin`
 * in `work/root`, seeded `seed + i`), checking each file's SHA-256; returns the datagrams a clean run of them
 * sends: the OACK and one per block (plus the empty last block).
 */
async function fetchEach(
  lan: TestLan,
  server: string,
  work: string,
  cases: readonly Case[],
  prefix: string,
  seed: number,
): Promise<number> {
  let expectedPackets = 0;
  for (const [i, c] of cases.entries()) {
    const name = `${prefix}-${c.blksize}-${c.windowsize}.bin`;
    const body = pseudoRandom(c.size, seed + i);
    writeFileSync(join(work, 'root', name), body);
    const out = join(work, `out-${name}`);
    const argv = ['atftp', '-g', '-r', name, '-l', out, '--option', `blksize ${c.blksize}`];
    if (c.windowsize > 1) argv.push('--option', `windowsize ${c.windowsize}`);
    const r = await lan.exec(lan.host(2).namespace, [...argv, server, '69'], { timeoutMs: 60_000 });
    expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    expect(await sha256File(out), name).toBe(sha256(body));
    expectedPackets += 1 + Math.floor(c.size / c.blksize) + 1;
  }
  return expectedPackets;
}

describe.skipIf(skip !== '').each(PATHS)(
  `unicast sends on a clean link ($path path)${skip ? ` (skipped: ${skip})` : ''}`,
  ({ path, nativeFastPath }) => {
    let lan: TestLan;
    let server: NetnsProcess;
    let work: string;
    const serverAddress = `${subnet}.1`;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'bpt-tftp-fast-'));
      mkdirSync(join(work, 'root'));
      lan = await TestLan.create({ subnet, hosts: 2, tag: `tfu${path}` });
      server = await startTftpServer(lan, lan.host(1).namespace, {
        interfaces: ['eth0'],
        root: join(work, 'root'),
        maxBlksize: 65464,
        maxWindowsize: 64,
        nativeFastPath,
      });
    }, 60_000);

    afterAll(async () => {
      await lan?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('sends each block once (plus the OACK) and retransmits nothing, file intact', async () => {
      const expectedPackets = await fetchEach(lan, serverAddress, work, CASES, 'f', 1);
      const result = await server.stop('SIGTERM', 5000);
      expect(metricValue(result.stdout, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' })).toBe(
        0,
      );
      expect(metricValue(result.stdout, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(
        expectedPackets,
      );
      // Lock-step and windows alike take the native path when it is on.
      const transfers = (p: string): number =>
        metricValue(result.stdout, 'bootpt_agent_tftp_unicast_transfers_total', { path: p });
      expect([transfers('native'), transfers('js')]).toEqual(
        path === 'native' ? [CASES.length, 0] : [0, CASES.length],
      );
    }, 240_000);
  },
);

describe.skipIf(skip !== '').each(PATHS)(
  `a lost window, atftp ($path path)${skip ? ` (skipped: ${skip})` : ''}`,
  ({ path, nativeFastPath }) => {
    let lan: TestLan;
    let server: NetnsProcess;
    let work: string;
    const body = pseudoRandom(40 * 512 + 9, 78);

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'bpt-tftp-lost-'));
      mkdirSync(join(work, 'root'));
      writeFileSync(join(work, 'root', 'f.bin'), body);
      lan = await TestLan.create({
        subnet: `10.218.${100 + (process.pid % 50)}`,
        hosts: 2,
        tag: `tfl${path}`,
      });
      // The first packet to the client starting with DATA 5 (opcode 3, block 5 after the UDP header) is
      // dropped, none after it (the limit's one-packet burst is used up). Both paths send a window of
      // 512-octet blocks as one UDP GSO send (the JS path through the agent's `sockopt` dependency), which
      // crosses the veth as one packet: the whole window 5-8 is lost.
      const rule = 'udp sport != 69 @th,64,32 0x00030005 limit rate 1/hour burst 1 packets drop';
      const script = `table inet lost {\n chain input {\n  type filter hook input priority 0;\n  ${rule}\n }\n}\n`;
      const r = await lan.exec(lan.host(2).namespace, ['nft', '-f', '-'], { input: script, timeoutMs: 5000 });
      expect(r.code, r.stderr).toBe(0);
      server = await startTftpServer(lan, lan.host(1).namespace, {
        interfaces: ['eth0'],
        root: join(work, 'root'),
        retry: { timeoutMs: 1000, maxTimeoutMs: 1000, maxRetries: 6 },
        nativeFastPath,
      });
    }, 60_000);

    afterAll(async () => {
      await lan?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('resends the lost window once on timeout and completes, file intact, same counts on both paths', async () => {
      const out = join(work, 'out.bin');
      const argv = ['atftp', '-g', '-r', 'f.bin', '-l', out, '--option', 'blksize 512'];
      argv.push('--option', 'windowsize 4', lan.host(1).address!, '69');
      const r = await lan.exec(lan.host(2).namespace, argv, { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(await sha256File(out)).toBe(sha256(body));
      const text = (await server.stop('SIGTERM', 5000)).stdout;
      // The OACK, 41 blocks, and the window 5-8 once more after one timeout (atftp does not ACK a gap).
      expect(metricValue(text, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' })).toBe(1);
      expect(metricValue(text, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(1 + 41 + 4);
      expect(metricValue(text, 'bootpt_agent_tftp_unicast_transfers_total', { path })).toBe(1);
    }, 60_000);
  },
);

/**
 * Windows whose GSO sends the kernel refuses, on both paths: the transfer must turn GSO off at the first
 * refusal and send the refused datagrams again at once, so no window waits for a timeout. Two causes:
 * - the server's veth without TX checksum offload (`ethtool -K eth0 tx off`): older kernels refuse with EIO,
 *   newer ones (6.18 here) checksum the segments in software and accept, so the fallback count is 0 or one
 *   per transfer, but the sends must be exact either way;
 * - a route to the client whose MTU (540) is below the segment (512 or 1428 + 4, +28 of headers) while the
 *   interface has 1500 (a smaller path MTU): every kernel refuses with EINVAL, one fallback per transfer,
 *   and the unsegmented datagrams leave IP-fragmented.
 */
const GSO_REFUSED_CASES: readonly Case[] = [
  { blksize: 512, windowsize: 8, size: 90 * 512 + 11 },
  { blksize: 512, windowsize: 32, size: 200 * 512 },
  { blksize: 1428, windowsize: 8, size: 60 * 1428 + 700 },
  { blksize: 1428, windowsize: 32, size: 130 * 1428 - 1 },
];

const GSO_REFUSALS = [
  { cause: 'TX checksum offload off', octet: 100, kernelMayAccept: true },
  { cause: 'a route MTU below the segment', octet: 150, kernelMayAccept: false },
] as const;

describe
  .skipIf(skip !== '')
  .each(GSO_REFUSALS.flatMap((refusal) => PATHS.map((p) => ({ ...refusal, ...p }))))(
  `GSO refused: $cause, atftp ($path path)${skip ? ` (skipped: ${skip})` : ''}`,
  ({ cause, octet, kernelMayAccept, path, nativeFastPath }) => {
    let lan: TestLan;
    let server: NetnsProcess;
    let work: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'bpt-tftp-nogso-'));
      mkdirSync(join(work, 'root'));
      lan = await TestLan.create({
        subnet: `10.219.${octet + (process.pid % 50)}`,
        hosts: 2,
        tag: `tfg${octet}${path}`,
      });
      const setup = kernelMayAccept
        ? ['/usr/sbin/ethtool', '-K', 'eth0', 'tx', 'off']
        : ['ip', 'route', 'add', `${lan.host(2).address!}/32`, 'dev', 'eth0', 'mtu', '540'];
      const r = await lan.exec(lan.host(1).namespace, setup, { timeoutMs: 5000 });
      expect(r.code, r.stderr).toBe(0);
      server = await startTftpServer(
        lan,
        lan.host(1).namespace,
        {
          interfaces: ['eth0'],
          root: join(work, 'root'),
          maxWindowsize: 64,
          retry: { timeoutMs: 1000, maxTimeoutMs: 1000, maxRetries: 6 },
          nativeFastPath,
        },
        'info',
      );
    }, 60_000);

    afterAll(async () => {
      await lan?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it(`sends each block once without a retransmission, files intact (${cause})`, async () => {
      const expectedPackets = await fetchEach(lan, lan.host(1).address!, work, GSO_REFUSED_CASES, 'g', 100);
      const { stdout, stderr } = await server.stop('SIGTERM', 5000);
      expect(metricValue(stdout, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' })).toBe(0);
      expect(metricValue(stdout, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(
        expectedPackets,
      );
      expect(metricValue(stdout, 'bootpt_agent_tftp_unicast_transfers_total', { path })).toBe(
        GSO_REFUSED_CASES.length,
      );
      // One fallback per transfer when the kernel refuses, counted and logged once each.
      const fallbacks = metricValue(stdout, 'bootpt_agent_tftp_gso_fallbacks_total', { path });
      const logged = stderr.split('\n').filter((line) => line.includes('UDP GSO refused')).length;
      if (kernelMayAccept) expect([0, GSO_REFUSED_CASES.length]).toContain(fallbacks);
      else expect(fallbacks).toBe(GSO_REFUSED_CASES.length);
      expect(logged).toBe(fallbacks);
    }, 240_000);
  },
);
