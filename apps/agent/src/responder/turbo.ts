import {
  DISCOVERY_DEFAULTS,
  TurboEndpointType,
  cacheVerdict,
  decodeTurbo,
  encodeTurbo,
  issueValidationToken,
  rendezvousDelayMs,
  rendezvousRank,
  turboEpoch,
  turboHostId,
  type TurboDiscover,
  type TurboEndpoint,
  type TurboKey,
  type TurboVerdict,
} from '@bootpt/protocol/turbo/index';
import { fromHex, toHex } from '@bootpt/protocol/wire';
import type { SiteView, Subnet } from '../backend/site.js';
import type { TurboConfig } from '../config/schema.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import { encodeReply, type EncodedReply } from './codec.js';
import type { Decision } from './handler.js';
import { Opt, type ReplySpec, type RequestView } from './packet.js';
import { TokenBucket } from './token-bucket.js';

/**
 * BOOTP Turbo on top of the plain answer (packages/protocol/SPEC.md). For a request that carries a Turbo
 * discover (site-specific option, default 224) and a host with an assigned manifest, the reply (OFFER,
 * ACK or BOOTREPLY) gains a Turbo offer: the manifest digest, the verdict on the client's cache token,
 * a fresh validation token, the delivery endpoints the client accepts in preference order, the subnet's
 * delivery load and the PACING before the first transfer. Any other request gets the plain answer
 * unchanged: Turbo is never a separate mode.
 *
 * Pacing: a token bucket per subnet (`offersPerSecond`, `burst`) books a slot for every first-contact
 * Turbo answer (OFFER, BOOTREPLY). Up to `maxPacingDelayMs` of the wait is spent holding the offer back,
 * but never past the client's offer window (WINDOW, default 1000 ms) less the rank delay below, so the
 * held offer still counts; the rest goes into PACING, where the client waits without any timeout running.
 * Slots booked beyond `maxBacklogMs` are refused: the offer is shed and the client's randomised
 * retransmission (or another agent) picks it up. The advertised load is the bucket's fill, 0..255.
 *
 * Several agents on one subnet (SPEC §9): when the site lists the subnet's agents, each computes its
 * rendezvous rank for the client's chaddr and holds every first-contact answer (Turbo or not) back by
 * `rank × rankStepMs` (capped, halved per retransmission round), so the preferred agent is heard first
 * and the others are fallbacks; nobody coordinates at run time.
 */

/** The agent's own TFTP service, as far as Turbo offers care: its port and the modes it grants. */
export interface LocalTftp {
  readonly port: number;
  readonly multicast: boolean;
  readonly sbroadcast: boolean;
}

/** The metrics this class feeds (a slice of `AgentMetrics`). */
export type TurboMetrics = Pick<AgentMetrics, 'turboOffers' | 'turboPacing' | 'load'>;

export interface TurboOutcome {
  readonly decision: Decision;
  readonly delayMs: number;
  readonly verdict?: TurboVerdict;
  readonly manifest?: string;
  /** The reply as encoded to check that the Turbo option fits: sent as is, not encoded again. */
  readonly encoded?: EncodedReply;
}

/** Room left in the client's offer window for network and scheduling jitter. */
const WINDOW_MARGIN_MS = 100;
/** A Turbo reply may grow to the 576-octet datagram every client accepts (ARCHITECTURE decision 1). */
const TURBO_MAX_SIZE = 576 - 28;
const PACED_CLIENTS_MAX = 10_000;
/** A burst spans ~300 ms (SPEC §7.1); its repeats are recognised for this long. */
const BURST_MEMORY_MS = 5000;

export class TurboResponder {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly keys: readonly TurboKey[];
  /** Per client: when its booked transfer slot starts, so the ACK repeats the OFFER's PACING. Bounded. */
  private readonly pacedUntil = new Map<string, number>();
  /** (chaddr, xid, round) of first-contact Turbo discovers already answered, oldest first. Bounded. */
  private readonly bursts = new Map<string, number>();

  constructor(
    private readonly config: TurboConfig,
    private readonly agentId: string,
    private readonly metrics: TurboMetrics,
    /** Set when this agent serves TFTP (and `advertiseTftp` is on): offered after the site's endpoints. */
    private readonly tftp?: LocalTftp,
  ) {
    this.keys = config.keys.map((k) => ({ id: k.id, secret: fromHex(k.secret)! }));
  }

  apply(decision: Decision, site: SiteView, now: number): TurboOutcome {
    if (decision.action !== 'reply' || decision.outcome === 'nak') return { decision, delayMs: 0 };
    const { request, subnet } = decision;
    const firstContact = decision.outcome === 'offer' || decision.outcome === 'bootreply';
    // SPEC §3.3: Turbo rides on BOOTREQUEST, DISCOVER and REQUEST only (never INFORM).
    const carrier = decision.message !== 'inform';
    const discover = this.config.enabled && carrier ? this.discoverOf(request) : undefined;
    const round = discover?.attempt?.round ?? (request.secs > 0 ? 1 : 0);
    const rankDelay = firstContact ? this.rankDelay(request, subnet, round) : 0;
    if (!discover) return { decision, delayMs: rankDelay };
    if (firstContact && this.repeatOfBurst(decision.mac, request.xid, round, now)) {
      // SPEC §7.1: one answer per (chaddr, xid, round); the burst's other discovers are redundancy.
      return {
        decision: {
          ...decision,
          action: 'ignore',
          outcome: 'ignored',
          reason: 'duplicate_burst',
          client: 'turbo',
        },
        delayMs: 0,
      };
    }

    const host = site.hostByMac(decision.mac);
    const digestHex = host?.manifest ?? site.profile(host?.profile ?? subnet.profile)?.manifest;
    const digest = digestHex ? fromHex(digestHex) : null;
    if (!digest) return { decision, delayMs: rankDelay };

    const hostId = turboHostId(
      request.htype,
      request.chaddr.subarray(0, request.hlen),
      request.options.get(Opt.CLIENT_ID),
    );
    const nowEpoch = turboEpoch(now, this.config.epochMs);
    const verdict = cacheVerdict({
      cacheToken: discover.cacheToken,
      host: hostId,
      assignedDigest: digest,
      keys: this.keys,
      nowEpoch,
      maxAgeEpochs: this.config.maxTokenAgeEpochs,
    });

    let holdMs = 0;
    let pacingMs = 0;
    const bucket = this.bucket(subnet.id, now);
    // SPEC §5.1: PACING is for clients that will fetch; a `valid` cache fetches nothing and costs no slot.
    if (firstContact && verdict !== 'valid') {
      const booked = bucket.take(now, this.config.maxBacklogMs);
      if (!booked.ok) {
        this.metrics.turboPacing.inc({ action: 'shed' });
        return {
          decision: { ...decision, action: 'drop', outcome: 'dropped', reason: 'paced_out', client: 'turbo' },
          delayMs: 0,
          verdict,
          manifest: digestHex,
        };
      }
      const window = discover.windowMs ?? DISCOVERY_DEFAULTS.windowMs;
      const holdBudget = Math.max(
        0,
        Math.min(this.config.maxPacingDelayMs, window - rankDelay - WINDOW_MARGIN_MS),
      );
      holdMs = Math.min(booked.delayMs, holdBudget);
      pacingMs = booked.delayMs - holdMs;
      this.metrics.turboPacing.inc({ action: booked.delayMs === 0 ? 'immediate' : 'delayed' });
      this.rememberPacing(decision.mac, now + holdMs + pacingMs);
    } else if (verdict !== 'valid') {
      pacingMs = Math.max(0, (this.pacedUntil.get(decision.mac) ?? 0) - now);
    } else {
      this.metrics.turboPacing.inc({ action: 'immediate' });
    }

    const load = bucket.load(now);
    this.metrics.load.set(load);
    const validationToken = this.keys[0]
      ? issueValidationToken({ key: this.keys[0], host: hostId, manifestDigest: digest, epoch: nowEpoch })
      : undefined;
    const endpoints = this.endpoints(site, discover, decision.link?.address, request.giaddr !== 0);
    // SPEC §10: a Turbo reply stays within 548 octets whatever option 57 says; least preferred endpoints go first.
    let reply: ReplySpec;
    let encoded: EncodedReply;
    for (;;) {
      const payload = encodeTurbo({
        kind: 'offer',
        manifestDigest: digest,
        verdict,
        load: Math.round(load * 255),
        pacingMs: Math.min(0xffff, Math.ceil(pacingMs)),
        endpoints,
        ...(validationToken ? { validationToken } : {}),
      });
      reply = {
        ...decision.reply,
        options: [...decision.reply.options, [this.config.optionCode, payload]],
        maxSize: TURBO_MAX_SIZE,
      };
      encoded = encodeReply(reply);
      if (endpoints.length === 0 || !encoded.omitted.includes(this.config.optionCode)) break;
      endpoints.pop();
    }
    this.metrics.turboOffers.inc({ verdict });
    return {
      decision: { ...decision, reply, client: 'turbo' },
      delayMs: rankDelay + holdMs,
      verdict,
      manifest: toHex(digest),
      encoded,
    };
  }

  /** Highest fill of any subnet's bucket, 0..1 (for the gauge). */
  load(now: number): number {
    let max = 0;
    for (const b of this.buckets.values()) max = Math.max(max, b.load(now));
    return max;
  }

  private discoverOf(request: RequestView): TurboDiscover | undefined {
    const raw = request.options.get(this.config.optionCode);
    if (!raw) return undefined;
    const decoded = decodeTurbo(raw);
    // SPEC §8: a payload we cannot read (foreign use of the code, newer version) means "legacy client".
    return decoded.ok && decoded.value.kind === 'discover' ? decoded.value : undefined;
  }

  /** Remembers (chaddr, xid, round) for a few seconds; true when it was already seen. Bounded. */
  private repeatOfBurst(mac: string, xid: number, round: number, now: number): boolean {
    const key = `${mac}/${xid}/${round}`;
    const seen = this.bursts.get(key);
    if (seen !== undefined && now - seen < BURST_MEMORY_MS) return true;
    this.bursts.delete(key);
    this.bursts.set(key, now);
    if (this.bursts.size > PACED_CLIENTS_MAX) {
      const oldest = this.bursts.keys().next().value;
      if (oldest !== undefined) this.bursts.delete(oldest);
    }
    return false;
  }

  private rankDelay(request: RequestView, subnet: Subnet, round: number): number {
    if (subnet.agents.length < 2) return 0;
    const rank = rendezvousRank(request.chaddr.subarray(0, request.hlen), this.agentId, subnet.agents);
    return rendezvousDelayMs(rank, round, {
      stepMs: this.config.rankStepMs,
      maxDelayMs: this.config.rankMaxDelayMs,
    });
  }

  private endpoints(
    site: SiteView,
    discover: TurboDiscover,
    localAddress: string | undefined,
    relayed: boolean,
  ): TurboEndpoint[] {
    const listed: TurboEndpoint[] = site.endpoints.map((e) => ({
      type: TurboEndpointType[e.kind],
      address: e.address,
      port: e.port,
      id: e.id,
    }));
    const tftp = this.config.advertiseTftp ? this.tftp : undefined;
    if (tftp && localAddress) {
      // Group delivery reaches the client's own link only: a relayed client gets unicast TFTP.
      const own: TurboEndpoint[] = [
        ...(tftp.multicast && !relayed ? [TurboEndpointType.multicast] : []),
        ...(tftp.sbroadcast && !relayed ? [TurboEndpointType.broadcast] : []),
        TurboEndpointType.tftp,
      ].map((type) => ({ type, address: localAddress, port: tftp.port, id: 0 }));
      for (const e of own) {
        const dup = listed.some((l) => l.type === e.type && l.address === e.address && l.port === e.port);
        if (!dup) listed.push(e);
      }
    }
    return listed.filter((e) => discover.accept.includes(e.type));
  }

  private bucket(subnetId: string, now: number): TokenBucket {
    let bucket = this.buckets.get(subnetId);
    if (!bucket) {
      bucket = new TokenBucket(this.config.offersPerSecond, this.config.burst, this.config.maxBacklogMs, now);
      this.buckets.set(subnetId, bucket);
    }
    return bucket;
  }

  private rememberPacing(mac: string, until: number): void {
    this.pacedUntil.delete(mac);
    this.pacedUntil.set(mac, until);
    if (this.pacedUntil.size > PACED_CLIENTS_MAX) {
      const oldest = this.pacedUntil.keys().next().value;
      if (oldest !== undefined) this.pacedUntil.delete(oldest);
    }
  }
}
