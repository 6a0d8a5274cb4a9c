import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTftpNative, NATIVE_END } from './index.js';
import type { NativeTransfer, TftpNativeApi } from './index.js';

/**
 * The add-on's own contract on loopback, against a raw datagram peer: relay mode, the lock-step and the
 * windowed DATA phases (headers, block contents, the final short block, counters, batch fills, restarts
 * after a short ACK, stale ACKs, timeouts, rollover, GSO), what ends the phase, and closing from inside
 * its own callback. Fails (does not skip) when the add-on is not built.
 */

const load = loadTftpNative();
const api = (): TftpNativeApi => {
  if (!load.ok) throw new Error(`add-on not loaded: ${load.reason}`);
  return load.api;
};

interface End {
  reason: number;
  errno: number;
  packet: Buffer | undefined;
}

const peers: Socket[] = [];
afterEach(() => {
  for (const s of peers.splice(0)) s.close();
});

async function peer(): Promise<{ socket: Socket; port: number; next: () => Promise<Buffer> }> {
  const socket = createSocket('udp4');
  peers.push(socket);
  const queue: Buffer[] = [];
  socket.on('message', (m: Buffer) => queue.push(m));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const next = async (): Promise<Buffer> => {
    while (queue.length === 0) await once(socket, 'message');
    return queue.shift()!;
  };
  return { socket, port: socket.address().port, next };
}

function open(
  port: number,
  onPacket: (b: Buffer) => void,
  onEnd: (e: End) => void,
): [NativeTransfer, number] {
  return api().open('127.0.0.1', '127.0.0.1', port, onPacket, (reason, errno, packet) =>
    onEnd({ reason, errno, packet }),
  );
}

/** A transfer to a new peer whose phase ends are collected. */
async function start(): Promise<{
  p: Awaited<ReturnType<typeof peer>>;
  handle: NativeTransfer;
  port: number;
  ends: End[];
}> {
  const p = await peer();
  const ends: End[] = [];
  const [handle, port] = open(
    p.port,
    () => {},
    (e) => ends.push(e),
  );
  return { p, handle, port, ends };
}

const ack = (n: number): Buffer => Buffer.from([0, 4, (n >> 8) & 0xff, n & 0xff]);

describe('tftp-native lock-step add-on', () => {
  it('refuses an address that is not IPv4', () => {
    expect(() =>
      open(
        0,
        () => {},
        () => {},
      ),
    ).toThrow(/bad address/);
    expect(() =>
      api().open(
        '::1',
        '127.0.0.1',
        69,
        () => {},
        () => {},
      ),
    ).toThrow(/bad address/);
  });

  it('relays datagrams until the DATA phase, then sends blocks in lock-step and hands back the final ACK', async () => {
    const p = await peer();
    const relayed: Buffer[] = [];
    const ends: End[] = [];
    const [handle, port] = open(
      p.port,
      (b) => relayed.push(b),
      (e) => ends.push(e),
    );
    // Relay mode: what the peer sends reaches onPacket; send() reaches the peer from the transfer's port.
    p.socket.send(Buffer.from([0, 4, 0, 0, 1]), port, '127.0.0.1');
    expect(api().send(handle, Buffer.from('oack'))).toBe(0);
    expect((await p.next()).toString()).toBe('oack');
    while (relayed.length === 0) await new Promise((r) => setImmediate(r));
    expect(relayed[0]).toEqual(Buffer.from([0, 4, 0, 0, 1]));

    const blksize = 8;
    const file = Buffer.from(Array.from({ length: 3 * blksize + 5 }, (_, i) => i));
    const buffers = [Buffer.alloc(4 + 2 * blksize), Buffer.alloc(4 + 2 * blksize)] as const;
    const fills: [number, number, number][] = [];
    const fill = (index: number, position: number, length: number): boolean => {
      fills.push([index, position, length]);
      file.copy(buffers[index]!, 4, position, position + length);
      return true;
    };
    expect(api().lockstep(handle, blksize, file.length, 5000, 5000, 3, ...buffers, fill)).toBe(true);
    const got: Buffer[] = [];
    for (let block = 1; block <= 4; block++) {
      const d = await p.next();
      expect([...d.subarray(0, 4)]).toEqual([0, 3, 0, block]);
      got.push(d.subarray(4));
      // A duplicate of the previous ACK first: ignored, no resend (the next datagram is the next block).
      p.socket.send(ack(block - 1), port, '127.0.0.1');
      p.socket.send(ack(block), port, '127.0.0.1');
    }
    expect(Buffer.concat(got)).toEqual(file);
    while (ends.length === 0) await new Promise((r) => setImmediate(r));
    expect(ends).toEqual([{ reason: NATIVE_END.packet, errno: 0, packet: ack(4) }]);
    // The final ACK is not applied natively: the machine completes the transfer from these counters.
    expect(api().counters(handle)).toEqual([3, 4, 0, 0, 4 * 4 + file.length, 4, 0]);
    expect(fills).toEqual([
      [0, 0, 16],
      [1, 16, 13],
    ]);
    api().close(handle);
    api().close(handle);
  });

  it('retransmits on timeout only, then reports the exhausted retries; close from inside onEnd is safe', async () => {
    const p = await peer();
    let ended: End | undefined;
    const [handle] = open(
      p.port,
      () => {},
      (e) => {
        ended = e;
        api().close(handle);
      },
    );
    const buffers = [Buffer.alloc(4 + 512), Buffer.alloc(4 + 512)] as const;
    expect(api().lockstep(handle, 512, 100, 20, 40, 2, ...buffers, () => true)).toBe(true);
    const copies: Buffer[] = [];
    while (!ended) {
      const timer = new Promise((r) => setTimeout(r, 50));
      await Promise.race([p.next().then((d) => copies.push(d)), timer]);
    }
    while (copies.length < 3) copies.push(await p.next());
    expect(copies.map((d) => [...d.subarray(0, 4)])).toEqual([
      [0, 3, 0, 1],
      [0, 3, 0, 1],
      [0, 3, 0, 1],
    ]);
    expect(ended).toEqual({ reason: NATIVE_END.timer, errno: 0, packet: undefined });
    expect(api().counters(handle).slice(0, 4)).toEqual([0, 1, 2, 2]);
  });

  it('ends the phase on a datagram that is not an ACK of the block in flight, and when fill fails', async () => {
    const { p, handle, port, ends } = await start();
    const buffers = [Buffer.alloc(4 + 512), Buffer.alloc(4 + 512)] as const;
    expect(api().lockstep(handle, 512, 2000, 5000, 5000, 3, ...buffers, () => true)).toBe(true);
    await p.next();
    const error = Buffer.from([0, 5, 0, 3, 0x66, 0x75, 0x6c, 0x6c, 0]);
    p.socket.send(error, port, '127.0.0.1');
    while (ends.length === 0) await new Promise((r) => setImmediate(r));
    expect(ends[0]).toEqual({ reason: NATIVE_END.packet, errno: 0, packet: error });
    api().close(handle);

    const [other] = open(
      p.port,
      () => {},
      () => {},
    );
    expect(api().lockstep(other, 512, 2000, 5000, 5000, 3, ...buffers, () => false)).toBe(false);
    api().close(other);
  });
});

describe('tftp-native windowed add-on', () => {
  const header = (d: Buffer): number[] => [...d.subarray(0, 4)];
  const blocksOf = (ds: Buffer[]): number[] => ds.map((d) => d.readUInt16BE(2));
  async function take(p: Awaited<ReturnType<typeof peer>>, n: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) out.push(await p.next());
    return out;
  }
  const window = (...args: Parameters<NonNullable<TftpNativeApi['window']>>): boolean =>
    api().window!(...args);

  it('sends windows from two batches, restarts after a short ACK, ignores stale ACKs, hands back the final ACK', async () => {
    const { p, handle, port, ends } = await start();
    const blksize = 8;
    const file = Buffer.from(Array.from({ length: 10 * blksize + 3 }, (_, i) => (i * 7) & 0xff));
    // Five blocks per buffer, windows of four: windows cross buffers.
    const buffers = [Buffer.alloc(4 + 5 * blksize), Buffer.alloc(4 + 5 * blksize)] as const;
    const fills: [number, number, number][] = [];
    const fill = (index: number, position: number, length: number): boolean => {
      fills.push([index, position, length]);
      file.copy(buffers[index]!, 4, position, position + length);
      return true;
    };
    const got = new Map<number, Buffer>();
    const keep = (ds: Buffer[]): void => ds.forEach((d) => got.set(d.readUInt16BE(2), d.subarray(4)));
    expect(window(handle, blksize, 4, file.length, 5000, 5000, 3, 0, ...buffers, fill)).toBe(true);
    let w = await take(p, 4);
    expect(w.map(header)).toEqual([1, 2, 3, 4].map((n) => [0, 3, 0, n]));
    keep(w);
    // A stale ACK 0 sends nothing; ACK 2 (short of the window end) restarts at block 3.
    p.socket.send(ack(0), port, '127.0.0.1');
    p.socket.send(ack(2), port, '127.0.0.1');
    w = await take(p, 4);
    expect(blocksOf(w)).toEqual([3, 4, 5, 6]);
    keep(w);
    // ACK 2 again (now a duplicate), then the window end.
    p.socket.send(ack(2), port, '127.0.0.1');
    p.socket.send(ack(6), port, '127.0.0.1');
    w = await take(p, 4);
    expect(blocksOf(w)).toEqual([7, 8, 9, 10]);
    keep(w);
    p.socket.send(ack(10), port, '127.0.0.1');
    w = await take(p, 1);
    expect(w.map((d) => d.length)).toEqual([4 + 3]);
    keep(w);
    p.socket.send(ack(11), port, '127.0.0.1');
    while (ends.length === 0) await new Promise((r) => setImmediate(r));
    expect(ends).toEqual([{ reason: NATIVE_END.packet, errno: 0, packet: ack(11) }]);
    expect(Buffer.concat([...got.keys()].sort((a, b) => a - b).map((k) => got.get(k)!))).toEqual(file);
    // 13 datagrams, no retransmission; the final ACK is left to the machine.
    expect(api().counters(handle)).toEqual([10, 11, 0, 0, 13 * 4 + 12 * blksize + 3, 13, 0]);
    // The second batch is loaded after the first window, the first again once all of it is acknowledged.
    expect(fills).toEqual([
      [0, 0, 40],
      [1, 40, 40],
      [0, 80, 3],
    ]);
    api().close(handle);
  });

  it('resends the window from the last acknowledged block on timeout, then reports the exhausted retries', async () => {
    const { p, handle, port, ends } = await start();
    const buffers = [Buffer.alloc(4 + 3 * 8), Buffer.alloc(4 + 3 * 8)] as const;
    expect(window(handle, 8, 3, 100, 20, 40, 2, 0, ...buffers, () => true)).toBe(true);
    expect(blocksOf(await take(p, 3))).toEqual([1, 2, 3]);
    p.socket.send(ack(1), port, '127.0.0.1');
    const copies: Buffer[] = [];
    while (ends.length === 0) {
      const timer = new Promise((r) => setTimeout(r, 50));
      await Promise.race([p.next().then((d) => copies.push(d)), timer]);
    }
    while (copies.length < 9) copies.push(await p.next());
    // The window after ACK 1, then twice again on timeout (maxRetries 2).
    expect(blocksOf(copies)).toEqual([2, 3, 4, 2, 3, 4, 2, 3, 4]);
    expect(ends).toEqual([{ reason: NATIVE_END.timer, errno: 0, packet: undefined }]);
    expect(api().counters(handle)).toEqual([1, 4, 2, 2, 12 * (4 + 8), 12, 0]);
    api().close(handle);
  });

  it('numbers blocks across the 65,535 rollover and matches ACKs after it', async () => {
    const { p, handle, port, ends } = await start();
    const blksize = 8;
    const W = 16;
    const last = 65_541;
    const size = (last - 1) * blksize + 1;
    const value = (pos: number): number => (pos * 31 + (pos >> 8)) & 0xff;
    const buffers = [Buffer.alloc(4 + 64 * blksize), Buffer.alloc(4 + 64 * blksize)] as const;
    const fill = (index: number, position: number, length: number): boolean => {
      for (let i = 0; i < length; i++) buffers[index]![4 + i] = value(position + i);
      return true;
    };
    expect(window(handle, blksize, W, size, 5000, 5000, 3, 0, ...buffers, fill)).toBe(true);
    let bad = 0;
    let staleSent = false;
    for (let first = 1; first <= last; first += W) {
      const n = Math.min(W, last - first + 1);
      const w = await take(p, n);
      for (const [i, d] of w.entries()) {
        const block = first + i;
        if (d.readUInt16BE(2) !== (block & 0xffff)) bad++;
        const pos = (block - 1) * blksize;
        if (d.length !== 4 + Math.min(blksize, size - pos)) bad++;
        else if (d.length > 4 && d[4] !== value(pos)) bad++;
      }
      const end = first + n - 1;
      if (end > 65_600 && !staleSent) {
        // The end of a window before the wrap: its number is older than anything in flight now.
        p.socket.send(ack(65_520), port, '127.0.0.1');
        staleSent = true;
      }
      p.socket.send(ack(end & 0xffff), port, '127.0.0.1');
    }
    while (ends.length === 0) await new Promise((r) => setImmediate(r));
    expect(bad).toBe(0);
    expect(ends).toEqual([{ reason: NATIVE_END.packet, errno: 0, packet: ack(last & 0xffff) }]);
    expect(api().counters(handle).slice(0, 4)).toEqual([65_536, last, 0, 0]);
    api().close(handle);
  }, 60_000);

  it('sends a window as UDP GSO messages that arrive as one datagram per block', async () => {
    const { p, handle, port } = await start();
    const blksize = 512;
    const file = Buffer.from(Array.from({ length: 20 * blksize + 9 }, (_, i) => (i * 13) & 0xff));
    const buffers = [Buffer.alloc(4 + 16 * blksize), Buffer.alloc(4 + 16 * blksize)] as const;
    const fill = (index: number, position: number, length: number): boolean => {
      file.copy(buffers[index]!, 4, position, position + length);
      return true;
    };
    expect(window(handle, blksize, 16, file.length, 5000, 5000, 3, blksize + 4, ...buffers, fill)).toBe(true);
    const first = await take(p, 16);
    p.socket.send(ack(16), port, '127.0.0.1');
    const second = await take(p, 5);
    const all = [...first, ...second];
    expect(blocksOf(all)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(all.map((d) => d.length)).toEqual([...Array<number>(20).fill(4 + blksize), 4 + 9]);
    expect(Buffer.concat(all.map((d) => d.subarray(4)))).toEqual(file);
    expect(api().counters(handle).slice(4)).toEqual([21 * 4 + file.length, 21, 0]);
    api().close(handle);
  });

  it('refuses buffers smaller than a window and a GSO segment that is not blksize + 4', async () => {
    const { handle } = await start();
    const small = [Buffer.alloc(4 + 3 * 8), Buffer.alloc(4 + 3 * 8)] as const;
    expect(() => window(handle, 8, 4, 100, 50, 50, 1, 0, ...small, () => true)).toThrow(/hold a window/);
    expect(() => window(handle, 8, 3, 100, 50, 50, 1, 100, ...small, () => true)).toThrow(/gsoSegment/);
    api().close(handle);
  });
});
