import type { Socket, SocketOptions } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { NetworkInterfaceInfo } from 'node:os';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DatagramApi, DatagramBatch, NativeDatagramSocket } from '@bootpt/tftp-native';
import { responderConfigSchema } from '../config/schema.js';
import {
  Listener,
  loadSockoptBinder,
  recordBroadcastMode,
  type DeviceBinder,
  type Inbound,
  type ListenerPlatform,
} from './listener.js';

/** A dgram stand-in: no real sockets in unit tests (UDP only inside test namespaces). */
class FakeSocket extends EventEmitter {
  bound: { address: string; port: number } | undefined;
  closed = false;
  constructor(readonly options: SocketOptions) {
    super();
  }
  bind(opts: { address: string; port: number }, cb: () => void): void {
    this.bound = { address: opts.address, port: opts.port };
    setImmediate(cb);
  }
  setBroadcast(): void {}
  address(): { address: string; port: number } {
    return { address: this.bound!.address, port: this.bound!.port };
  }
  close(cb: () => void): void {
    this.closed = true;
    setImmediate(cb);
  }
  deliver(text: string): void {
    this.emit('message', Buffer.from(text), { address: '10.9.9.9', port: 68 });
  }
}

const v4 = (address: string): NetworkInterfaceInfo[] => [
  {
    address,
    netmask: '255.255.255.0',
    family: 'IPv4',
    mac: '02:00:00:00:00:01',
    internal: false,
    cidr: `${address}/24`,
  },
];

function setup(
  deviceBinder: ListenerPlatform['deviceBinder'],
  interfaces = ['eth0', 'eth1'],
  ifindex: ListenerPlatform['ifindex'] = (name) => 10 + Number(name.slice(3)),
) {
  const sockets: FakeSocket[] = [];
  const packets: Inbound[] = [];
  type Line = { level: number; msg: string; reason?: string; broadcast?: string };
  const logs: Line[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Line) });
  const config = responderConfigSchema.parse({ interfaces, port: 6767 });
  const listener = new Listener(config, (p) => packets.push(p), log, {
    interfaces: () => ({ eth0: v4('10.0.1.1'), eth1: v4('10.0.2.1'), lo: [] }),
    createSocket: (options) => {
      const s = new FakeSocket(options);
      sockets.push(s);
      return s as unknown as Socket;
    },
    ifindex,
    deviceBinder,
    // These cases exercise the node:dgram path through fakes; the add-on's path has its own tests below.
    datagram: () => ({ unavailable: 'unit test: node:dgram fakes' }),
  });
  const wildcards = () => sockets.filter((s) => s.bound?.address === '0.0.0.0');
  return { listener, sockets, packets, logs, wildcards };
}

function gauge(registry: Registry, mode: string): Promise<number | undefined> {
  return registry
    .getSingleMetric('bootpt_agent_responder_broadcast_sockets')!
    .get()
    .then((m) => m.values.find((v) => v.labels.mode === mode)?.value);
}

describe('Listener broadcast sockets', () => {
  it('ties one wildcard socket to each interface and attributes its packets to that link', async () => {
    const calls: [FakeSocket, number][] = [];
    const binder: DeviceBinder = (socket, ifindex) => calls.push([socket as unknown as FakeSocket, ifindex]);
    const { listener, sockets, packets, logs, wildcards } = setup(() => binder);
    await listener.start();

    expect(listener.broadcastMode).toBe('per_interface');
    expect(listener.broadcastFallbackReason).toBeUndefined();
    expect(sockets.map((s) => s.bound)).toEqual([
      { address: '10.0.1.1', port: 6767 },
      { address: '10.0.2.1', port: 6767 },
      { address: '0.0.0.0', port: 6767 },
      { address: '0.0.0.0', port: 6767 },
    ]);
    expect(sockets.every((s) => s.options.reuseAddr === true)).toBe(true);
    expect(calls.map(([s, i]) => [sockets.indexOf(s), i])).toEqual([
      [2, 10],
      [3, 11],
    ]);

    wildcards()[1]!.deliver('on eth1');
    wildcards()[0]!.deliver('on eth0');
    expect(packets.map((p) => [p.data.toString(), p.link?.name])).toEqual([
      ['on eth1', 'eth1'],
      ['on eth0', 'eth0'],
    ]);
    expect(logs.find((l) => l.msg === 'responder listening')?.broadcast).toBe('per_interface');
    expect(logs.some((l) => l.level >= 40)).toBe(false);

    const registry = new Registry();
    recordBroadcastMode(registry, listener);
    recordBroadcastMode(registry, listener); // idempotent per registry
    expect(await gauge(registry, 'per_interface')).toBe(2);
    expect(await gauge(registry, 'shared')).toBe(0);

    await listener.close();
    expect(sockets.every((s) => s.closed)).toBe(true);
  });

  it('falls back to one shared wildcard socket when sockopt is unavailable', async () => {
    const { listener, sockets, packets, logs, wildcards } = setup(() => ({
      unavailable: 'cannot load sockopt: not found',
    }));
    await listener.start();

    expect(listener.broadcastMode).toBe('shared');
    expect(listener.broadcastFallbackReason).toBe('cannot load sockopt: not found');
    expect(sockets).toHaveLength(3);
    expect(wildcards()).toHaveLength(1);
    wildcards()[0]!.deliver('broadcast');
    sockets[1]!.deliver('unicast to eth1');
    expect(packets.map((p) => [p.data.toString(), p.link?.name])).toEqual([
      ['broadcast', undefined],
      ['unicast to eth1', 'eth1'],
    ]);
    const warn = logs.find((l) => l.level === 40);
    expect(warn?.reason).toBe('cannot load sockopt: not found');
    expect(warn?.msg).toContain('wrong_interface');
    expect(logs.find((l) => l.msg === 'responder listening')?.broadcast).toBe('shared');

    const registry = new Registry();
    recordBroadcastMode(registry, listener);
    expect(await gauge(registry, 'per_interface')).toBe(0);
    expect(await gauge(registry, 'shared')).toBe(1);
    await listener.close();
  });

  it('falls back, closing the tied sockets, when the kernel refuses the option on any interface', async () => {
    const binder: DeviceBinder = (_socket, ifindex) => {
      if (ifindex === 11) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
    };
    const { listener, sockets, wildcards } = setup(() => binder);
    await listener.start();

    expect(listener.broadcastMode).toBe('shared');
    expect(listener.broadcastFallbackReason).toBe('SO_BINDTOIFINDEX failed: EPERM');
    const [first, second, shared] = wildcards();
    expect(first!.closed && second!.closed).toBe(true);
    expect(shared!.closed).toBe(false);
    expect(sockets.filter((s) => !s.closed)).toHaveLength(3);
    await listener.close();
  });

  it('falls back when an interface has no index', async () => {
    const { listener } = setup(
      () => () => undefined,
      ['eth0'],
      () => {
        throw new Error('ENOENT: /sys/class/net/eth0/ifindex');
      },
    );
    await listener.start();
    expect(listener.broadcastMode).toBe('shared');
    expect(listener.broadcastFallbackReason).toContain('ENOENT');
    await listener.close();
  });

  it('loopback mode opens no broadcast socket', async () => {
    const sockets: FakeSocket[] = [];
    const listener = new Listener(
      responderConfigSchema.parse({ loopback: true, port: 0 }),
      () => undefined,
      pino({ level: 'silent' }),
      {
        createSocket: (options) => {
          const s = new FakeSocket(options);
          sockets.push(s);
          return s as unknown as Socket;
        },
        deviceBinder: () => {
          throw new Error('not called in loopback mode');
        },
        datagram: () => ({ unavailable: 'unit test: node:dgram fakes' }),
      },
    );
    await listener.start();
    expect(listener.broadcastMode).toBe('loopback');
    expect(sockets.map((s) => s.bound?.address)).toEqual(['127.0.0.1']);
    await listener.close();
  });
});

/**
 * A stand-in for the datagram add-on (unit tests open no real sockets): records every open/send/close and
 * lets a test deliver a batch the way the add-on does, through the shared slots. The add-on itself is
 * tested on loopback in packages/tftp-native/src/datagram.integration.test.ts.
 */
class FakeDatagram implements DatagramApi {
  readonly BATCH = 4;
  readonly SLOT = 64;
  readonly opened: {
    address: string | null;
    port: number;
    ifindex: number;
    data: Uint8Array;
    meta: Int32Array;
    onBatch: DatagramBatch;
    closed: boolean;
  }[] = [];
  readonly sent: [number, string, string, number][] = [];
  sendErrno = 0;
  failIfindex: number | undefined;

  open(
    address: string | null,
    port: number,
    ifindex: number,
    _recvBufferSize: number,
    data: Uint8Array,
    meta: Int32Array,
    onBatch: DatagramBatch,
  ): [NativeDatagramSocket, number] {
    if (ifindex !== 0 && ifindex === this.failIfindex)
      throw Object.assign(new Error('SO_BINDTOIFINDEX: Operation not permitted'), { code: 'EPERM' });
    this.opened.push({ address, port, ifindex, data, meta, onBatch, closed: false });
    return [(this.opened.length - 1) as unknown as NativeDatagramSocket, port === 0 ? 40_000 : port];
  }

  send(handle: NativeDatagramSocket, datagram: Uint8Array, address: string, port: number): number {
    this.sent.push([handle as unknown as number, Buffer.from(datagram).toString(), address, port]);
    return this.sendErrno;
  }

  counters(): [number, number, number, number] {
    return [0, 0, 0, 0];
  }

  close(handle: NativeDatagramSocket): void {
    this.opened[handle as unknown as number]!.closed = true;
  }

  /** Delivers datagrams to socket `index` as one batch from `address`:`port`. */
  deliver(index: number, texts: string[], address = 0x0a090909, port = 68): void {
    const s = this.opened[index]!;
    texts.forEach((text, i) => {
      s.data.set(Buffer.from(text), i * this.SLOT);
      s.meta[i * 3] = text.length;
      s.meta[i * 3 + 1] = address | 0;
      s.meta[i * 3 + 2] = port;
    });
    s.onBatch(texts.length, 0);
  }
}

describe('Listener on the datagram add-on (responder.nativeSockets)', () => {
  function nativeSetup(nativeSockets: 'auto' | 'off' | 'required', api: FakeDatagram | undefined) {
    const packets: Inbound[] = [];
    type Line = { level: number; msg: string; sockets?: string; socketsReason?: string; broadcast?: string };
    const logs: Line[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Line) });
    const dgramSockets: FakeSocket[] = [];
    let asked = 0;
    const listener = new Listener(
      responderConfigSchema.parse({ interfaces: ['eth0', 'eth1'], port: 6767, nativeSockets }),
      (p) => packets.push(p),
      log,
      {
        interfaces: () => ({ eth0: v4('10.0.1.1'), eth1: v4('10.0.2.1'), lo: [] }),
        createSocket: (options) => {
          const s = new FakeSocket(options);
          dgramSockets.push(s);
          return s as unknown as Socket;
        },
        ifindex: (name) => 10 + Number(name.slice(3)),
        deviceBinder: () => () => undefined,
        datagram: () => {
          asked++;
          return api ?? { unavailable: 'cannot open bootpt_datagram.node' };
        },
      },
    );
    return { listener, packets, logs, dgramSockets, asked: () => asked };
  }

  it('opens every socket through the add-on, the broadcast ones tied to their interface at open', async () => {
    const api = new FakeDatagram();
    const { listener, packets, logs, dgramSockets } = nativeSetup('auto', api);
    await listener.start();
    expect(listener.socketPath).toBe('native');
    expect(listener.broadcastMode).toBe('per_interface');
    expect(dgramSockets).toHaveLength(0);
    expect(api.opened.map((o) => [o.address, o.port, o.ifindex])).toEqual([
      ['10.0.1.1', 6767, 0],
      ['10.0.2.1', 6767, 0],
      ['0.0.0.0', 6767, 10],
      ['0.0.0.0', 6767, 11],
    ]);
    expect(logs.find((l) => l.msg === 'responder listening')).toMatchObject({
      sockets: 'native',
      broadcast: 'per_interface',
    });

    // A batch: each datagram copied out of its slot, attributed to the socket's link, one sender object.
    api.deliver(3, ['first', 'second']);
    api.deliver(0, ['relayed'], 0x0a000102, 67);
    expect(packets.map((p) => [p.data.toString(), p.link?.name, p.from])).toEqual([
      ['first', 'eth1', { address: '10.9.9.9', port: 68 }],
      ['second', 'eth1', { address: '10.9.9.9', port: 68 }],
      ['relayed', 'eth0', { address: '10.0.1.2', port: 67 }],
    ]);
    expect(packets[0]!.from).toBe(packets[1]!.from);
    api.opened[3]!.data.fill(0); // the next batch reuses the slots: what was handed over is a copy
    expect(packets[0]!.data.toString()).toBe('first');

    // Replies leave from the link's own socket; a send error reaches `done` with the errno's name.
    const results: (Error | null)[] = [];
    listener.send(listener.allLinks()[1]!, Buffer.from('offer'), '255.255.255.255', 68, (err) =>
      results.push(err),
    );
    api.sendErrno = 11;
    listener.send(listener.allLinks()[0]!, Buffer.from('ack'), '10.0.1.2', 67, (err) => results.push(err));
    expect(api.sent).toEqual([
      [1, 'offer', '255.255.255.255', 68],
      [0, 'ack', '10.0.1.2', 67],
    ]);
    expect(results[0]).toBeNull();
    expect((results[1] as Error & { code: string }).code).toBe('EAGAIN');

    listener.stopAccepting();
    api.deliver(2, ['late']);
    expect(packets).toHaveLength(3);
    await listener.close();
    expect(api.opened.every((o) => o.closed)).toBe(true);
  });

  it('falls back to one shared wildcard socket when the kernel refuses to tie one', async () => {
    const api = new FakeDatagram();
    api.failIfindex = 11;
    const { listener } = nativeSetup('auto', api);
    await listener.start();
    expect(listener.broadcastMode).toBe('shared');
    expect(listener.broadcastFallbackReason).toBe(
      'SO_BINDTOIFINDEX failed: SO_BINDTOIFINDEX: Operation not permitted',
    );
    expect(api.opened.map((o) => [o.address, o.ifindex, o.closed])).toEqual([
      ['10.0.1.1', 0, false],
      ['10.0.2.1', 0, false],
      ['0.0.0.0', 10, true],
      ['0.0.0.0', 0, false],
    ]);
    await listener.close();
  });

  it('auto without the add-on uses node:dgram and says why; off never asks for it', async () => {
    const auto = nativeSetup('auto', undefined);
    await auto.listener.start();
    expect(auto.listener.socketPath).toBe('dgram');
    expect(auto.listener.socketPathReason).toBe('cannot open bootpt_datagram.node');
    expect(auto.dgramSockets).toHaveLength(4);
    expect(auto.logs.find((l) => l.msg === 'responder listening')).toMatchObject({
      sockets: 'dgram',
      socketsReason: 'cannot open bootpt_datagram.node',
    });
    await auto.listener.close();

    const off = nativeSetup('off', new FakeDatagram());
    await off.listener.start();
    expect(off.listener.socketPath).toBe('dgram');
    expect(off.asked()).toBe(0);
    await off.listener.close();
  });

  it('required without the add-on refuses to start', async () => {
    const { listener, dgramSockets } = nativeSetup('required', undefined);
    await expect(listener.start()).rejects.toMatchObject({
      code: 'AGENT_ERR_NATIVE_SOCKETS',
      message: 'responder.nativeSockets is required: cannot open bootpt_datagram.node',
    });
    expect(dgramSockets).toHaveLength(0);
  });
});

describe('loadSockoptBinder', () => {
  it('is unavailable off Linux, without loading the add-on', () => {
    expect(loadSockoptBinder('sockopt', 'darwin')).toEqual({
      unavailable: 'SO_BINDTOIFINDEX needs Linux (platform darwin)',
    });
  });

  it('is unavailable when the module cannot be loaded', () => {
    const r = loadSockoptBinder('bootpt-no-such-module', 'linux');
    expect(typeof r).toBe('object');
    expect((r as { unavailable: string }).unavailable).toMatch(/^cannot load bootpt-no-such-module: /);
  });

  it.runIf(process.platform === 'linux')(
    'on Linux loads the add-on (or says why not); refuses a socket whose descriptor it cannot read',
    () => {
      const binder = loadSockoptBinder();
      if (typeof binder !== 'function') {
        // sockopt is optional: without a compiler at install time there is no binary, and the agent falls back.
        expect(binder.unavailable).toMatch(/^cannot load sockopt: /);
        return;
      }
      const notBound = new EventEmitter() as unknown as Socket;
      expect(() => binder(notBound, 1)).toThrow(/file descriptor/);
    },
  );
});
