import type { Registry } from 'prom-client';

/**
 * A labelled counter and histogram for the per-request hot path, exported through a prom-client
 * `Registry` in the same text format as prom-client's own `Counter` and `Histogram`.
 *
 * prom-client hashes the label object on every `inc`/`observe`, even through a child from `labels()`,
 * and builds a closure per observation: measured on the responder at 1,000 exchanges/s, its two calls
 * per request were 6% of the agent's busy CPU and 10% of what each request allocated. Here a child is
 * an index into plain arrays: recording is one addition (and a bucket scan), and everything else
 * happens when Prometheus scrapes.
 */

type LabelValues<N extends string> = Readonly<Record<N, string>>;

interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What prom-client's Registry reads from a metric (`registerMetric`, `metrics()`, `resetMetrics()`). */
interface CollectableMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;
  reset(): void;
}

abstract class HotMetric<N extends string> implements CollectableMetric {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  protected readonly labelNames: readonly N[];
  /** Label values of each series, in the order the series were first used. */
  protected readonly seriesLabels: LabelValues<N>[] = [];
  private readonly index = new Map<string, number>();

  constructor(options: { name: string; help: string; labelNames: readonly N[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The Registry only needs the members above; its parameter type is prom-client's own classes.
    for (const r of options.registers)
      r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series for `labels`, created (at zero) on first use. */
  protected slot(labels: Partial<LabelValues<N>>): number {
    let key = '';
    for (const n of this.labelNames) {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label "${n}" is missing`);
      key += `${v}\u0000`;
    }
    let i = this.index.get(key);
    if (i === undefined) {
      for (const n of Object.keys(labels)) {
        if (!this.labelNames.includes(n as N)) throw new Error(`${this.name}: no label "${n}"`);
      }
      i = this.seriesLabels.length;
      this.seriesLabels.push({ ...labels } as LabelValues<N>);
      this.index.set(key, i);
      this.added();
    }
    return i;
  }

  protected abstract added(): void;
  abstract get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: MetricValue[];
  }>;
  abstract reset(): void;
}

export class HotCounter<N extends string> extends HotMetric<N> {
  readonly type = 'counter';
  private readonly values: number[] = [];

  protected added(): void {
    this.values.push(0);
  }

  /** A handle whose `inc` is one addition. */
  labels(labels: LabelValues<N>): { inc(by?: number): void } {
    const i = this.slot(labels);
    const values = this.values;
    return {
      inc(by = 1) {
        values[i]! += by;
      },
    };
  }

  inc(labels: LabelValues<N>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    this.values[this.slot(labels)]! += by;
  }

  get() {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.seriesLabels.map((labels, i) => ({ labels: { ...labels }, value: this.values[i]! })),
    });
  }

  reset(): void {
    this.values.fill(0);
  }
}

export class HotHistogram<N extends string> extends HotMetric<N> {
  readonly type = 'histogram';
  private readonly bounds: Float64Array;
  /** Per series: a count per bucket (not cumulative), then the +Inf bucket. */
  private readonly counts: Float64Array[] = [];
  private readonly sums: number[] = [];

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly N[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    super(options);
    const sorted = [...options.buckets].sort((a, b) => a - b);
    if (sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1])))
      throw new Error(`${options.name}: buckets must be finite and distinct`);
    this.bounds = Float64Array.from(sorted);
  }

  protected added(): void {
    this.counts.push(new Float64Array(this.bounds.length + 1));
    this.sums.push(0);
  }

  /** A handle whose `observe` is a bucket scan and two additions. */
  labels(labels: LabelValues<N>): { observe(value: number): void } {
    const i = this.slot(labels);
    const counts = this.counts[i]!;
    const bounds = this.bounds;
    const sums = this.sums;
    return {
      observe(value: number) {
        let b = 0;
        while (b < bounds.length && value > bounds[b]!) b++;
        counts[b]!++;
        sums[i]! += value;
      },
    };
  }

  observe(labels: LabelValues<N>, value: number): void {
    this.labels(labels).observe(value);
  }

  get() {
    const values: MetricValue[] = [];
    this.seriesLabels.forEach((labels, i) => {
      const counts = this.counts[i]!;
      let cumulative = 0;
      for (let b = 0; b <= this.bounds.length; b++) {
        cumulative += counts[b]!;
        values.push({
          labels: { le: b < this.bounds.length ? this.bounds[b]! : '+Inf', ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { ...labels }, value: this.sums[i]!, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: cumulative, metricName: `${this.name}_count` });
    });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.sums.fill(0);
  }
}
