import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIGEST, GOLDEN_OFFER } from './golden.js';
import { rankOffers, selectOffer } from './select.js';
import type { OfferCandidate } from './select.js';
import type { TurboOffer } from './types.js';

const http = { type: 1, address: '10.0.0.5', port: 443, id: 0 };
const tftp = { type: 2, address: '10.0.0.6', port: 69, id: 0 };

function candidate(
  name: string,
  receivedAt: number,
  fields: Partial<TurboOffer>,
): OfferCandidate & { readonly name: string } {
  return { name, receivedAt, offer: { ...GOLDEN_OFFER, endpoints: [http], ...fields } };
}

describe('offer selection (SPEC §7.3)', () => {
  it('prefers a valid cache over a lower load and an earlier answer', () => {
    const offers = [
      candidate('fast-idle-stale', 10, { verdict: 'stale', load: 0 }),
      candidate('slow-busy-valid', 900, { verdict: 'valid', load: 200 }),
    ];
    expect(selectOffer(offers)?.name).toBe('slow-busy-valid');
  });

  it('then the least loaded server', () => {
    const offers = [
      candidate('fast-busy', 10, { verdict: 'unknown', load: 200 }),
      candidate('slow-idle', 900, { verdict: 'unknown', load: 3 }),
    ];
    expect(selectOffer(offers)?.name).toBe('slow-idle');
  });

  it('then the fastest answer, then collection order', () => {
    const offers = [
      candidate('b', 30, { verdict: 'stale', load: 5 }),
      candidate('a', 20, { verdict: 'stale', load: 5 }),
      candidate('c', 20, { verdict: 'stale', load: 5 }),
    ];
    expect(rankOffers(offers).map((o) => o.name)).toEqual(['a', 'c', 'b']);
  });

  it('treats stale and unknown alike (both mean fetch)', () => {
    const offers = [
      candidate('unknown', 10, { verdict: 'unknown', load: 1 }),
      candidate('stale', 5, { verdict: 'stale', load: 1 }),
    ];
    expect(selectOffer(offers)?.name).toBe('stale');
  });

  it('counts "valid" for a digest the client does not hold as stale', () => {
    const other = GOLDEN_DIGEST.map((b) => b ^ 1);
    const offers = [
      candidate('valid-other-digest', 5, { verdict: 'valid', load: 9, manifestDigest: other }),
      candidate('valid-held-digest', 50, { verdict: 'valid', load: 9 }),
    ];
    expect(selectOffer(offers, { heldDigest: GOLDEN_DIGEST })?.name).toBe('valid-held-digest');
    expect(selectOffer(offers)?.name).toBe('valid-other-digest');
  });

  it('skips offers that need a transfer the client cannot make', () => {
    const offers = [
      candidate('tftp-only', 5, { verdict: 'stale', load: 0, endpoints: [tftp] }),
      candidate('no-endpoints', 6, { verdict: 'unknown', load: 0, endpoints: [] }),
      candidate('http', 50, { verdict: 'stale', load: 100 }),
    ];
    expect(rankOffers(offers, { accept: [1] }).map((o) => o.name)).toEqual(['http']);
    expect(rankOffers(offers).map((o) => o.name)).toEqual(['tftp-only', 'http']);
    // A valid cache needs no endpoint at all.
    expect(selectOffer([candidate('v', 1, { verdict: 'valid', endpoints: [] })], { accept: [1] })?.name).toBe(
      'v',
    );
  });

  it('counts only the first offer from each server', () => {
    const offers = [
      { ...candidate('first', 10, { verdict: 'stale', load: 50 }), server: '10.0.0.5' },
      { ...candidate('repeat', 20, { verdict: 'stale', load: 0 }), server: '10.0.0.5' },
      { ...candidate('other', 30, { verdict: 'stale', load: 40 }), server: '10.0.0.6' },
      candidate('anonymous', 40, { verdict: 'stale', load: 40 }),
    ];
    expect(rankOffers(offers).map((o) => o.name)).toEqual(['other', 'anonymous', 'first']);
  });

  it('returns null when nothing is usable', () => {
    expect(selectOffer([])).toBeNull();
    expect(selectOffer([candidate('x', 1, { verdict: 'stale', endpoints: [] })])).toBeNull();
  });

  it('the pick is never beaten by another usable offer (property, seeded)', () => {
    const arb = fc.array(
      fc.record({
        receivedAt: fc.integer({ min: 0, max: 2000 }),
        verdict: fc.constantFrom('valid' as const, 'stale' as const, 'unknown' as const),
        load: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 12 },
    );
    fc.assert(
      fc.property(arb, (rows) => {
        const offers = rows.map((r, i) =>
          candidate(String(i), r.receivedAt, { verdict: r.verdict, load: r.load }),
        );
        const best = selectOffer(offers)!;
        for (const o of offers) {
          const bv = best.offer.verdict === 'valid';
          const ov = o.offer.verdict === 'valid';
          if (ov && !bv) throw new Error('a valid offer lost to a non-valid one');
          if (ov === bv) {
            expect(best.offer.load).toBeLessThanOrEqual(o.offer.load);
            if (best.offer.load === o.offer.load) expect(best.receivedAt).toBeLessThanOrEqual(o.receivedAt);
          }
        }
        expect(rankOffers(offers)).toHaveLength(offers.length);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});
