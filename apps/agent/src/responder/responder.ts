import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import type { ResponderConfig } from '../config/schema.js';
import type { Service } from '../lib/service.js';
import type { BootEvent, BootEventBuffer } from '../telemetry/events.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import { decodeRequest, encodeReply, type EncodedReply } from './codec.js';
import { DhcpHandler, type Decision } from './handler.js';
import { LeaseStore } from './lease-store.js';
import { LeaseTable } from './lease-table.js';
import { Listener, recordBroadcastMode, type Inbound } from './listener.js';
import { PoolAllocator } from './pool.js';
import { TurboResponder, type LocalTftp } from './turbo.js';

/**
 * The UDP 67 service: sockets (`Listener`) → decode (`codec.ts`) → policy (`DhcpHandler`, `TurboResponder`)
 * → persist (`LeaseStore`, before any ACK) → pace (Turbo offers) → send; every request is recorded as a
 * metric and a boot event. Work per packet is bounded: at most `maxInFlight` requests are in progress
 * (the rest are dropped as `overloaded`), decoding is one pass over at most 1472 octets, and pacing
 * never holds an offer longer than `turbo.maxPacingDelayMs` plus the multi-agent rank delay.
 */
export interface ResponderOptions {
  readonly config: ResponderConfig;
  readonly agentId: string;
  readonly leasePath: string;
  readonly backend: Backend;
  readonly metrics: AgentMetrics;
  readonly events: BootEventBuffer;
  readonly log: Logger;
  /** This agent's TFTP service, when enabled (offered to Turbo clients as tftp/broadcast/multicast). */
  readonly tftp?: LocalTftp;
}

/** A decided request, waiting to be sent and recorded. */
interface Prepared {
  readonly decision: Decision;
  readonly now: number;
  readonly delayMs: number;
  readonly verdict?: string | undefined;
  readonly manifest?: string | undefined;
  /** Set when the reply was already encoded (Turbo's size check). */
  readonly encoded?: EncodedReply | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface SeriesChildren {
  readonly requests: { inc(): void };
  readonly latency: { observe(value: number): void };
}

const HOUSEKEEPING_MS = 10_000;
const FORGET_EXPIRED_AFTER_MS = 7 * 24 * 3600 * 1000;

export class Responder implements Service {
  readonly name = 'responder';
  readonly table = new LeaseTable();
  private readonly store: LeaseStore;
  private readonly handler: DhcpHandler;
  private readonly turbo: TurboResponder;
  private readonly listener: Listener;
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private housekeeping: NodeJS.Timeout | undefined;
  /** Label children by client, then message, then outcome (no key string built per request). */
  private readonly children = new Map<string, Map<string, Map<string, SeriesChildren>>>();

  constructor(private readonly options: ResponderOptions) {
    const { config } = options;
    this.store = new LeaseStore(options.leasePath);
    this.handler = new DhcpHandler(config, this.table, new PoolAllocator());
    this.turbo = new TurboResponder(config.turbo, options.agentId, options.metrics, options.tftp);
    this.listener = new Listener(config, (p) => this.onPacket(p), options.log);
  }

  async start(): Promise<void> {
    const { leases, replayed, malformed, tornTail } = await this.store.loadReport();
    const skipped = this.table.load(leases);
    this.options.log.info(
      { leases: leases.length, skipped, replayed, malformed, tornTail, path: this.store.path },
      'leases loaded',
    );
    await this.listener.start();
    recordBroadcastMode(this.options.metrics.registry, this.listener);
    this.updateGauges();
    this.housekeeping = setInterval(() => this.housekeep(), HOUSEKEEPING_MS);
    this.housekeeping.unref();
  }

  /** The UDP port actually bound (tests bind port 0 in loopback mode). */
  port(): number {
    return this.listener.port();
  }

  stopAccepting(): void {
    this.listener.stopAccepting();
    if (this.housekeeping) clearInterval(this.housekeeping);
    this.housekeeping = undefined;
  }

  /** Waits until no request is in flight, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.inFlight > 0) this.options.log.warn({ inFlight: this.inFlight }, 'drain timed out');
  }

  async closeSockets(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.listener.close();
  }

  async flush(): Promise<void> {
    await this.persist().catch((err: unknown) => this.options.log.error({ err }, 'final lease write failed'));
    // Waits for every write, folds the journal into a snapshot, closes it (a later write reopens it).
    await this.store.close(this.table);
  }

  async close(): Promise<void> {
    this.stopAccepting();
    await this.closeSockets();
    await this.flush();
  }

  /**
   * Decides and, in the common case (nothing to persist, no delay), answers synchronously inside the
   * socket's 'message' callback: no promise, timer or other event-loop hop between receive and send.
   * Requests that must wait for a lease write or for pacing continue asynchronously and count against
   * `maxInFlight`.
   */
  private onPacket(packet: Inbound): void {
    if (this.inFlight >= this.options.config.maxInFlight) {
      this.options.metrics.drop('overloaded');
      return;
    }
    let prepared: Prepared | undefined;
    try {
      prepared = this.prepare(packet);
      if (prepared === undefined) return;
      if (!prepared.decision.persist && prepared.delayMs === 0) {
        this.finish(packet, prepared);
        return;
      }
    } catch (err) {
      this.failed(err);
      return;
    }
    this.inFlight++;
    this.finishLater(packet, prepared)
      .catch((err: unknown) => this.failed(err))
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
  }

  private failed(err: unknown): void {
    this.options.log.error({ err }, 'request handling failed');
    this.options.metrics.requests.inc({ client: 'dhcp', message: 'other', outcome: 'error' });
  }

  /** Called by Node once a reply is sent (one function for every reply, not a closure per packet). */
  private readonly sent = (err: Error | null): void => {
    if (err) this.failed(err);
  };

  /** Decode and decide; undefined when the packet was dropped while decoding. */
  private prepare(packet: Inbound): Prepared | undefined {
    const { metrics, log } = this.options;
    const decoded = decodeRequest(packet.data);
    if (!decoded.ok) {
      metrics.drop(decoded.reason);
      if (log.isLevelEnabled('debug'))
        log.debug(
          { from: packet.from.address, size: packet.data.length, reason: decoded.reason },
          'packet dropped',
        );
      return undefined;
    }
    const now = Date.now();
    const site = this.options.backend.current();
    const links = this.listener.allLinks();
    const decision = this.handler.handle(decoded.value, {
      site,
      link: this.options.config.loopback ? links[0] : packet.link,
      links,
      loopback: this.options.config.loopback,
      from: packet.from,
      now,
    });
    if (decision.action !== 'reply') return { decision, now, delayMs: 0 };
    const turbo = this.turbo.apply(decision, site, now);
    return {
      decision: turbo.decision,
      now,
      delayMs: turbo.delayMs,
      verdict: turbo.verdict,
      manifest: turbo.manifest,
      encoded: turbo.encoded,
    };
  }

  private async finishLater(packet: Inbound, prepared: Prepared): Promise<void> {
    if (prepared.decision.persist) await this.persist();
    if (prepared.delayMs > 0 && prepared.decision.action === 'reply') await this.sleep(prepared.delayMs);
    this.finish(packet, prepared);
  }

  /** Sends the reply (if any) and records the request: metrics, boot event, debug log. */
  private finish(packet: Inbound, { decision, now, verdict, manifest, encoded: ready }: Prepared): void {
    const { metrics, log } = this.options;
    if (decision.action === 'reply') {
      const encoded = ready ?? encodeReply(decision.reply);
      if (encoded.omitted.length > 0)
        log.warn({ omitted: encoded.omitted, mac: decision.mac }, 'options left out of a full reply');
      this.listener.send(
        decision.link ?? this.listener.allLinks()[0]!,
        encoded.bytes,
        decision.to.address,
        decision.to.port,
        this.sent,
      );
    } else if (decision.action === 'drop') {
      metrics.drop(decision.reason);
    }

    // Receive to hand-over to the socket (the send itself completes on the next tick).
    const seconds = (performance.now() - packet.receivedAt) / 1000;
    this.series(decision.client, decision.message, decision.outcome, seconds);
    const event: Mutable<BootEvent> = {
      at: now,
      mac: decision.mac,
      kind: decision.client,
      messageType: decision.message,
      outcome:
        decision.action === 'reply' ? (decision.outcome === 'nak' ? 'nak' : 'replied') : decision.outcome,
      latencyMs: seconds * 1000,
      relayed: decision.relayed,
    };
    if (decision.action !== 'reply') event.reason = decision.reason;
    else {
      if (decision.ip) event.ip = decision.ip;
      if (decision.bootFile) event.bootFile = decision.bootFile;
    }
    if (manifest) event.manifest = manifest;
    if (verdict) event.cacheVerdict = verdict;
    this.options.events.record(event);
    if (!log.isLevelEnabled('debug')) return;
    if (decision.action === 'reply') {
      log.debug(
        {
          mac: decision.mac,
          outcome: decision.outcome,
          ip: decision.ip,
          to: decision.to.address,
          file: decision.bootFile,
        },
        'replied',
      );
    } else {
      log.debug(
        { mac: decision.mac, message: decision.message, reason: decision.reason },
        decision.action === 'drop' ? 'dropped' : 'ignored',
      );
    }
  }

  /**
   * Counts a request and observes its latency through cached label children: prom-client would otherwise
   * hash the label object on every call. Labels are bounded, so the cache is too.
   */
  private series(client: string, message: string, outcome: string, seconds: number): void {
    let byMessage = this.children.get(client);
    if (!byMessage) this.children.set(client, (byMessage = new Map<string, Map<string, SeriesChildren>>()));
    let byOutcome = byMessage.get(message);
    if (!byOutcome) byMessage.set(message, (byOutcome = new Map<string, SeriesChildren>()));
    let children = byOutcome.get(outcome);
    if (!children) {
      const { metrics } = this.options;
      children = {
        requests: metrics.requests.labels({ client, message, outcome }),
        latency: metrics.latency.labels({ client, outcome }),
      };
      byOutcome.set(outcome, children);
    }
    children.requests.inc();
    children.latency.observe(seconds);
  }

  private async persist(): Promise<void> {
    try {
      await this.store.save(this.table);
      this.options.metrics.leaseWrites.inc({ result: 'ok' });
    } catch (err) {
      this.options.metrics.leaseWrites.inc({ result: 'error' });
      throw err;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private housekeep(): void {
    const now = Date.now();
    if (this.table.prune(now, FORGET_EXPIRED_AFTER_MS) > 0) {
      this.persist().catch((err: unknown) => this.options.log.error({ err }, 'lease write failed'));
    }
    this.updateGauges();
  }

  private updateGauges(): void {
    const counts = this.table.counts(Date.now());
    for (const [state, n] of Object.entries(counts)) this.options.metrics.leases.set({ state }, n);
    this.options.metrics.eventsBuffered.set(this.options.events.length);
    this.options.metrics.eventsOverwritten.set(this.options.events.dropped);
    this.options.metrics.load.set(this.turbo.load(Date.now()));
  }
}
