/**
 * Seeded property and fuzz tests of the Turbo codec: generated payloads round-trip, and 100,000 mutated
 * payloads decode to either a payload whose canonical re-encoding decodes to the same value, or an
 * error whose code is in TURBO_ERROR_CODES and whose offset lies within [0, length].
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../wire.js';
import { decodeTurbo, encodeTurbo, turboEncodingLength } from './codec.js';
import { DiscoverField, OfferField, TURBO_ERROR_CODES } from './codes.js';
import { GOLDEN_DISCOVER_BYTES, GOLDEN_OFFER_BYTES } from './golden.js';
import { getTurboFromOptions, turboOptions } from './options.js';
import { renderTurboJson } from './json.js';
import { seededRandom } from './schedule.js';
import type { TurboDiscover, TurboExtension, TurboOffer, TurboPayload } from './types.js';

const bytesOf = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });

const extensionsArb = (known: Record<string, number>) =>
  fc
    .array(
      fc.record({
        code: fc.integer({ min: 0, max: 255 }).filter((c) => !Object.values(known).includes(c)),
        data: fc.uint8Array({ maxLength: 20 }),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((xs): TurboExtension[] => xs);

const discoverArb: fc.Arbitrary<TurboDiscover> = fc.record(
  {
    kind: fc.constant('discover' as const),
    accept: fc.subarray([1, 2, 3, 4, 5, 6, 7, 8]),
    cacheToken: fc.record({ manifestDigest: bytesOf(32), validationToken: bytesOf(16) }),
    attempt: fc.record({
      round: fc.integer({ min: 0, max: 255 }),
      burstIndex: fc.integer({ min: 0, max: 255 }),
    }),
    windowMs: fc.integer({ min: 0, max: 0xffff }),
    extensions: extensionsArb(DiscoverField),
  },
  { requiredKeys: ['kind', 'accept'] },
);

const ipv4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));

const offerArb: fc.Arbitrary<TurboOffer> = fc.record(
  {
    kind: fc.constant('offer' as const),
    manifestDigest: bytesOf(32),
    verdict: fc.constantFrom('valid' as const, 'stale' as const, 'unknown' as const),
    load: fc.integer({ min: 0, max: 255 }),
    pacingMs: fc.integer({ min: 0, max: 0xffff }),
    endpoints: fc.array(
      fc.record({
        type: fc.integer({ min: 1, max: 255 }),
        address: ipv4Arb,
        port: fc.integer({ min: 0, max: 0xffff }),
        id: fc.integer({ min: 0, max: 0xffff }),
      }),
      { maxLength: 8 },
    ),
    validationToken: bytesOf(16),
    extensions: extensionsArb(OfferField),
  },
  { requiredKeys: ['kind', 'manifestDigest', 'verdict', 'load', 'pacingMs', 'endpoints'] },
);

const payloadArb: fc.Arbitrary<TurboPayload> = fc.oneof(discoverArb, offerArb);

const CODES: readonly string[] = TURBO_ERROR_CODES;

const CODE_SET = new Set(CODES);

/**
 * Checks one input without `expect` (too slow for 100,000 calls): returns the outcome and the error
 * code, or a description of the broken invariant.
 */
function checkDecode(input: Uint8Array): { outcome: 'ok' | 'error'; code?: string; problem?: string } {
  const r = decodeTurbo(input);
  if (r.ok) {
    const again = encodeTurbo(r.value);
    if (turboEncodingLength(r.value) !== again.length) return { outcome: 'ok', problem: 'length mismatch' };
    const second = decodeTurbo(again);
    if (!second.ok || toHex(encodeTurbo(second.value)) !== toHex(again))
      return { outcome: 'ok', problem: 'canonical re-encoding is not stable' };
    renderTurboJson(r.value);
    return { outcome: 'ok' };
  }
  const { code, offset } = r.error;
  if (!CODE_SET.has(code)) return { outcome: 'error', problem: `unlisted code ${code}` };
  if (!(offset >= 0 && offset <= input.length))
    return { outcome: 'error', problem: `offset ${offset} out of range` };
  return { outcome: 'error', code };
}

describe('properties (seeded)', () => {
  it('round-trips every generated payload: value, length, stable re-encode', () => {
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const bytes = encodeTurbo(payload);
        expect(turboEncodingLength(payload)).toBe(bytes.length);
        const decoded = decodeTurbo(bytes);
        expect(decoded).toEqual({ ok: true, value: payload });
        if (decoded.ok) expect(toHex(encodeTurbo(decoded.value))).toBe(toHex(bytes));
      }),
      { seed: 42, numRuns: 2000 },
    );
  }, 60_000);

  it('round-trips through option instances, split per RFC 3396 when longer than 255 octets', () => {
    fc.assert(
      fc.property(payloadArb, fc.integer({ min: 224, max: 254 }), (payload, code) => {
        const options = turboOptions(payload, code);
        expect(options.every((o) => o.code === code && o.data.length <= 255)).toBe(true);
        expect(options.length).toBe(Math.ceil(encodeTurbo(payload).length / 255));
        expect(getTurboFromOptions([{ code: 53, data: Uint8Array.of(1) }, ...options], code)).toEqual({
          ok: true,
          value: payload,
        });
      }),
      { seed: 42, numRuns: 1000 },
    );
  }, 60_000);

  it('a strict prefix either fails with a listed code or is itself a canonical payload', () => {
    fc.assert(
      fc.property(payloadArb, fc.nat(), (payload, cut) => {
        const bytes = encodeTurbo(payload);
        const prefix = bytes.slice(0, cut % bytes.length);
        const r = decodeTurbo(prefix);
        if (r.ok) expect(toHex(encodeTurbo(r.value))).toBe(toHex(prefix));
        else {
          expect(CODES).toContain(r.error.code);
          expect(r.error.offset).toBeLessThanOrEqual(prefix.length);
        }
      }),
      { seed: 42, numRuns: 2000 },
    );
  }, 60_000);
});

describe('fuzz (seeded, 100,000 mutated payloads)', () => {
  it('never throws; every error has a listed code and an in-range offset', () => {
    const random = seededRandom(42);
    const int = (n: number) => Math.floor(random() * n);
    const seeds = [GOLDEN_DISCOVER_BYTES, GOLDEN_OFFER_BYTES];
    fc.sample(payloadArb, { seed: 42, numRuns: 200 }).forEach((p) => seeds.push(encodeTurbo(p)));
    const outcomes = { ok: 0, error: 0 };
    const codesSeen = new Set<string>();
    const problems: string[] = [];
    for (let n = 0; n < 100_000; n++) {
      const base = seeds[int(seeds.length)]!;
      let bytes = base.slice();
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) {
        const kind = int(5);
        if (kind === 0 && bytes.length > 0) bytes[int(bytes.length)] = int(256);
        else if (kind === 1 && bytes.length > 0) bytes[int(bytes.length)]! ^= 1 << int(8);
        else if (kind === 2) bytes = bytes.slice(0, int(bytes.length + 1));
        else if (kind === 3) {
          const extra = Uint8Array.from({ length: 1 + int(12) }, () => int(256));
          const at = int(bytes.length + 1);
          const grown = new Uint8Array(bytes.length + extra.length);
          grown.set(bytes.subarray(0, at), 0);
          grown.set(extra, at);
          grown.set(bytes.subarray(at), at + extra.length);
          bytes = grown;
        } else if (bytes.length > 4) {
          // Corrupt a length octet: the most interesting place for a TLV decoder to go wrong.
          const at = 5 + 2 * int(Math.max(1, (bytes.length - 5) >> 1));
          if (at < bytes.length) bytes[at] = int(256);
        }
      }
      let result: ReturnType<typeof checkDecode>;
      try {
        result = checkDecode(bytes);
      } catch (error) {
        problems.push(`${toHex(bytes)}: threw ${String(error)}`);
        continue;
      }
      outcomes[result.outcome]++;
      if (result.code) codesSeen.add(result.code);
      if (result.problem) problems.push(`${toHex(bytes)}: ${result.problem}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // The mutator must exercise both paths and every error code, or this test could never fail.
    expect(outcomes.ok).toBeGreaterThan(1000);
    expect(outcomes.error).toBeGreaterThan(1000);
    expect(TURBO_ERROR_CODES.filter((c) => !codesSeen.has(c))).toEqual([]);
  }, 120_000);
});
