import { describe, expect, it } from 'vitest';
import { seededRandom } from '@bootpt/protocol/turbo/index';
import { percentile } from '../bench/lib.js';
import { pooledPercentiles, roundBootstrapRatio } from '../bench/bootstrap.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('round bootstrap of a pooled percentile', () => {
  it('a multiset percentile equals the percentile of the rounds pooled by copying (seeded draws)', () => {
    const random = seededRandom(7);
    const rounds = Array.from({ length: 4 }, (_, i) =>
      sorted(Array.from({ length: 50 + i * 13 }, () => Math.round(random() * 1000) / 10)),
    );
    const of = pooledPercentiles(rounds);
    for (let t = 0; t < 200; t++) {
      const mult = rounds.map(() => Math.floor(random() * 3));
      if (mult.every((m) => m === 0)) continue;
      const pooled = sorted(rounds.flatMap((r, i) => Array.from({ length: mult[i]! }, () => r).flat()));
      for (const p of [1, 50, 90, 99, 100]) expect(of(mult, p)).toBe(percentile(pooled, p));
    }
  });

  it('same rounds for both sides: ratio 1 in every draw; a side 10% slower in every round: 1.1 throughout', () => {
    const random = seededRandom(11);
    const rounds = Array.from({ length: 5 }, () => sorted(Array.from({ length: 200 }, () => random())));
    expect(roundBootstrapRatio(rounds, rounds, 99, 0.9)).toEqual({ ratio: 1, low: 1, high: 1, draws: 3125 });
    const slower = rounds.map((r) => r.map((v) => v * 1.1));
    const r = roundBootstrapRatio(slower, rounds, 99, 0.9);
    for (const v of [r.ratio, r.low, r.high]) expect(v).toBeCloseTo(1.1, 10);
  });

  it('one slow round of five widens the interval on its side only', () => {
    const random = seededRandom(13);
    const base = () => sorted(Array.from({ length: 500 }, () => 0.1 + random() * 0.2));
    const a = [base(), base(), base(), base(), base().map((v) => v * 3)];
    const b = [base(), base(), base(), base(), base()];
    const r = roundBootstrapRatio(a, b, 99, 0.9);
    expect(r.ratio).toBeGreaterThan(1.5);
    expect(r.low).toBeLessThan(1.1);
    expect(r.high).toBeGreaterThan(r.ratio);
  });

  it('refuses unpaired rounds and more than six', () => {
    expect(() => roundBootstrapRatio([[1]], [[1], [2]], 99, 0.9)).toThrow(/same rounds/);
    const seven = Array.from({ length: 7 }, () => [1]);
    expect(() => roundBootstrapRatio(seven, seven, 99, 0.9)).toThrow(/at most 6/);
  });
});
