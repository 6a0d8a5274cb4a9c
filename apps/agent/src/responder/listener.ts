import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { ipv4ToInt } from '@bootpt/protocol/wire';
import type { ResponderConfig } from '../config/schema.js';

/**
 * The responder's sockets.
 *
 * Node's dgram has neither SO_BINDTODEVICE nor IP_PKTINFO, so one socket cannot tell which interface a
 * broadcast arrived on (TESTBED.md). Without a native add-on we open, per named interface, a socket bound
 * to that interface's IPv4 address (it receives unicast: relayed requests, renewals, INFORM; and it sends
 * that link's replies, including 255.255.255.255 broadcasts, which Linux routes out of the interface that
 * owns the source address), plus one wildcard socket on 0.0.0.0 that receives the broadcasts.
 *
 * Limitation: a broadcast caught by the wildcard socket is attributed to a link by the request itself
 * (giaddr, ciaddr, the client's reservation) or, when only one interface is named, to that interface.
 * With several named interfaces, a broadcast from an unknown, unconfigured client is dropped
 * (`wrong_interface`) rather than guessed. A per-interface SO_BINDTOIFINDEX socket (npm `sockopt`) would
 * lift this; it is not a dependency yet.
 *
 * Loopback mode binds 127.0.0.1 only and replies to the sender's address and port (demos and tests).
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
  readonly receivedAt: bigint;
}

export type PacketHandler = (packet: Inbound) => void;

interface BoundLink {
  readonly link: Link;
  readonly socket: Socket;
}

export class Listener {
  private links: BoundLink[] = [];
  private wildcard: Socket | undefined;
  private accepting = false;

  constructor(
    private readonly config: ResponderConfig,
    private readonly onPacket: PacketHandler,
    private readonly log: Logger,
    private readonly interfaces: typeof networkInterfaces = networkInterfaces,
  ) {}

  get loopback(): boolean {
    return this.config.loopback;
  }

  allLinks(): readonly Link[] {
    return this.links.map((b) => b.link);
  }

  async start(): Promise<void> {
    const links = this.config.loopback ? [loopbackLink()] : this.resolveLinks();
    for (const link of links) {
      const socket = await this.bind(link.address, link);
      this.links.push({ link, socket });
    }
    if (!this.config.loopback) this.wildcard = await this.bind('0.0.0.0', undefined);
    this.accepting = true;
    this.log.info(
      { links: links.map((l) => ({ name: l.name, address: l.address })), port: this.port() },
      'responder listening',
    );
  }

  /** First step of shutdown: packets arriving from now on are ignored. */
  stopAccepting(): void {
    this.accepting = false;
  }

  send(link: Link, data: Uint8Array, address: string, port: number): Promise<void> {
    const bound = this.links.find((b) => b.link === link) ?? this.links[0];
    if (!bound) return Promise.reject(new Error('responder has no socket'));
    return new Promise((resolve, reject) => {
      bound.socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  port(): number {
    const s = this.links[0]?.socket;
    return s ? s.address().port : this.config.port;
  }

  async close(): Promise<void> {
    this.accepting = false;
    const sockets = [...this.links.map((b) => b.socket), ...(this.wildcard ? [this.wildcard] : [])];
    this.links = [];
    this.wildcard = undefined;
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private resolveLinks(): Link[] {
    const table = this.interfaces();
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

  private bind(address: string, link: Link | undefined): Promise<Socket> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 4 * 1024 * 1024 });
    socket.on('message', (data, rinfo) => {
      if (!this.accepting) return;
      this.onPacket({
        data,
        from: { address: rinfo.address, port: rinfo.port },
        link,
        receivedAt: process.hrtime.bigint(),
      });
    });
    socket.on('error', (err) => this.log.error({ err, address }, 'responder socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: this.config.port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.setBroadcast(true);
        resolve(socket);
      });
    });
  }
}

function loopbackLink(): Link {
  return { name: 'lo', address: '127.0.0.1', addressInt: 0x7f000001, netmaskInt: 0xff000000 };
}
