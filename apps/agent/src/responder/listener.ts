import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { intToIPv4, ipv4ToInt } from '@bootpt/protocol/wire';
import { loadDatagram, type DatagramApi, type NativeDatagramSocket } from '@bootpt/tftp-native';
import type { ResponderConfig } from '../config/schema.js';
import { literalLookup } from '../lib/udp.js';

/**
 * The responder's sockets.
 *
 * Node's dgram has neither SO_BINDTODEVICE nor IP_PKTINFO, so one socket cannot tell which interface a
 * broadcast arrived on (TESTBED.md). Per named interface the listener opens:
 *
 * - a socket bound to the interface's IPv4 address: it receives unicast (relayed requests, renewals,
 *   INFORM; Linux prefers an address-bound socket to any wildcard one) and it sends that link's replies,
 *   including 255.255.255.255 broadcasts, which Linux routes out of the interface that owns the source
 *   address;
 * - in `per_interface` mode, a broadcast socket on `0.0.0.0:<port>` tied to the interface with
 *   SO_BINDTOIFINDEX (SOL_SOCKET 1, option 62; Linux 5.0+), set through the npm add-on `sockopt` (an
 *   optional dependency compiled by node-gyp at install: its published "prebuilds", linux ones included,
 *   are macOS binaries).
 *   The kernel hands a broadcast only to the sockets tied to the interface it came in on, so every
 *   broadcast is attributed to exactly one link, and broadcasts on interfaces nobody named are not read.
 *   dgram creates the file descriptor only at bind time, so the option is set right after bind (with
 *   SO_REUSEADDR so the sockets can share the port); the listener then lets the event loop read and
 *   discard whatever was queued in that microsecond window before it accepts packets.
 *
 * Fallback (`shared` mode: not Linux, the add-on missing or not built, the option refused, or
 * the socket's descriptor unreadable): one wildcard `0.0.0.0:<port>` socket for every broadcast, as
 * before. A broadcast it catches is attributed by the request itself (giaddr, ciaddr, the client's
 * reservation) or, when only one interface is named, to that interface; with several named interfaces a
 * broadcast from an unknown client is dropped (`wrong_interface`) rather than guessed. The fallback is
 * logged at startup (warn, with the reason) and exported as `bootpt_agent_responder_broadcast_sockets`.
 *
 * Loopback mode binds 127.0.0.1 only and replies to the sender's address and port (demos and tests).
 *
 * Socket implementation (`responder.nativeSockets`, default `auto`): the same sockets are opened through
 * the `bootpt_datagram.node` add-on of `@bootpt/tftp-native` when it loads (recvmmsg(2) into a buffer
 * shared with JavaScript, one synchronous sendto(2) per reply, SO_BINDTOIFINDEX set before bind, so
 * neither the `sockopt` add-on nor the settle step is needed), otherwise through node:dgram as above. The
 * add-on skips dgram's per-datagram objects and callbacks, the largest cost in the agent's profile after
 * the kernel's own (apps/agent README, "Where the time goes"). `off` forces node:dgram; `required` refuses
 * to start without the add-on. Behaviour is the same either way (both paths run the responder's tests).
 */

export interface Link {
  readonly name: string;
  /** The agent's IPv4 address on this link (server identifier, default `siaddr`). */
  readonly address: string;
  readonly addressInt: number;
  readonly netmaskInt: number;
}

export interface Inbound {
  readonly data: Buffer;
  readonly from: { readonly address: string; readonly port: number };
  /** Set when the receiving socket identifies the link; undefined for the shared broadcast socket. */
  readonly link: Link | undefined;
  /** `performance.now()` when the packet was read (milliseconds, monotonic). */
  readonly receivedAt: number;
}

export type PacketHandler = (packet: Inbound) => void;

/** How broadcasts are received: one socket per interface, one shared wildcard socket, or none (loopback). */
export type BroadcastMode = 'per_interface' | 'shared' | 'loopback';

/** Ties a bound UDP socket to one interface (SO_BINDTOIFINDEX). Throws when the kernel refuses. */
export type DeviceBinder = (socket: Socket, ifindex: number) => void;

/** What the listener needs from the operating system; tests replace parts of it. */
export interface ListenerPlatform {
  readonly interfaces: typeof networkInterfaces;
  readonly createSocket: (options: SocketOptions) => Socket;
  /** The interface's index (`/sys/class/net/<name>/ifindex` on Linux). */
  readonly ifindex: (name: string) => number;
  /** A device binder, or why there is none. Called once per start (node:dgram sockets only). */
  readonly deviceBinder: () => DeviceBinder | { readonly unavailable: string };
  /** The datagram add-on, or why there is none. Called once per start unless `nativeSockets` is `off`. */
  readonly datagram: () => DatagramApi | { readonly unavailable: string };
}

export const defaultPlatform: ListenerPlatform = {
  interfaces: networkInterfaces,
  createSocket,
  ifindex: (name) => {
    const n = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`no ifindex for ${name}`);
    return n;
  },
  deviceBinder: () => loadSockoptBinder(),
  datagram: () => {
    const load = loadDatagram();
    return load.ok ? load.api : { unavailable: load.reason };
  },
};

const SOL_SOCKET = 1;
const SO_BINDTOIFINDEX = 62;

interface Sockopt {
  setsockopt(socket: { _handle: unknown }, level: number, option: number, value: number): void;
  getsockopt(socket: { _handle: unknown }, level: number, option: number): number;
}

/**
 * Loads `sockopt` and returns a binder that sets SO_BINDTOIFINDEX and reads it back, or the reason it
 * cannot. Option 62 means SO_BINDTOIFINDEX on Linux only, so other platforms never load the add-on.
 */
export function loadSockoptBinder(
  moduleId = 'sockopt',
  platform: NodeJS.Platform = process.platform,
): DeviceBinder | { readonly unavailable: string } {
  if (platform !== 'linux') return { unavailable: `SO_BINDTOIFINDEX needs Linux (platform ${platform})` };
  let sockopt: Sockopt;
  try {
    sockopt = createRequire(import.meta.url)(moduleId) as Sockopt;
  } catch (err) {
    return { unavailable: `cannot load ${moduleId}: ${(err as Error).message.split('\n')[0]}` };
  }
  if (typeof sockopt.setsockopt !== 'function' || typeof sockopt.getsockopt !== 'function')
    return { unavailable: `${moduleId} has no setsockopt/getsockopt` };
  return (socket, ifindex) => {
    // sockopt reads `socket._handle.fd`; dgram's `_handle` getter is deprecated (DEP0112, warns), so hand
    // it the handle from the socket's state instead.
    const target = { _handle: udpHandle(socket) };
    sockopt.setsockopt(target, SOL_SOCKET, SO_BINDTOIFINDEX, ifindex);
    const got = sockopt.getsockopt(target, SOL_SOCKET, SO_BINDTOIFINDEX);
    if (got !== ifindex) throw new Error(`SO_BINDTOIFINDEX reads back ${got}, expected ${ifindex}`);
  };
}

/** The libuv UDP handle of a bound dgram socket (it carries `fd`). */
function udpHandle(socket: Socket): { fd: number } {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = key
    ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[key]
    : undefined;
  const handle = state?.handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0)
    throw new Error("cannot read the socket's file descriptor (Node internals changed?)");
  return handle as { fd: number };
}

/** Which implementation the responder's sockets use (valid after `start()`). */
export type SocketPath = 'native' | 'dgram';

/** One of the responder's bound sockets, whichever implementation is behind it. */
interface ResponderSocket {
  /** Sends now or queues; `done` gets the error, if any. */
  send(data: Uint8Array, address: string, port: number, done: (err: Error | null) => void): void;
  readonly port: number;
  close(): Promise<void>;
}

interface BoundLink {
  readonly link: Link;
  readonly socket: ResponderSocket;
  /** `per_interface` mode: the wildcard socket tied to this link's interface. */
  broadcast?: ResponderSocket;
}

export class Listener {
  private links: BoundLink[] = [];
  /** `links`' Link objects, kept beside them: the responder reads them for every packet. */
  private linkList: Link[] = [];
  private wildcard: ResponderSocket | undefined;
  private accepting = false;
  private mode: BroadcastMode = 'loopback';
  private fallbackReason: string | undefined;
  private readonly platform: ListenerPlatform;
  private native: DatagramApi | undefined;
  private path: SocketPath = 'dgram';
  private pathReason: string | undefined;

  constructor(
    private readonly config: ResponderConfig,
    private readonly onPacket: PacketHandler,
    private readonly log: Logger,
    platform: Partial<ListenerPlatform> = {},
  ) {
    this.platform = { ...defaultPlatform, ...platform };
  }

  get loopback(): boolean {
    return this.config.loopback;
  }

  /** How broadcasts are received (valid after `start()`). */
  get broadcastMode(): BroadcastMode {
    return this.mode;
  }

  /** Why `shared` mode was chosen; undefined otherwise. */
  get broadcastFallbackReason(): string | undefined {
    return this.fallbackReason;
  }

  /** Which implementation the sockets use (valid after `start()`). */
  get socketPath(): SocketPath {
    return this.path;
  }

  /** Why node:dgram was used when `nativeSockets` is `auto`; undefined otherwise. */
  get socketPathReason(): string | undefined {
    return this.pathReason;
  }

  allLinks(): readonly Link[] {
    return this.linkList;
  }

  async start(): Promise<void> {
    const links = this.config.loopback ? [loopbackLink()] : this.resolveLinks();
    this.selectPath();
    try {
      for (const link of links) {
        const socket = await this.bind(link.address, this.config.port, link);
        this.links.push({ link, socket });
        this.linkList.push(link);
      }
      if (!this.config.loopback) await this.bindBroadcast();
    } catch (err) {
      await this.close();
      throw err;
    }
    this.accepting = true;
    this.log.info(
      {
        links: links.map((l) => ({ name: l.name, address: l.address })),
        port: this.port(),
        broadcast: this.mode,
        sockets: this.path,
        ...(this.pathReason ? { socketsReason: this.pathReason } : {}),
      },
      'responder listening',
    );
  }

  /** node:dgram or the add-on, per `nativeSockets`; throws for `required` without the add-on. */
  private selectPath(): void {
    this.native = undefined;
    this.path = 'dgram';
    this.pathReason = undefined;
    if (this.config.nativeSockets === 'off') return;
    const api = this.platform.datagram();
    if ('open' in api) {
      this.native = api;
      this.path = 'native';
      return;
    }
    if (this.config.nativeSockets === 'required') {
      throw Object.assign(new Error(`responder.nativeSockets is required: ${api.unavailable}`), {
        code: 'AGENT_ERR_NATIVE_SOCKETS',
      });
    }
    this.pathReason = api.unavailable;
  }

  /** First step of shutdown: packets arriving from now on are ignored. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Hands a reply to the kernel from the socket of `link` (the first socket when `link` is not ours).
   * No promise and no closure per packet: `done` is called with the error, if any, once Node has sent it.
   */
  send(link: Link, data: Uint8Array, address: string, port: number, done: (err: Error | null) => void): void {
    let bound = this.links[0];
    for (const b of this.links) {
      if (b.link === link) {
        bound = b;
        break;
      }
    }
    if (!bound) {
      done(new Error('responder has no socket'));
      return;
    }
    bound.socket.send(data, address, port, done);
  }

  port(): number {
    return this.links[0]?.socket.port ?? this.config.port;
  }

  async close(): Promise<void> {
    this.accepting = false;
    const sockets = [
      ...this.links.flatMap((b) => (b.broadcast ? [b.socket, b.broadcast] : [b.socket])),
      ...(this.wildcard ? [this.wildcard] : []),
    ];
    this.links = [];
    this.linkList = [];
    this.wildcard = undefined;
    await Promise.all(sockets.map((s) => s.close()));
  }

  /** Per-interface broadcast sockets when the platform can tie a socket to a device, else one shared. */
  private async bindBroadcast(): Promise<void> {
    const port = this.port();
    const tie = this.tier(port);
    let reason = typeof tie === 'function' ? undefined : tie.unavailable;
    if (typeof tie === 'function') {
      const opened: ResponderSocket[] = [];
      try {
        for (const bound of this.links) {
          bound.broadcast = await tie(bound.link, this.platform.ifindex(bound.link.name), opened);
        }
        // node:dgram sets the option just after bind: let the event loop read, and drop (not accepting
        // yet), any broadcast from another interface that was queued in between. The add-on sets it before.
        if (!this.native) await settle();
        this.mode = 'per_interface';
        return;
      } catch (err) {
        for (const bound of this.links) delete bound.broadcast;
        await Promise.all(opened.map((s) => s.close()));
        reason = `SO_BINDTOIFINDEX failed: ${(err as Error).message}`;
      }
    }
    this.mode = 'shared';
    this.fallbackReason = reason;
    this.log.warn(
      { reason, interfaces: this.links.map((b) => b.link.name) },
      this.links.length > 1
        ? 'no per-interface broadcast sockets: one shared broadcast socket; broadcasts from unknown clients are dropped (wrong_interface)'
        : 'no per-interface broadcast sockets: one shared broadcast socket, attributed to the only interface',
    );
    this.wildcard = await this.bind('0.0.0.0', port, undefined);
  }

  /**
   * How to open a wildcard socket on `port` tied to an interface (pushed to `opened` as soon as it exists,
   * so a failure can close it), or why it cannot be done.
   */
  private tier(
    port: number,
  ):
    | ((link: Link, ifindex: number, opened: ResponderSocket[]) => Promise<ResponderSocket>)
    | { readonly unavailable: string } {
    if (this.native) {
      return (link, ifindex, opened) => {
        const socket = this.openNative('0.0.0.0', port, ifindex, link);
        opened.push(socket);
        return Promise.resolve(socket);
      };
    }
    const binder = this.platform.deviceBinder();
    if (typeof binder !== 'function') return binder;
    return async (link, ifindex, opened) => {
      const socket = await this.bindDgram('0.0.0.0', port, link);
      opened.push(socket);
      binder(socket.socket, ifindex);
      return socket;
    };
  }

  private resolveLinks(): Link[] {
    const table = this.platform.interfaces();
    const missing: string[] = [];
    const links: Link[] = [];
    for (const name of this.config.interfaces) {
      const v4 = (table[name] ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
      const first = v4[0];
      if (!first) {
        missing.push(name);
        continue;
      }
      if (v4.length > 1) {
        this.log.warn(
          { interface: name, using: first.address },
          'interface has several IPv4 addresses; serving from the first',
        );
      }
      links.push({
        name,
        address: first.address,
        addressInt: ipv4ToInt(first.address)!,
        netmaskInt: ipv4ToInt(first.netmask)!,
      });
    }
    if (missing.length > 0) {
      throw Object.assign(new Error(`no IPv4 address on interface(s): ${missing.join(', ')}`), {
        code: 'AGENT_ERR_INTERFACE',
      });
    }
    return links;
  }

  private bind(address: string, port: number, link: Link | undefined): Promise<ResponderSocket> {
    return this.native
      ? Promise.resolve(this.openNative(address, port, 0, link))
      : this.bindDgram(address, port, link);
  }

  private bindDgram(address: string, port: number, link: Link | undefined): Promise<DgramSocket> {
    const socket = this.platform.createSocket({
      type: 'udp4',
      reuseAddr: true,
      recvBufferSize: RECV_BUFFER,
      lookup: literalLookup,
    });
    socket.on('message', (data, rinfo) => {
      if (!this.accepting) return;
      this.onPacket({ data, from: rinfo, link, receivedAt: performance.now() });
    });
    socket.on('error', (err) => this.log.error({ err, address, link: link?.name }, 'responder socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      // exclusive: never share the handle with cluster workers (the device option is per descriptor).
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.setBroadcast(true);
        resolve(new DgramSocket(socket));
      });
    });
  }

  private openNative(address: string, port: number, ifindex: number, link: Link | undefined): NativeSocket {
    return new NativeSocket(this.native!, address, port, ifindex, link, this.log, (packet) => {
      if (this.accepting) this.onPacket(packet);
    });
  }
}

const RECV_BUFFER = 4 * 1024 * 1024;

/** A node:dgram socket. */
class DgramSocket implements ResponderSocket {
  constructor(readonly socket: Socket) {}

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Uint8Array, address: string, port: number, done: (err: Error | null) => void): void {
    this.socket.send(data, port, address, done);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

/**
 * A socket of the datagram add-on. Each batch's datagrams are copied out of the shared slots (the
 * responder may keep a request past the callback: a lease write or pacing), and the sender's address
 * object is shared by every datagram from that address and port (clients send from 0.0.0.0:68, relays
 * from their own address), so a request costs one small copy and no other object here.
 */
class NativeSocket implements ResponderSocket {
  readonly port: number;
  private readonly handle: NativeDatagramSocket;
  private closed = false;

  constructor(
    private readonly api: DatagramApi,
    address: string,
    port: number,
    ifindex: number,
    link: Link | undefined,
    log: Logger,
    onPacket: PacketHandler,
  ) {
    const { BATCH, SLOT } = api;
    // Held by the add-on (a reference each) for as long as the socket is open.
    const data = new Uint8Array(BATCH * SLOT);
    const meta = new Int32Array(BATCH * 3);
    [this.handle, this.port] = api.open(address, port, ifindex, RECV_BUFFER, data, meta, (count, errno) => {
      if (errno !== 0) {
        const code = getSystemErrorName(-errno);
        log.error(
          { err: Object.assign(new Error(`recvmmsg: ${code}`), { code }), address, link: link?.name },
          'responder socket error',
        );
        return;
      }
      // One read: every datagram of the batch was received at this moment.
      const receivedAt = performance.now();
      for (let i = 0; i < count; i++) {
        const length = meta[i * 3]!;
        const start = i * SLOT;
        const packet = Buffer.allocUnsafe(length);
        packet.set(data.subarray(start, start + length));
        onPacket({ data: packet, from: sender(meta[i * 3 + 1]! >>> 0, meta[i * 3 + 2]!), link, receivedAt });
      }
    });
  }

  send(data: Uint8Array, address: string, port: number, done: (err: Error | null) => void): void {
    if (this.closed) {
      done(new Error('responder socket closed'));
      return;
    }
    const errno = this.api.send(this.handle, data, address, port);
    if (errno === 0) done(null);
    else {
      const code = getSystemErrorName(-errno);
      done(Object.assign(new Error(`sendto ${address}:${port}: ${code}`), { code }));
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.api.close(this.handle);
    }
    // libuv releases the descriptor on its next turn.
    return new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Senders seen lately, by address × 65,536 + port (bounded: forgotten all at once when full). */
const senders = new Map<number, { readonly address: string; readonly port: number }>();
function sender(address: number, port: number): { readonly address: string; readonly port: number } {
  const key = address * 65536 + port;
  let from = senders.get(key);
  if (from === undefined) {
    if (senders.size >= 4096) senders.clear();
    from = { address: intToIPv4(address), port };
    senders.set(key, from);
  }
  return from;
}

/**
 * `bootpt_agent_responder_broadcast_sockets{mode}`: how many broadcast sockets the responder holds, by mode
 * (`per_interface`: one per named interface; `shared`: the single wildcard fallback). Registered once per
 * registry; alert on `mode="shared"` being non-zero for a multi-interface agent.
 */
export function recordBroadcastMode(registry: Registry, listener: Listener): void {
  const name = 'bootpt_agent_responder_broadcast_sockets';
  const gauge =
    (registry.getSingleMetric(name) as Gauge<'mode'> | undefined) ??
    new Gauge({
      name,
      help: 'UDP broadcast sockets of the responder, by mode: per_interface (SO_BINDTOIFINDEX) or shared (fallback)',
      labelNames: ['mode'] as const,
      registers: [registry],
    });
  const mode = listener.broadcastMode;
  const links = listener.allLinks().length;
  gauge.set({ mode: 'per_interface' }, mode === 'per_interface' ? links : 0);
  gauge.set({ mode: 'shared' }, mode === 'shared' ? 1 : 0);
}

/** Two event-loop turns: enough for libuv to poll freshly bound sockets once. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function loopbackLink(): Link {
  return { name: 'lo', address: '127.0.0.1', addressInt: 0x7f000001, netmaskInt: 0xff000000 };
}
