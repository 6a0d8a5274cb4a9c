import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import type { RandomSource, TurboDiscover, TurboOffer } from '@bootpt/protocol';
import {
  backoffDelayMs,
  burstOffsets,
  cacheToken,
  getTurboFromOptions,
  selectOffer,
  turboOptions,
} from '@bootpt/protocol';
import {
  BOOTREPLY,
  BOOTREQUEST,
  chaddrFromMac,
  decodeBootp,
  encodeBootp,
  type BootpOption,
  type BootpPacket,
} from '@bootpt/protocol/dhcp/index';
import { bytesEqual, formatIPv4 } from '@bootpt/protocol/wire';
import { ClientError } from './errors.js';

/**
 * Turbo discovery over a real UDP socket (SPEC §7): bursts of three DHCPDISCOVERs with jittered gaps
 * and one xid per round, an offer window after the last discover (closed early by a `valid` offer for
 * what we hold), selection by `selectOffer`, then randomised exponential backoff between rounds; after
 * selection a DHCPREQUEST whose DHCPACK carries the authoritative Turbo offer (§7.5).
 */

const DHCPDISCOVER = 1;
const DHCPOFFER = 2;
const DHCPREQUEST = 3;
const DHCPACK = 5;
const DHCPNAK = 6;
const ENDPOINT_HTTP2 = 1;

export interface DiscoveryOptions {
  readonly mac: string;
  readonly server: string;
  readonly serverPort: number;
  readonly clientPort: number;
  readonly optionCode: number;
  readonly windowMs: number;
  readonly maxRounds: number;
  readonly backoffInitialMs: number;
  readonly random: RandomSource;
  /** Endpoint types to ACCEPT (SPEC §4), in the client's preference order. Default: http2 only. */
  readonly accept?: readonly number[];
  /** What the cache holds (omitted when it holds nothing usable: SPEC §4.1). */
  readonly held?: { readonly manifestDigest: Uint8Array; readonly validationToken: Uint8Array };
  /** Called once the first discover is sent: work that can wait for the offers starts here. */
  readonly onFirstSend?: () => void;
  readonly log: Logger;
}

export interface DiscoveryResult {
  readonly offer: TurboOffer;
  /** Server identifier (option 54) or the reply's source address. */
  readonly server: string;
  readonly yiaddr: string;
  /** Discovery rounds used (1 = the first burst answered). */
  readonly rounds: number;
  /** Whether the offer came from a DHCPACK (authoritative) rather than the DHCPOFFER. */
  readonly acked: boolean;
  /** performance.now() when the selected offer was final. */
  readonly offerAt: number;
  /** ms from the first discover to the selection. */
  readonly discoverMs: number;
}

interface Candidate {
  readonly offer: TurboOffer;
  readonly receivedAt: number;
  readonly server: string;
  readonly yiaddr: string;
  readonly messageType: number | undefined;
}

/** A queue of decoded replies with a single waiter, so the round logic reads like a sequence. */
class ReplyQueue {
  private readonly items: { packet: BootpPacket; from: RemoteInfo; at: number }[] = [];
  private waiter: (() => void) | undefined;

  push(packet: BootpPacket, from: RemoteInfo): void {
    this.items.push({ packet, from, at: performance.now() });
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Next reply, or null once `deadline` (performance.now()) has passed. */
  async next(deadline: number): Promise<{ packet: BootpPacket; from: RemoteInfo; at: number } | null> {
    for (;;) {
      const item = this.items.shift();
      if (item) return item;
      const wait = deadline - performance.now();
      if (wait <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

function messageType(packet: BootpPacket): number | undefined {
  return packet.options.find((o) => o.code === 53)?.data[0];
}

function option(packet: BootpPacket, code: number): Uint8Array | undefined {
  return packet.options.find((o) => o.code === code)?.data;
}

export class TurboDiscovery {
  private readonly chaddr: Uint8Array;
  private readonly queue = new ReplyQueue();
  private socket: Socket | undefined;
  private started = 0;

  constructor(private readonly options: DiscoveryOptions) {
    this.chaddr = chaddrFromMac(options.mac);
  }

  async run(): Promise<DiscoveryResult> {
    await this.open();
    try {
      return await this.discover();
    } finally {
      await this.close();
    }
  }

  private async open(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (data, from) => {
      const decoded = decodeBootp(data);
      if (!decoded.ok) return;
      const p = decoded.value;
      if (p.op !== BOOTREPLY || !bytesEqual(p.chaddr.subarray(0, 6), this.chaddr.subarray(0, 6))) return;
      this.queue.push(p, from);
    });
    socket.on('error', (err) => this.options.log.warn({ err }, 'discovery socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.clientPort, () => {
        socket.off('error', reject);
        socket.setBroadcast(true);
        resolve();
      });
    });
  }

  private async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private turboDiscover(round: number, burstIndex: number): TurboDiscover {
    const { held, windowMs } = this.options;
    return {
      kind: 'discover',
      accept: [...(this.options.accept ?? [ENDPOINT_HTTP2])],
      attempt: { round: Math.min(round, 255), burstIndex },
      windowMs,
      ...(held ? { cacheToken: cacheToken(held.manifestDigest, held.validationToken) } : {}),
    };
  }

  private packet(xid: number, type: number, turbo: TurboDiscover, extra: BootpOption[] = []): Uint8Array {
    const { mac, optionCode } = this.options;
    const secs = Math.min(0xffff, Math.floor((performance.now() - this.started) / 1000));
    const options: BootpOption[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 61, data: Uint8Array.of(1, ...chaddrFromMac(mac).subarray(0, 6)) },
      ...extra,
      { code: 55, data: Uint8Array.of(1, 3, 6, 12, 15, optionCode) },
      { code: 57, data: Uint8Array.of(1472 >> 8, 1472 & 0xff) },
      ...turboOptions(turbo, optionCode),
    ];
    return encodeBootp(
      {
        op: BOOTREQUEST,
        htype: 1,
        hlen: 6,
        hops: 0,
        xid,
        secs,
        flags: 0x8000,
        ciaddr: '0.0.0.0',
        yiaddr: '0.0.0.0',
        siaddr: '0.0.0.0',
        giaddr: '0.0.0.0',
        chaddr: this.chaddr,
        sname: '',
        file: '',
        magicCookie: true,
        options,
      },
      { minLength: 300 },
    );
  }

  private send(bytes: Uint8Array): void {
    this.socket?.send(bytes, this.options.serverPort, this.options.server);
  }

  private candidate(packet: BootpPacket, from: RemoteInfo, at: number): Candidate | null {
    const turbo = getTurboFromOptions(packet.options, this.options.optionCode);
    if (!turbo.ok || turbo.value?.kind !== 'offer') return null; // plain or malformed: not a Turbo offer
    const sid = option(packet, 54);
    return {
      offer: turbo.value,
      receivedAt: at,
      server: sid && sid.length === 4 ? formatIPv4(sid) : from.address,
      yiaddr: packet.yiaddr,
      messageType: messageType(packet),
    };
  }

  private async discover(): Promise<DiscoveryResult> {
    const { random, windowMs, maxRounds, backoffInitialMs, held, log } = this.options;
    this.started = performance.now();
    // Manifests and indexes always come over HTTP/2: an offer without an http2 endpoint is of no use.
    const context = { accept: [ENDPOINT_HTTP2], ...(held ? { heldDigest: held.manifestDigest } : {}) };
    for (let round = 0; round < maxRounds; round++) {
      const xid = randomInt(0, 0x1_0000_0000);
      const offsets = burstOffsets(random);
      const roundStart = performance.now();
      const candidates: Candidate[] = [];
      let sent = 0;
      const windowEnd = roundStart + offsets[offsets.length - 1]! + windowMs;
      let validEarly = false;
      // Send the burst and collect until the window closes (or a valid offer for what we hold arrives).
      while (!validEarly) {
        const now = performance.now();
        while (sent < offsets.length && now - roundStart >= offsets[sent]!) {
          this.send(this.packet(xid, DHCPDISCOVER, this.turboDiscover(round, sent)));
          sent++;
          if (round === 0 && sent === 1) this.options.onFirstSend?.();
        }
        const nextSend = sent < offsets.length ? roundStart + offsets[sent]! : windowEnd;
        const reply = await this.queue.next(Math.min(nextSend, windowEnd));
        if (!reply) {
          if (performance.now() >= windowEnd && sent === offsets.length) break;
          continue;
        }
        if (reply.packet.xid !== xid) continue;
        const c = this.candidate(reply.packet, reply.from, reply.at);
        if (!c) continue;
        candidates.push(c);
        validEarly =
          c.offer.verdict === 'valid' &&
          held !== undefined &&
          bytesEqual(c.offer.manifestDigest, held.manifestDigest);
      }
      let chosen = selectOffer(candidates, context);
      const nextStart = performance.now() + backoffDelayMs(round, random, { backoffInitialMs });
      // No usable offer: keep listening until the next burst is due; the first usable one ends discovery.
      while (!chosen) {
        const reply = await this.queue.next(round + 1 < maxRounds ? nextStart : performance.now());
        if (!reply) break;
        if (reply.packet.xid !== xid) continue;
        const c = this.candidate(reply.packet, reply.from, reply.at);
        if (c) chosen = selectOffer([c], context);
      }
      log.debug({ round, offers: candidates.length, selected: chosen?.server }, 'discovery round');
      if (chosen) return this.confirm(xid, round, chosen);
    }
    throw new ClientError(
      'CLIENT_ERR_NO_OFFER',
      `no usable Turbo offer after ${maxRounds} discovery round(s) to ${this.options.server}:${this.options.serverPort}`,
    );
  }

  /** DHCPREQUEST for an address-bearing offer; the ACK's Turbo offer is authoritative (SPEC §7.5). */
  private async confirm(xid: number, round: number, chosen: Candidate): Promise<DiscoveryResult> {
    const base = {
      server: chosen.server,
      yiaddr: chosen.yiaddr,
      rounds: round + 1,
      discoverMs: chosen.receivedAt - this.started,
    };
    if (chosen.messageType !== DHCPOFFER || chosen.yiaddr === '0.0.0.0') {
      return { ...base, offer: chosen.offer, acked: false, offerAt: performance.now() };
    }
    const sid = chosen.server.split('.').map(Number);
    const yi = chosen.yiaddr.split('.').map(Number);
    const request = this.packet(xid, DHCPREQUEST, this.turboDiscover(round, 0), [
      { code: 50, data: Uint8Array.from(yi) },
      { code: 54, data: Uint8Array.from(sid) },
    ]);
    for (let attempt = 0; attempt < 3; attempt++) {
      this.send(request);
      const deadline = performance.now() + 500 * 2 ** attempt;
      for (;;) {
        const reply = await this.queue.next(deadline);
        if (!reply) break;
        if (reply.packet.xid !== xid) continue;
        const type = messageType(reply.packet);
        if (type === DHCPNAK) {
          this.options.log.warn({ server: chosen.server }, 'DHCPNAK after selection; using the offer');
          return { ...base, offer: chosen.offer, acked: false, offerAt: performance.now() };
        }
        if (type !== DHCPACK) continue;
        const c = this.candidate(reply.packet, reply.from, reply.at);
        return { ...base, offer: c?.offer ?? chosen.offer, acked: true, offerAt: performance.now() };
      }
    }
    this.options.log.warn({ server: chosen.server }, 'no DHCPACK after selection; using the offer');
    return { ...base, offer: chosen.offer, acked: false, offerAt: performance.now() };
  }
}
