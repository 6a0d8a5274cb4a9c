import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics.js';

/**
 * The agent's Prometheus metrics, on a Registry of its own (never prom-client's global one, so tests and
 * embedders can run several agents in one process). Every label is bounded: no MAC or IP labels.
 *
 * Label values:
 * - `client`: bootp | dhcp | pxe | ipxe | http | turbo
 * - `message`: bootrequest | discover | request | decline | release | inform | other
 * - `outcome`: bootreply | offer | ack | nak | ignored | dropped | error
 * - `reason` (drops): see `DropReason`
 */

export const DROP_REASONS = [
  'too_short',
  'oversized',
  'malformed',
  'not_request',
  'bad_htype',
  'hop_limit',
  'overloaded',
  'wrong_interface',
  'paced_out',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export class AgentMetrics {
  readonly registry = new Registry();

  // Recorded once per request: see hot-metrics.ts.
  readonly requests = new HotCounter({
    name: 'bootpt_agent_dhcp_requests_total',
    help: 'BOOTP/DHCP requests handled, by client kind, message type and outcome',
    labelNames: ['client', 'message', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly latency = new HotHistogram({
    name: 'bootpt_agent_dhcp_request_duration_seconds',
    help: 'Time from receiving a request to sending its reply (or deciding not to), pacing included',
    labelNames: ['client', 'outcome'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly dropped = new Counter({
    name: 'bootpt_agent_dhcp_packets_dropped_total',
    help: 'Packets dropped before or during handling, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly leases = new Gauge({
    name: 'bootpt_agent_dhcp_leases',
    help: 'Dynamic and reserved leases held, by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly leaseWrites = new Counter({
    name: 'bootpt_agent_lease_store_writes_total',
    help: 'Lease file writes, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly turboOffers = new Counter({
    name: 'bootpt_agent_turbo_offers_total',
    help: 'BOOTP Turbo offers sent, by cache verdict',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });

  readonly turboPacing = new Counter({
    name: 'bootpt_agent_turbo_pacing_total',
    help: 'Turbo offer pacing decisions: sent at once, delayed by the token bucket, or shed',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly load = new Gauge({
    name: 'bootpt_agent_turbo_load_ratio',
    help: 'Delivery load advertised in Turbo offers (0 idle .. 1 saturated)',
    registers: [this.registry],
  });

  readonly eventsBuffered = new Gauge({
    name: 'bootpt_agent_boot_events_buffered',
    help: 'Boot events waiting for the control plane',
    registers: [this.registry],
  });

  readonly eventsOverwritten = new Gauge({
    name: 'bootpt_agent_boot_events_overwritten',
    help: 'Boot events lost because the buffer was full (since start)',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({});
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'bootpt_agent_' });
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
  }

  drop(reason: DropReason): void {
    this.dropped.inc({ reason });
  }
}
