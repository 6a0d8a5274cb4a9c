import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatagramApi, NativeDatagramSocket } from './datagram.js';

/**
 * The responder's datagram add-on (`bootpt_datagram.node`) on loopback, against node:dgram peers: what
 * a batch hands JavaScript (bytes, length, sender), replies, datagrams longer than a slot, errors with
 * the errno's name as their code, SO_BINDTOIFINDEX, and closing from inside a batch. Fails (does not
 * skip) when the add-on is not built.
 */

const api = createRequire(import.meta.url)('../build/Release/bootpt_datagram.node') as DatagramApi;

interface Received {
  data: Buffer;
  address: string;
  port: number;
}

const opened: NativeDatagramSocket[] = [];
const peers: Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) api.close(s);
  for (const p of peers.splice(0)) p.close();
});

/** A native socket on 127.0.0.1 collecting every datagram (copied out of its slot) and the batch sizes. */
function open(port = 0, ifindex = 0, onBatch?: (count: number, errno: number) => void) {
  const data = new Uint8Array(api.BATCH * api.SLOT);
  const meta = new Int32Array(api.BATCH * 3);
  const received: Received[] = [];
  const batches: number[] = [];
  const [handle, bound] = api.open('127.0.0.1', port, ifindex, 1 << 20, data, meta, (count, errno) => {
    expect(errno).toBe(0);
    batches.push(count);
    for (let i = 0; i < count; i++) {
      const length = meta[i * 3]!;
      const address = meta[i * 3 + 1]! >>> 0;
      received.push({
        data: Buffer.from(data.subarray(i * api.SLOT, i * api.SLOT + length)),
        address: [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.'),
        port: meta[i * 3 + 2]!,
      });
    }
    onBatch?.(count, errno);
  });
  opened.push(handle);
  return { handle, port: bound, received, batches };
}

async function peer(): Promise<Socket> {
  const s = createSocket('udp4');
  peers.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('native datagram sockets', () => {
  it('hands each datagram over with its length and sender, and sends a reply', async () => {
    const sock = open();
    expect(sock.port).toBeGreaterThan(0);
    const client = await peer();
    const payloads = [Buffer.from('one'), Buffer.alloc(300, 0xab), Buffer.alloc(1472, 0x5c)];
    for (const p of payloads) client.send(p, sock.port, '127.0.0.1');
    await until(() => sock.received.length === 3, 'three datagrams');
    expect(sock.received.map((r) => r.data)).toEqual(payloads);
    for (const r of sock.received) {
      expect(r.address).toBe('127.0.0.1');
      expect(r.port).toBe(client.address().port);
    }

    const reply = once(client, 'message') as Promise<[Buffer, { port: number }]>;
    expect(api.send(sock.handle, Buffer.from('answer'), '127.0.0.1', client.address().port)).toBe(0);
    const [message, rinfo] = await reply;
    expect(message.toString()).toBe('answer');
    expect(rinfo.port).toBe(sock.port);
    const [wakes, datagrams, truncated, sendErrors] = api.counters(sock.handle);
    expect(wakes).toBeGreaterThanOrEqual(1);
    expect([datagrams, truncated, sendErrors]).toEqual([3, 0, 0]);
  });

  it('reads a queue of datagrams in batches of at most BATCH, none lost or reordered', async () => {
    const sock = open();
    const client = await peer();
    const total = api.BATCH * 3 + 5;
    // Queued before the loop polls the socket: the wake then drains them in batches.
    for (let i = 0; i < total; i++) client.send(Buffer.from([i]), sock.port, '127.0.0.1');
    await until(() => sock.received.length === total, `${total} datagrams`);
    expect(sock.received.map((r) => r.data[0])).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(Math.max(...sock.batches)).toBeLessThanOrEqual(api.BATCH);
  });

  it('cuts a datagram longer than a slot to SLOT octets and counts it', async () => {
    const sock = open();
    const client = await peer();
    client.send(Buffer.alloc(4000, 1), sock.port, '127.0.0.1');
    await until(() => sock.received.length === 1, 'the long datagram');
    expect(sock.received[0]!.data.length).toBe(api.SLOT);
    expect(api.counters(sock.handle)[2]).toBe(1);
  });

  it('fails with the errno name as the code, naming the step', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      // 192.0.2.1 (TEST-NET-1) is not an address of this machine.
      const data = new Uint8Array(api.BATCH * api.SLOT);
      opened.push(api.open('192.0.2.1', 0, 0, 0, data, new Int32Array(api.BATCH * 3), () => {})[0]);
    } catch (err) {
      error = err as Error & { code?: string };
    }
    expect(error?.code).toBe('EADDRNOTAVAIL');
    expect(error?.message).toMatch(/^bind: /);
    expect(() => api.open('127.0.0.1', 0, 0, 0, new Uint8Array(10), new Int32Array(48), () => {})).toThrow(
      /data must be a Uint8Array/,
    );
    expect(() => api.open('not an address', 0, 0, 0, new Uint8Array(0), new Int32Array(0), () => {})).toThrow(
      /bad address/,
    );
    const sock = open();
    expect(() => api.send(sock.handle, Buffer.from('x'), '127.0.0.1', 0)).toThrow(/bad port/);
    expect(() => api.send(sock.handle, Buffer.from('x'), 'nowhere', 68)).toThrow(/bad address/);
  });

  it('ties a socket to an interface before bind (SO_BINDTOIFINDEX): only datagrams from that interface arrive', async () => {
    const onLo = open(0, 1); // lo is ifindex 1
    // The kernel accepts any index (SO_BINDTOIFINDEX does not check it); no datagram comes from there.
    const elsewhere = open(0, 999_999);
    const client = await peer();
    client.send(Buffer.from('via lo'), onLo.port, '127.0.0.1');
    client.send(Buffer.from('via lo'), elsewhere.port, '127.0.0.1');
    await until(() => onLo.received.length === 1, 'a datagram on lo');
    await new Promise((r) => setTimeout(r, 50));
    expect(elsewhere.received).toEqual([]);
    expect(api.counters(elsewhere.handle)[1]).toBe(0);
  });

  it('closing inside a batch stops further callbacks; a later send throws', async () => {
    const box: { handle?: NativeDatagramSocket } = {};
    const sock = open(0, 0, () => api.close(box.handle!));
    box.handle = sock.handle;
    const client = await peer();
    client.send(Buffer.from('first'), sock.port, '127.0.0.1');
    await until(() => sock.received.length === 1, 'the first datagram');
    client.send(Buffer.from('second'), sock.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    expect(sock.received.map((r) => r.data.toString())).toEqual(['first']);
    expect(() => api.send(sock.handle, Buffer.from('x'), '127.0.0.1', 68)).toThrow(/closed/);
    api.close(sock.handle); // idempotent
  });
});
