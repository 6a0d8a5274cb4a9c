import { toHex } from '@bootpt/protocol/wire';
import type { HostReservation, SiteView, Subnet } from '../backend/site.js';
import type { ResponderConfig } from '../config/schema.js';
import { chooseBoot, classifyClient, type BootDecision, type ClientKind } from './boot-policy.js';
import type { LeaseTable } from './lease-table.js';
import type { Link } from './listener.js';
import {
  ascii,
  BOOTREQUEST,
  DhcpType,
  FLAG_BROADCAST,
  latin1,
  macText,
  Opt,
  readU16,
  readU32,
  u32,
  type ReplySpec,
  type RequestView,
} from './packet.js';
import type { PoolAllocator } from './pool.js';
import type { DropReason } from '../telemetry/metrics.js';

/**
 * The responder's policy: one decoded request in, one decision out (reply, ignore or drop). It reads the
 * site snapshot and updates the lease table; it never touches sockets, files or timers, so every rule
 * here is tested without a network (`handler.test.ts`). RFC references are to RFC 951, 1542, 2131.
 */

export type MessageLabel =
  'bootrequest' | 'discover' | 'request' | 'decline' | 'release' | 'inform' | 'other';
export type Outcome = 'bootreply' | 'offer' | 'ack' | 'nak' | 'ignored' | 'dropped';
export type IgnoreReason =
  | 'no_subnet'
  | 'no_reservation'
  | 'no_address'
  | 'wrong_server'
  | 'wrong_sname'
  | 'not_our_client'
  | 'unsupported_message'
  | 'reservation_in_use'
  | 'no_boot_file'
  | 'duplicate_burst';

export interface Destination {
  readonly address: string;
  readonly port: number;
}

export interface HandlerContext {
  readonly site: SiteView;
  /** The link the request came in on, when the socket knows it. */
  readonly link: Link | undefined;
  /** All links the agent serves (to attribute broadcasts caught by the shared socket). */
  readonly links: readonly Link[];
  readonly loopback: boolean;
  readonly from: Destination;
  readonly now: number;
}

interface Common {
  readonly client: ClientKind | 'turbo';
  readonly message: MessageLabel;
  readonly mac: string;
  readonly relayed: boolean;
  /** The lease table changed: persist before sending. */
  readonly persist: boolean;
}

export type Decision =
  | (Common & {
      readonly action: 'reply';
      readonly outcome: Exclude<Outcome, 'ignored' | 'dropped'>;
      readonly reply: ReplySpec;
      readonly to: Destination;
      readonly link: Link | undefined;
      readonly ip?: string;
      readonly bootFile?: string;
      readonly subnet: Subnet;
      readonly request: RequestView;
    })
  | (Common & { readonly action: 'ignore'; readonly outcome: 'ignored'; readonly reason: IgnoreReason })
  | (Common & { readonly action: 'drop'; readonly outcome: 'dropped'; readonly reason: DropReason });

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const INFINITE = 0xffffffff;
const MIN_DHCP_SIZE = 576;
const BOOTP_SIZE = 300;
const IP_UDP_HEADERS = 28;

export class DhcpHandler {
  constructor(
    private readonly config: ResponderConfig,
    private readonly table: LeaseTable,
    private readonly pool: PoolAllocator,
  ) {}

  handle(req: RequestView, ctx: HandlerContext): Decision {
    const mac = req.htype === 1 && req.hlen === 6 ? macText(req.chaddr) : '';
    const relayed = req.giaddr !== 0;
    const typeByte = req.options.get(Opt.MESSAGE_TYPE);
    const isDhcp = typeByte !== undefined;
    const msgType = typeByte?.length === 1 ? typeByte[0]! : isDhcp ? 0 : undefined;
    const message = messageLabel(msgType);
    const kind = classifyClient({
      isDhcp,
      vendorClass: latin1(req.options.get(Opt.VENDOR_CLASS)),
      userClass: latin1(req.options.get(Opt.USER_CLASS)),
      hasIpxeEncapsulated: req.options.has(Opt.IPXE),
      arch: readU16(req.options.get(Opt.CLIENT_ARCH)),
    });
    // One `Common` per request: the early exits make their own, the rest share `base` (below).
    if (req.op !== BOOTREQUEST) return drop(common(kind, message, mac, relayed), 'not_request');
    if (mac === '') return drop(common(kind, message, mac, relayed), 'bad_htype');
    if (req.hops > this.config.hopLimit) return drop(common(kind, message, mac, relayed), 'hop_limit');

    const host = ctx.site.hostByMac(mac);
    const located = this.locate(req, ctx, host);
    if (located === 'ambiguous') return drop(common(kind, message, mac, relayed), 'wrong_interface');
    if (!located) return ignore(common(kind, message, mac, relayed), 'no_subnet');
    const { subnet, link } = located;
    const reservation = host && host.subnet.id === subnet.id ? host : undefined;
    // The reservation's own (equal) strings: they outlive the request in the lease table (a binding moved
    // on in place takes the new record's `mac`) and the event ring, where a fresh copy would survive scavenges.
    const base = common(kind, message, reservation ? reservation.macKey : mac, relayed);
    // A reservation belongs to the MAC, whatever client id the software on it sends this time.
    const clientKey = reservation ? reservation.clientKey : clientIdentity(req, mac);
    const serverId = link?.addressInt ?? 0;

    if (!isDhcp) {
      if (req.sname !== '' && subnet.serverName !== undefined && req.sname !== subnet.serverName) {
        return ignore(base, 'wrong_sname');
      }
      if (!reservation) return ignore(base, 'no_reservation');
      const boot = this.boot(kind, req, ctx.site, reservation, subnet);
      const reply = this.reply(
        req,
        'bootp',
        subnet,
        link,
        reservation.ipInt,
        boot,
        undefined,
        NO_OPTIONS,
        ctx.site,
        reservation,
      );
      return this.send(
        base,
        req,
        ctx,
        reply,
        'bootreply',
        subnet,
        link,
        reservation.ipInt,
        boot,
        reservation,
      );
    }

    switch (msgType) {
      case DhcpType.DISCOVER: {
        const ip = this.pickAddress(req, subnet, reservation, clientKey, ctx);
        if (ip === 'in_use') return ignore(base, 'reservation_in_use');
        if (ip === undefined) return ignore(base, 'no_address');
        const leaseSeconds = this.leaseSeconds(subnet);
        this.table.put(
          {
            ip,
            client: clientKey,
            mac: base.mac,
            subnet: subnet.id,
            state: 'offered',
            expiresAt: ctx.now + this.config.offerHoldSeconds * 1000,
          },
          ctx.now,
        );
        const boot = this.boot(kind, req, ctx.site, reservation, subnet);
        const reply = this.reply(
          req,
          'dhcp',
          subnet,
          link,
          ip,
          boot,
          DhcpType.OFFER,
          leaseOptions(leaseSeconds),
          ctx.site,
          reservation,
        );
        return this.send(base, req, ctx, reply, 'offer', subnet, link, ip, boot, reservation);
      }

      case DhcpType.REQUEST: {
        const chosenServer = readU32(req.options.get(Opt.SERVER_ID));
        const requested = readU32(req.options.get(Opt.REQUESTED_IP));
        if (chosenServer !== undefined && chosenServer !== serverId && !ctx.loopback) {
          // SELECTING, but the client chose another server: forget our offer (RFC 2131 §4.3.2).
          const offered = this.table.ofClient(clientKey);
          if (offered?.state === 'offered') {
            this.table.put({ ...offered, expiresAt: ctx.now }, ctx.now);
            return ignore(base, 'wrong_server', true);
          }
          return ignore(base, 'wrong_server');
        }
        const wanted = requested ?? req.ciaddr;
        if (wanted === 0) return ignore(base, 'not_our_client');
        if ((wanted & subnet.mask) >>> 0 !== subnet.network)
          return this.send(
            base,
            req,
            ctx,
            this.nak(req, link, 'address not on this network'),
            'nak',
            subnet,
            link,
          );

        const known = this.table.ofClient(clientKey);
        const acceptable = reservation
          ? wanted === reservation.ipInt && this.table.isFreeFor(wanted, clientKey, ctx.now)
          : this.poolAddressOk(wanted, subnet, clientKey, ctx);
        if (!acceptable) {
          // INIT-REBOOT/RENEW for an address we have no record of, outside our pool: stay silent (§4.3.2).
          if (!reservation && !known && !inPool(subnet, wanted)) return ignore(base, 'not_our_client');
          const text = reservation
            ? "requested address is not this host's reservation"
            : 'address not available';
          return this.send(base, req, ctx, this.nak(req, link, text), 'nak', subnet, link);
        }
        const leaseSeconds = this.leaseSeconds(subnet);
        const expiresAt = leaseSeconds === INFINITE ? Number.MAX_SAFE_INTEGER : ctx.now + leaseSeconds * 1000;
        const hostname = latin1(req.options.get(Opt.HOSTNAME));
        const stored = this.table.put(
          {
            ip: wanted,
            client: clientKey,
            mac: base.mac,
            subnet: subnet.id,
            state: 'bound',
            expiresAt,
            ...(hostname ? { hostname: hostname.slice(0, 63) } : {}),
          },
          ctx.now,
        );
        if (!stored)
          return this.send(base, req, ctx, this.nak(req, link, 'address not available'), 'nak', subnet, link);
        const boot = this.boot(kind, req, ctx.site, reservation, subnet);
        const reply = this.reply(
          req,
          'dhcp',
          subnet,
          link,
          wanted,
          boot,
          DhcpType.ACK,
          leaseOptions(leaseSeconds),
          ctx.site,
          reservation,
        );
        // A reserved address needs no durable record: the reservation itself already binds it to the MAC.
        return this.send(
          base,
          req,
          ctx,
          reply,
          'ack',
          subnet,
          link,
          wanted,
          boot,
          reservation,
          reservation === undefined,
        );
      }

      case DhcpType.DECLINE: {
        const ip = readU32(req.options.get(Opt.REQUESTED_IP));
        const chosenServer = readU32(req.options.get(Opt.SERVER_ID));
        if (ip === undefined || (chosenServer !== undefined && chosenServer !== serverId && !ctx.loopback)) {
          return ignore(base, 'wrong_server');
        }
        const lease = this.table.at(ip);
        if (!lease || lease.client !== clientKey) return ignore(base, 'not_our_client');
        this.table.decline(ip, clientKey, mac, subnet.id, this.config.declineHoldSeconds * 1000, ctx.now);
        return ignore(base, 'not_our_client', true);
      }

      case DhcpType.RELEASE: {
        const released = this.table.release(req.ciaddr, clientKey, ctx.now);
        return ignore(base, 'not_our_client', released);
      }

      case DhcpType.INFORM: {
        if (req.ciaddr === 0) return ignore(base, 'not_our_client');
        const boot = this.boot(kind, req, ctx.site, reservation, subnet);
        const reply = this.reply(
          req,
          'dhcp',
          subnet,
          link,
          0,
          boot,
          DhcpType.ACK,
          NO_OPTIONS,
          ctx.site,
          reservation,
        );
        return this.send(base, req, ctx, reply, 'ack', subnet, link, undefined, boot);
      }

      default:
        return ignore(base, 'unsupported_message');
    }
  }

  /** Which subnet (and link) a request belongs to. RFC 3527 link selection, then giaddr, then the link. */
  private locate(
    req: RequestView,
    ctx: HandlerContext,
    host: HostReservation | undefined,
  ): { subnet: Subnet; link: Link | undefined } | 'ambiguous' | undefined {
    if (req.giaddr !== 0) {
      const selector = linkSelection(req.options.get(Opt.RELAY_AGENT_INFO)) ?? req.giaddr;
      const subnet = ctx.site.subnetContaining(selector);
      return subnet ? { subnet, link: ctx.link ?? linkOn(subnet, ctx.links) ?? ctx.links[0] } : undefined;
    }
    const direct = ctx.link ?? (ctx.links.length === 1 ? ctx.links[0] : undefined);
    if (direct && !ctx.loopback) {
      const subnet = ctx.site.subnetContaining(direct.addressInt);
      return subnet ? { subnet, link: direct } : undefined;
    }
    // The shared broadcast socket with several links, or loopback mode: use what the request says.
    const hint = req.ciaddr !== 0 ? ctx.site.subnetContaining(req.ciaddr) : host?.subnet;
    if (hint) {
      const link = ctx.loopback ? ctx.links[0] : linkOn(hint, ctx.links);
      return link ? { subnet: hint, link } : undefined;
    }
    if (ctx.loopback && ctx.site.subnets.length === 1)
      return { subnet: ctx.site.subnets[0]!, link: ctx.links[0] };
    return ctx.loopback ? undefined : 'ambiguous';
  }

  private pickAddress(
    req: RequestView,
    subnet: Subnet,
    reservation: HostReservation | undefined,
    clientKey: string,
    ctx: HandlerContext,
  ): number | 'in_use' | undefined {
    if (reservation)
      return this.table.isFreeFor(reservation.ipInt, clientKey, ctx.now) ? reservation.ipInt : 'in_use';
    return this.pool.allocate({
      subnet,
      client: clientKey,
      requested: readU32(req.options.get(Opt.REQUESTED_IP)),
      table: this.table,
      isReserved: (ip) => ctx.site.hostByIp(ip) !== undefined,
      excluded: excludedAddresses(subnet, ctx.links),
      now: ctx.now,
    });
  }

  private poolAddressOk(ip: number, subnet: Subnet, clientKey: string, ctx: HandlerContext): boolean {
    return (
      inPool(subnet, ip) &&
      ctx.site.hostByIp(ip) === undefined &&
      !excludedAddresses(subnet, ctx.links).has(ip) &&
      this.table.isFreeFor(ip, clientKey, ctx.now)
    );
  }

  private leaseSeconds(subnet: Subnet): number {
    return subnet.leaseSeconds ?? this.config.defaultLeaseSeconds;
  }

  private boot(
    kind: ClientKind,
    req: RequestView,
    site: SiteView,
    reservation: HostReservation | undefined,
    subnet: Subnet,
  ): BootDecision {
    const profile = site.profile(reservation?.profile ?? subnet.profile);
    return chooseBoot(kind, readU16(req.options.get(Opt.CLIENT_ARCH)), profile, reservation?.bootFile, {
      pxeServer: this.config.pxeServer,
    });
  }

  /** Appends the network configuration options, most important first (a BOOTP vend area holds only 60 octets). */
  private configOptions(
    out: Option[],
    site: SiteView,
    subnet: Subnet,
    reservation: HostReservation | undefined,
    req: RequestView,
    format: 'bootp' | 'dhcp',
  ): void {
    const fixed = subnetOptions(subnet);
    out.push(fixed.mask);
    if (fixed.routers) out.push(fixed.routers);
    if (fixed.dns) out.push(fixed.dns);
    if (reservation?.hostname) out.push([Opt.HOSTNAME, ascii(reservation.hostname)]);
    if (fixed.domain) out.push(fixed.domain);
    out.push(fixed.broadcast);
    const rootPath = site.profile(reservation?.profile ?? subnet.profile)?.rootPath;
    if (rootPath) out.push([Opt.ROOT_PATH, ascii(rootPath)]);
    if (format === 'dhcp') {
      const uuid = req.options.get(Opt.CLIENT_UUID);
      if (uuid?.length === 17) out.push([Opt.CLIENT_UUID, uuid]);
    }
  }

  private reply(
    req: RequestView,
    format: 'bootp' | 'dhcp',
    subnet: Subnet,
    link: Link | undefined,
    yiaddr: number,
    boot: BootDecision,
    dhcpType: number | undefined,
    lease: readonly Option[],
    site: SiteView,
    reservation: HostReservation | undefined,
  ): ReplySpec {
    const serverId = link?.addressInt ?? 0;
    const siaddr = subnet.nextServer ? ipInt(subnet.nextServer) : serverId;
    const prl = req.options.get(Opt.PARAM_REQUEST) ?? NO_BYTES;
    const options: Option[] = [];
    if (dhcpType !== undefined) options.push(messageTypeOption(dhcpType), serverIdOption(serverId));
    for (const o of lease) options.push(o);
    this.configOptions(options, site, subnet, reservation, req, format);
    if (boot.vendorClass) options.push([Opt.VENDOR_CLASS, ascii(boot.vendorClass)]);
    if (format === 'dhcp' && boot.file && prl.includes(Opt.TFTP_SERVER) && !boot.file.includes('://')) {
      options.push([Opt.TFTP_SERVER, ascii(ipText(siaddr))]);
    }
    if (format === 'dhcp' && boot.file && (prl.includes(Opt.BOOTFILE) || boot.file.includes('://'))) {
      options.push([Opt.BOOTFILE, ascii(boot.file)]);
    }
    if (format === 'dhcp' && req.options.has(Opt.IPXE)) {
      // iPXE: 175.176 = 1 "no ProxyDHCP": do not wait for proxy offers (TESTBED.md, ~2 s saved).
      options.push(IPXE_NO_PROXY);
    }
    const clientMax = readU16(req.options.get(Opt.MAX_MESSAGE_SIZE));
    const maxSize =
      format === 'bootp'
        ? BOOTP_SIZE
        : Math.max(MIN_DHCP_SIZE, Math.min(clientMax ?? MIN_DHCP_SIZE, 1500)) - IP_UDP_HEADERS;
    // Built field by field (no spread of a temporary object): this runs once per reply.
    const spec: Mutable<ReplySpec> = {
      htype: req.htype,
      hlen: req.hlen,
      xid: req.xid,
      flags: req.flags,
      ciaddr: req.ciaddr,
      yiaddr,
      siaddr: boot.file ? siaddr : serverId,
      giaddr: req.giaddr,
      chaddr: req.chaddr,
      sname: subnet.serverName ?? '',
      file: boot.file ?? '',
      options,
      format,
      maxSize,
    };
    if (req.giaddr !== 0) {
      const info = req.options.get(Opt.RELAY_AGENT_INFO);
      if (info !== undefined) spec.relayAgentInfo = info;
    }
    return spec;
  }

  private nak(req: RequestView, link: Link | undefined, text: string): ReplySpec {
    const serverId = link?.addressInt ?? 0;
    return {
      htype: req.htype,
      hlen: req.hlen,
      xid: req.xid,
      // A relayed NAK goes to the relay with B set, so the relay broadcasts it (RFC 2131 §4.3.2).
      flags: req.giaddr !== 0 ? req.flags | FLAG_BROADCAST : req.flags,
      ciaddr: 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: req.giaddr,
      chaddr: req.chaddr,
      sname: '',
      file: '',
      options: [
        [Opt.MESSAGE_TYPE, Uint8Array.of(DhcpType.NAK)],
        [Opt.SERVER_ID, u32(serverId)],
        [Opt.MESSAGE, ascii(text)],
      ],
      ...(req.giaddr !== 0 && req.options.has(Opt.RELAY_AGENT_INFO)
        ? { relayAgentInfo: req.options.get(Opt.RELAY_AGENT_INFO)! }
        : {}),
      format: 'dhcp',
      maxSize: MIN_DHCP_SIZE - IP_UDP_HEADERS,
    };
  }

  private send(
    base: Common,
    req: RequestView,
    ctx: HandlerContext,
    reply: ReplySpec,
    outcome: 'bootreply' | 'offer' | 'ack' | 'nak',
    subnet: Subnet,
    link: Link | undefined,
    ip?: number,
    boot?: BootDecision,
    reservation?: HostReservation,
    persist = base.persist,
  ): Decision {
    // Built field by field (no spreads): this runs once per reply on the hot path.
    const decision: Decision & { ip?: string; bootFile?: string } = {
      client: base.client,
      message: base.message,
      mac: base.mac,
      relayed: base.relayed,
      persist,
      action: 'reply',
      outcome,
      reply,
      to: destination(req, outcome === 'nak', ctx, this.config),
      link,
      subnet,
      request: req,
    };
    if (ip !== undefined && ip !== 0) decision.ip = ip === reservation?.ipInt ? reservation.ip : ipText(ip);
    if (boot?.file) decision.bootFile = boot.file;
    return decision;
  }
}

/**
 * Where a reply goes (RFC 1542 §5.4, RFC 2131 §4.1): relayed → giaddr:67; NAK → broadcast; client with an
 * address → ciaddr:68; otherwise broadcast (a dgram socket cannot unicast to an address the client does not
 * have yet without an ARP entry, and broadcasting is always permitted: PROTOCOLS.md §1.3).
 */
export function destination(
  req: RequestView,
  isNak: boolean,
  ctx: Pick<HandlerContext, 'loopback' | 'from'>,
  config: Pick<ResponderConfig, 'port' | 'clientPort'>,
): Destination {
  if (ctx.loopback) return ctx.from;
  if (req.giaddr !== 0) return relayDestination(req.giaddr, config.port);
  if (!isNak && req.ciaddr !== 0) return { address: ipText(req.ciaddr), port: config.clientPort };
  return { address: '255.255.255.255', port: config.clientPort };
}

type Option = readonly [number, Uint8Array];

const NO_OPTIONS: readonly Option[] = [];
const NO_BYTES = new Uint8Array(0);
const IPXE_NO_PROXY: Option = [Opt.IPXE, Uint8Array.of(0xb0, 1, 1)];
const MESSAGE_TYPES: readonly Option[] = Array.from({ length: 9 }, (_, t) => [
  Opt.MESSAGE_TYPE,
  Uint8Array.of(t),
]);

/*
 * Per-packet allocations are kept down with caches of read-only option values: the encoder only reads
 * them, and a reply's option list is a fresh array that merely points at them. Objects from a site
 * snapshot key WeakMaps, so a reloaded site drops its entries; the maps keyed by number are bounded.
 */

function messageTypeOption(type: number): Option {
  return MESSAGE_TYPES[type] ?? [Opt.MESSAGE_TYPE, Uint8Array.of(type)];
}

/** `make`, remembered for up to `limit` keys (then forgotten all at once). */
function memo<K, V>(limit: number, make: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= limit) cache.clear();
      value = make(key);
      cache.set(key, value);
    }
    return value;
  };
}

const serverIdOption = memo(256, (address: number): Option => [Opt.SERVER_ID, u32(address)]);

/** A relay's address as text (replies go back to a handful of relays). */
const relayText = memo(1024, (address: number) => ipText(address));

/** A relay's destination (one object per relay, not per reply). */
const relayDestinations = new Map<number, Destination>();
function relayDestination(address: number, port: number): Destination {
  let to = relayDestinations.get(address);
  if (to === undefined || to.port !== port) {
    if (relayDestinations.size >= 1024) relayDestinations.clear();
    to = { address: relayText(address), port };
    relayDestinations.set(address, to);
  }
  return to;
}

/** Options 51, 58, 59 for a lease time (a few distinct values). */
const leaseOptions = memo(64, (seconds: number): readonly Option[] =>
  seconds === INFINITE
    ? [[Opt.LEASE_TIME, u32(INFINITE)]]
    : [
        [Opt.LEASE_TIME, u32(seconds)],
        [Opt.RENEWAL_T1, u32(Math.floor(seconds / 2))],
        [Opt.REBINDING_T2, u32(Math.floor((seconds * 7) / 8))],
      ],
);

interface SubnetOptions {
  readonly mask: Option;
  readonly routers?: Option;
  readonly dns?: Option;
  readonly domain?: Option;
  readonly broadcast: Option;
}

const subnetOptionCache = new WeakMap<Subnet, SubnetOptions>();
function subnetOptions(subnet: Subnet): SubnetOptions {
  let options = subnetOptionCache.get(subnet);
  if (!options) {
    options = {
      mask: [Opt.SUBNET_MASK, u32(subnet.mask)],
      ...(subnet.routers.length > 0 ? { routers: [Opt.ROUTER, ipList(subnet.routers)] as const } : {}),
      ...(subnet.dnsServers.length > 0 ? { dns: [Opt.DNS, ipList(subnet.dnsServers)] as const } : {}),
      ...(subnet.domainName ? { domain: [Opt.DOMAIN_NAME, ascii(subnet.domainName)] as const } : {}),
      broadcast: [Opt.BROADCAST, u32(subnet.broadcast)],
    };
    subnetOptionCache.set(subnet, options);
  }
  return options;
}

function common(client: ClientKind, message: MessageLabel, mac: string, relayed: boolean): Common {
  return { client, message, mac, relayed, persist: false };
}

function drop(base: Common, reason: DropReason): Decision {
  return { ...base, action: 'drop', outcome: 'dropped', reason };
}

function ignore(base: Common, reason: IgnoreReason, persist = false): Decision {
  return { ...base, persist, action: 'ignore', outcome: 'ignored', reason };
}

/** The link whose address lies in `subnet`. */
function linkOn(subnet: Subnet, links: readonly Link[]): Link | undefined {
  for (const l of links) if ((l.addressInt & subnet.mask) >>> 0 === subnet.network) return l;
  return undefined;
}

function messageLabel(type: number | undefined): MessageLabel {
  switch (type) {
    case undefined:
      return 'bootrequest';
    case DhcpType.DISCOVER:
      return 'discover';
    case DhcpType.REQUEST:
      return 'request';
    case DhcpType.DECLINE:
      return 'decline';
    case DhcpType.RELEASE:
      return 'release';
    case DhcpType.INFORM:
      return 'inform';
    default:
      return 'other';
  }
}

/** RFC 2131 §2: option 61, when present, identifies the client instead of chaddr. */
export function clientIdentity(req: RequestView, mac: string): string {
  const id = req.options.get(Opt.CLIENT_ID);
  return id && id.length >= 2 ? `id:${toHex(id)}` : `mac:${mac}`;
}

/** RFC 3527 link-selection sub-option (5) of option 82. */
function linkSelection(info: Uint8Array | undefined): number | undefined {
  if (!info) return undefined;
  for (let at = 0; at + 2 <= info.length;) {
    const code = info[at]!;
    const len = info[at + 1]!;
    if (at + 2 + len > info.length) return undefined;
    if (code === 5 && len === 4) return readU32(info.subarray(at + 2, at + 6));
    at += 2 + len;
  }
  return undefined;
}

function inPool(subnet: Subnet, ip: number): boolean {
  return (
    subnet.poolStart !== undefined &&
    subnet.poolEnd !== undefined &&
    ip >= subnet.poolStart &&
    ip <= subnet.poolEnd
  );
}

function excludedAddresses(subnet: Subnet, links: readonly Link[]): Set<number> {
  const out = new Set<number>();
  for (const l of links) out.add(l.addressInt);
  for (const r of subnet.routers) out.add(ipInt(r));
  if (subnet.nextServer) out.add(ipInt(subnet.nextServer));
  return out;
}

function ipInt(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipText(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function ipList(addresses: readonly string[]): Uint8Array {
  const out = new Uint8Array(addresses.length * 4);
  addresses.forEach((a, i) => out.set(u32(ipInt(a)), i * 4));
  return out;
}
