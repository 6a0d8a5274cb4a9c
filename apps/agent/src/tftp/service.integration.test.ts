import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getTftpOption, parseSbroadcastValue } from '@bootpt/protocol/tftp/index';
import type { TftpOption, TftpPacket } from '@bootpt/protocol/tftp/index';
import { metricValue, pseudoRandom, RawClient, rrq, startLoopbackServer as startServer } from './testing.js';

/**
 * Protocol behaviour of the service over loopback, with a raw datagram client: what is (not) sent, when.
 * The service runs in a child process (`tests/tftp/serve.ts`): prom-client does not load under vitest.
 */

function oackOptions(packet: TftpPacket): readonly TftpOption[] {
  if (packet.opcode !== 'OACK') throw new Error(`expected an OACK, got ${packet.opcode}`);
  return packet.options;
}

describe('TFTP service protocol behaviour (loopback)', () => {
  let work: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  let port: number;
  const clients: RawClient[] = [];
  const file = pseudoRandom(3 * 512 + 100, 3);

  async function client(): Promise<RawClient> {
    const c = new RawClient();
    await c.bind();
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'bpt-tftp-svc-'));
    writeFileSync(join(work, 'file.bin'), file);
    server = await startServer({
      loopback: true,
      port: 0,
      root: work,
      maxTransfers: 2,
      retry: { timeoutMs: 400, maxTimeoutMs: 400, maxRetries: 2 },
    });
    port = server.port;
  }, 30_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers a request without options with DATA 1 from a new port, never an OACK', async () => {
    const c = await client();
    c.send(rrq('file.bin'), port);
    const first = await c.next();
    expect(first?.packet).toMatchObject({ opcode: 'DATA', block: 1 });
    expect(first?.port).not.toBe(port);
    c.send({ opcode: 'ERROR', errorCode: 0, errorMessage: 'enough' }, first!.port);
  });

  it('grants only requested options, and ignores duplicate ACKs (no Sorcerer’s Apprentice)', async () => {
    const c = await client();
    c.send(rrq('file.bin', [{ name: 'blksize', value: '512' }]), port);
    const oack = await c.next();
    expect(oack?.packet).toEqual({ opcode: 'OACK', options: [{ name: 'blksize', value: '512' }] });
    const tid = oack!.port;
    c.send({ opcode: 'ACK', block: 0 }, tid);
    expect((await c.next())?.packet).toMatchObject({ opcode: 'DATA', block: 1 });
    c.send({ opcode: 'ACK', block: 1 }, tid);
    c.send({ opcode: 'ACK', block: 1 }, tid);
    c.send({ opcode: 'ACK', block: 0 }, tid);
    expect((await c.next())?.packet).toMatchObject({ opcode: 'DATA', block: 2 });
    // Nothing else until the retransmission timeout (400 ms).
    expect(await c.next(250)).toBeNull();
    expect((await c.next(1000))?.packet).toMatchObject({ opcode: 'DATA', block: 2 });
    c.send({ opcode: 'ERROR', errorCode: 0, errorMessage: 'enough' }, tid);
  });

  it('treats ERROR 8 after the OACK of a tsize request as a normal probe', async () => {
    const c = await client();
    c.send(rrq('file.bin', [{ name: 'tsize', value: '0' }]), port);
    const oack = await c.next();
    expect(oack?.packet).toEqual({
      opcode: 'OACK',
      options: [{ name: 'tsize', value: String(file.length) }],
    });
    c.send({ opcode: 'ERROR', errorCode: 8, errorMessage: 'tsize probe' }, oack!.port);
    // No retransmission of the OACK, no ERROR back: the transfer just ended (counted as a probe at the end).
    expect(await c.next(900)).toBeNull();
  });

  it('keeps serving the version it opened when the file is replaced mid-transfer', async () => {
    const c = await client();
    c.send(rrq('file.bin'), port);
    const got: Buffer[] = [];
    let r = await c.next();
    const tid = r!.port;
    const replacement = pseudoRandom(file.length, 99);
    writeFileSync(join(work, 'file.bin.new'), replacement);
    renameSync(join(work, 'file.bin.new'), join(work, 'file.bin'));
    while (r && r.packet.opcode === 'DATA') {
      got.push(Buffer.from(r.packet.data));
      c.send({ opcode: 'ACK', block: r.packet.block }, tid);
      if (r.packet.data.length < 512) break;
      r = await c.next();
    }
    expect(Buffer.concat(got).equals(file)).toBe(true);
    writeFileSync(join(work, 'file.bin'), file);
    // Let the final ACK leave before the socket closes.
    await new Promise((r) => setTimeout(r, 50));
  });

  it('refuses writes, the mail mode and a full server with clear errors', async () => {
    const c = await client();
    c.send({ opcode: 'WRQ', filename: 'new.bin', mode: 'octet', options: [] }, port);
    expect((await c.next())?.packet).toMatchObject({ opcode: 'ERROR', errorCode: 2 });
    c.send(rrq('file.bin', [], 'mail'), port);
    expect((await c.next())?.packet).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
    // maxTransfers = 2: two transfers that never ACK, then a third request.
    const a = await client();
    const b = await client();
    a.send(rrq('file.bin'), port);
    b.send(rrq('file.bin'), port);
    await a.next();
    await b.next();
    c.send(rrq('file.bin'), port);
    const busy = (await c.next())?.packet;
    expect(busy).toMatchObject({ opcode: 'ERROR', errorCode: 0 });
    expect(busy?.opcode === 'ERROR' && busy.errorMessage).toMatch(/busy/);
    // Both stalled transfers give up after their retries (400 ms × 3); checked with the final metrics.
    await new Promise((r) => setTimeout(r, 1600));
  });

  it('subnet broadcast: BDATA to the broadcast address, master hand-over to the second client', async () => {
    const master = await client();
    const other = await client();
    const listener = new RawClient({ reuse: true });
    clients.push(listener);
    await listener.bind(247, '0.0.0.0');
    listener.socket.setBroadcast(true);
    const options = [
      { name: 'blksize', value: '512' },
      { name: 'sbroadcast', value: '255.0.0.0' },
    ];
    master.send(rrq('file.bin', options), port);
    const oackA = await master.next();
    const valueA = parseSbroadcastValue(getTftpOption(oackOptions(oackA!.packet), 'sbroadcast')!);
    expect(valueA).toMatchObject({ port: 247, master: true });
    other.send(rrq('file.bin', options), port);
    const oackB = await other.next();
    const valueB = parseSbroadcastValue(getTftpOption(oackOptions(oackB!.packet), 'sbroadcast')!);
    expect(valueB).toMatchObject({ port: 247, sbid: valueA!.sbid, master: false });
    const group = oackA!.port;
    expect(oackB!.port).toBe(group);
    other.send({ opcode: 'ACK', block: 0 }, group);
    const blocks = new Map<number, Buffer>();
    for (let ack = 0; ack < 4; ack++) {
      master.send({ opcode: 'ACK', block: ack }, group);
      const r = await listener.next();
      expect(r?.packet).toMatchObject({ opcode: 'BDATA', block: ack + 1, sbid: valueA!.sbid });
      if (r?.packet.opcode === 'BDATA') blocks.set(r.packet.block, Buffer.from(r.packet.data));
    }
    expect(Buffer.concat([1, 2, 3, 4].map((n) => blocks.get(n)!)).equals(file)).toBe(true);
    master.send({ opcode: 'ACK', block: 4 }, group);
    const handover = await other.next();
    const valueH = parseSbroadcastValue(getTftpOption(oackOptions(handover!.packet), 'sbroadcast')!);
    expect(valueH?.master).toBe(true);
    other.send({ opcode: 'ACK', block: 4 }, group);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('caps group blocks at groupMaxBlksize and unicast blocks at the path MTU clamp', async () => {
    const capped = await startServer({ loopback: true, port: 0, root: work, groupMaxBlksize: 4096 });
    try {
      const big = { name: 'blksize', value: '60000' };
      const uni = await client();
      uni.send(rrq('file.bin', [big]), capped.port);
      const uniOack = await uni.next();
      // Loopback mode assumes an Ethernet MTU: unicast DATA is clamped to 1500 - 32 (never fragmented).
      expect(getTftpOption(oackOptions(uniOack!.packet), 'blksize')).toBe('1468');
      uni.send({ opcode: 'ERROR', errorCode: 0, errorMessage: 'enough' }, uniOack!.port);
      const member = await client();
      member.send(rrq('file.bin', [big, { name: 'multicast', value: '' }]), capped.port);
      const memberOack = await member.next();
      // A group member may get blocks past the MTU (reassembled on its L2 segment), up to the group cap.
      expect(getTftpOption(oackOptions(memberOack!.packet), 'blksize')).toBe('4096');
      member.send({ opcode: 'ERROR', errorCode: 0, errorMessage: 'enough' }, memberOack!.port);
    } finally {
      await capped.stop();
    }
  });

  it('grants a smaller windowsize when blksize × windowsize would pass maxWindowBytes', async () => {
    const capped = await startServer({ loopback: true, port: 0, root: work, maxBlksize: 8192 });
    try {
      const granted = async (blksize: string, windowsize: string) => {
        const c = await client();
        c.send(
          rrq('file.bin', [
            { name: 'blksize', value: blksize },
            { name: 'windowsize', value: windowsize },
          ]),
          capped.port,
        );
        const oack = await c.next();
        c.send({ opcode: 'ERROR', errorCode: 0, errorMessage: 'enough' }, oack!.port);
        return getTftpOption(oackOptions(oack!.packet), 'windowsize');
      };
      // Default 64 KiB: 8 blocks of 8192 in flight, not 32 (208 KiB of client receive buffer is not enough).
      expect(await granted('8192', '32')).toBe('8');
      expect(await granted('1468', '32')).toBe('32');
      expect(await granted('8192', '4')).toBe('4');
    } finally {
      await capped.stop();
    }
  });

  it('ends with no active transfers or groups, and counts probes, timeouts and sbroadcast datagrams', async () => {
    const text = await server.stop();
    expect(metricValue(text, 'bootpt_agent_tftp_active_transfers')).toBe(0);
    expect(metricValue(text, 'bootpt_agent_tftp_active_groups')).toBe(0);
    const count = 'bootpt_agent_tftp_transfer_duration_seconds_count';
    expect(metricValue(text, count, { outcome: 'probe' })).toBe(1);
    expect(metricValue(text, count, { outcome: 'timeout' })).toBe(2);
    expect(metricValue(text, count, { mode: 'sbroadcast', outcome: 'complete' })).toBe(2);
    expect(metricValue(text, 'bootpt_agent_tftp_requests_total', { result: 'busy' })).toBe(1);
    expect(
      metricValue(text, 'bootpt_agent_tftp_packets_sent_total', { mode: 'sbroadcast' }),
    ).toBeGreaterThanOrEqual(7);
  });
});
