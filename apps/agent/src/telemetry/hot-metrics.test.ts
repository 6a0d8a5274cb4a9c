import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-metrics.js';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Deterministic values (a fixed-seed LCG), including every bucket bound itself and values past the last. */
function* values(seed: number, n: number): Generator<number> {
  for (const b of BUCKETS) yield b;
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    yield (x / 2 ** 32) ** 4 * 4; // mostly small, some above 2.5
  }
}

describe('HotCounter and HotHistogram', () => {
  it('export exactly what prom-client would for the same recordings', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const spec = (registers: Registry[]) => ({
      name: 'x_requests_total',
      help: 'requests',
      labelNames: ['client', 'outcome'] as const,
      registers,
    });
    const hspec = (registers: Registry[]) => ({
      name: 'x_duration_seconds',
      help: 'durations',
      labelNames: ['client'] as const,
      buckets: BUCKETS,
      registers,
    });
    const hc = new HotCounter(spec([ours]));
    const hh = new HotHistogram(hspec([ours]));
    const pc = new Counter(spec([theirs]));
    const ph = new Histogram(hspec([theirs]));

    const clients = ['dhcp', 'pxe', 'turbo'];
    const outcomes = ['offer', 'ack'];
    const children = new Map<string, { inc(by?: number): void; observe(v: number): void }>();
    let k = 0;
    for (const v of values(42, 2000)) {
      const client = clients[k % 3]!;
      const outcome = outcomes[k % 2]!;
      k++;
      const key = `${client}/${outcome}`;
      let child = children.get(key);
      if (!child) {
        const c = hc.labels({ client, outcome });
        const h = hh.labels({ client });
        child = { inc: (by) => c.inc(by), observe: (x) => h.observe(x) };
        children.set(key, child);
      }
      child.inc();
      child.observe(v);
      pc.inc({ client, outcome });
      ph.observe({ client }, v);
    }
    hc.inc({ client: 'http', outcome: 'ack' }, 3);
    pc.inc({ client: 'http', outcome: 'ack' }, 3);

    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_duration_seconds_bucket{le="0.0001",client="dhcp"}');

    ours.resetMetrics();
    theirs.resetMetrics();
    hc.labels({ client: 'dhcp', outcome: 'offer' }).inc();
    expect(await ours.metrics()).toMatch(/x_requests_total\{client="dhcp",outcome="offer"\} 1\n/);
    expect(await ours.metrics()).toMatch(/x_duration_seconds_count\{client="dhcp"\} 0\n/);
  });

  it('refuses labels it does not know and counters that go down', () => {
    const r = new Registry();
    const c = new HotCounter({ name: 'y_total', help: 'y', labelNames: ['a'] as const, registers: [r] });
    expect(() => c.inc({ a: 'x', b: 'y' } as never)).toThrow(/no label "b"/);
    expect(() => c.inc({} as never)).toThrow(/label "a" is missing/);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(
      () =>
        new HotHistogram({
          name: 'z',
          help: 'z',
          labelNames: [] as const,
          buckets: [1, 1],
          registers: [r],
        }),
    ).toThrow(/distinct/);
  });
});
