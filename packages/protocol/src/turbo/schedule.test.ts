import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DISCOVERY_DEFAULTS,
  backoffCeilingMs,
  backoffDelayMs,
  burstOffsets,
  discoveryPlan,
  seededRandom,
} from './schedule.js';

const constant = (v: number) => () => v;

describe('discovery burst (SPEC §7.1)', () => {
  it('sends 3 discovers, the first at once and each gap within 50-150 ms', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const times = burstOffsets(seededRandom(seed));
        expect(times).toHaveLength(3);
        expect(times[0]).toBe(0);
        for (let i = 1; i < times.length; i++) {
          const gap = times[i]! - times[i - 1]!;
          expect(gap).toBeGreaterThanOrEqual(50);
          expect(gap).toBeLessThanOrEqual(150);
        }
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('uses the random source for jitter (bounds reached at 0 and just below 1)', () => {
    expect(burstOffsets(constant(0))).toEqual([0, 50, 100]);
    expect(burstOffsets(constant(0.999999))).toEqual([0, 150, 300]);
    expect(burstOffsets(constant(0.5), { burstCount: 5 })).toEqual([0, 100, 200, 300, 400]);
  });

  it('is reproducible from a seed and differs across seeds', () => {
    expect(burstOffsets(seededRandom(7))).toEqual(burstOffsets(seededRandom(7)));
    const distinct = new Set(Array.from({ length: 50 }, (_, s) => burstOffsets(seededRandom(s)).join(',')));
    expect(distinct.size).toBeGreaterThan(40);
  });
});

describe('randomised exponential backoff (SPEC §7.4, RFC 951 §7.2)', () => {
  it('ceiling: 4 s, doubling, capped at 60 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10, 100, 5000].map((r) => backoffCeilingMs(r))).toEqual([
      4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('first delay lies in [0, 4 s), every delay in [0, ceiling), never above 60 s', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 40 }), (seed, round) => {
        const d = backoffDelayMs(round, seededRandom(seed));
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeilingMs(round));
        expect(d).toBeLessThan(60_000);
        if (round === 0) expect(d).toBeLessThan(4000);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('mean doubles per round until the cap (randomised, not fixed)', () => {
    const random = seededRandom(42);
    const mean = (round: number) => {
      let sum = 0;
      for (let i = 0; i < 4000; i++) sum += backoffDelayMs(round, random);
      return sum / 4000;
    };
    const means = [0, 1, 2, 3, 4, 5].map(mean);
    expect(means[0]).toBeGreaterThan(1800);
    expect(means[0]).toBeLessThan(2200);
    for (let r = 1; r < 4; r++) expect(means[r]! / means[r - 1]!).toBeCloseTo(2, 0);
    expect(means[5]! / means[4]!).toBeCloseTo(1, 0);
  });

  it('stays inside its bounds even with a misbehaving random source', () => {
    expect(backoffDelayMs(0, constant(1))).toBe(3999);
    expect(backoffDelayMs(0, constant(7))).toBe(3999);
    expect(backoffDelayMs(0, constant(-1))).toBe(0);
    expect(backoffDelayMs(0, constant(Number.NaN))).toBe(0);
    expect(burstOffsets(constant(Number.NaN))).toEqual([0, 50, 100]);
  });
});

describe('discovery plan (SPEC §7)', () => {
  it('chains bursts: window after the last send, then backoff before the next burst', () => {
    const plan = discoveryPlan(seededRandom(42), 6);
    expect(plan.map((p) => p.round)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(plan[0]!.sends[0]).toBe(0);
    for (const p of plan) {
      expect(p.sends).toHaveLength(3);
      expect(p.windowEnd).toBe(p.sends[2]! + DISCOVERY_DEFAULTS.windowMs);
      const backoff = p.nextStart - p.windowEnd;
      expect(backoff).toBeGreaterThanOrEqual(0);
      expect(backoff).toBeLessThan(backoffCeilingMs(p.round));
    }
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.sends[0]).toBe(plan[i - 1]!.nextStart);
  });

  it('is reproducible from a seed', () => {
    expect(discoveryPlan(seededRandom(1), 4)).toEqual(discoveryPlan(seededRandom(1), 4));
  });
});

describe('seededRandom', () => {
  it('yields values in [0, 1)', () => {
    const r = seededRandom(123);
    for (let i = 0; i < 10_000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});
