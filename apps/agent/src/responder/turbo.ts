import type { SiteView } from '../backend/site.js';
import type { TurboConfig } from '../config/schema.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import type { Decision } from './handler.js';
import type { TokenBucket } from './token-bucket.js';

export interface TurboOutcome {
  readonly decision: Decision;
  readonly delayMs: number;
  readonly verdict?: string;
  readonly manifest?: string;
}

/** BOOTP Turbo offers (packages/protocol/SPEC.md): placeholder until the spec's codec lands. */
export class TurboResponder {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly config: TurboConfig,
    private readonly agentId: string,
    private readonly metrics: AgentMetrics,
  ) {}

  apply(decision: Decision, site: SiteView, now: number): TurboOutcome {
    void site;
    void now;
    void this.agentId;
    void this.metrics;
    return { decision, delayMs: 0 };
  }

  load(now: number): number {
    let max = 0;
    for (const b of this.buckets.values()) max = Math.max(max, b.load(now));
    void this.config;
    return max;
  }
}
