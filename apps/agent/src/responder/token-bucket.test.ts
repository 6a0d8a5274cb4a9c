import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces the rest at the rate', () => {
    const b = new TokenBucket(100, 3, 1000, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([
      { ok: true, delayMs: 0 },
      { ok: true, delayMs: 0 },
      { ok: true, delayMs: 0 },
    ]);
    expect(b.take(0)).toEqual({ ok: true, delayMs: 10 });
    expect(b.take(0)).toEqual({ ok: true, delayMs: 20 });
  });

  it('sheds when the wait would exceed the limit, without booking a token', () => {
    const b = new TokenBucket(10, 1, 250, 0);
    expect(b.take(0).ok).toBe(true);
    expect(b.take(0)).toEqual({ ok: true, delayMs: 100 });
    expect(b.take(0)).toEqual({ ok: true, delayMs: 200 });
    expect(b.take(0)).toEqual({ ok: false });
    expect(b.take(0)).toEqual({ ok: false });
    expect(b.take(300)).toEqual({ ok: true, delayMs: 0 });
  });

  it('refills over time up to the burst only', () => {
    const b = new TokenBucket(10, 2, 0, 0);
    b.take(0);
    b.take(0);
    expect(b.take(50)).toEqual({ ok: false });
    expect(b.take(100)).toEqual({ ok: true, delayMs: 0 });
    const later = 1_000_000;
    expect([b.take(later).ok, b.take(later).ok, b.take(later).ok]).toEqual([true, true, false]);
  });

  it('reports load between 0 and 1', () => {
    const b = new TokenBucket(10, 4, 1000, 0);
    expect(b.load(0)).toBe(0);
    b.take(0);
    b.take(0);
    expect(b.load(0)).toBe(0.5);
    for (let i = 0; i < 5; i++) b.take(0);
    expect(b.load(0)).toBe(1);
    expect(b.load(10_000)).toBe(0);
  });

  it('never admits more than burst + rate × elapsed offers', () => {
    const b = new TokenBucket(50, 5, 400, 0);
    let sentBy1s = 0;
    for (let t = 0; t < 1000; t += 7) {
      const r = b.take(t);
      if (r.ok && t + r.delayMs <= 1000) sentBy1s++;
    }
    expect(sentBy1s).toBeLessThanOrEqual(5 + 50);
    expect(sentBy1s).toBeGreaterThanOrEqual(50);
  });
});
