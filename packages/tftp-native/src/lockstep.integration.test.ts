import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTftpNative, NATIVE_END } from './index.js';
import type { NativeTransfer, TftpNativeApi } from './index.js';

/**
 * The add-on's own contract on loopback, against a raw datagram peer: relay mode, the lock-step DATA
 * phase (headers, block contents, the final short block, counters), what ends the phase, and closing from
 * inside its own callback. Fails (does not skip) when the add-on is not built.
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
    expect(api().counters(handle)).toEqual([3, 4, 0, 0, 4 * 4 + file.length, 4]);
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
    const p = await peer();
    const ends: End[] = [];
    const [handle, port] = open(
      p.port,
      () => {},
      (e) => ends.push(e),
    );
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
