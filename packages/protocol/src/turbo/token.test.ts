import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../wire.js';
import { TurboEncodeError } from './codes.js';
import { GOLDEN_DIGEST } from './golden.js';
import {
  cacheToken,
  cacheVerdict,
  issueValidationToken,
  turboEpoch,
  turboHostId,
  verifyValidationToken,
} from './token.js';
import type { TurboKey } from './token.js';

const key1: TurboKey = { id: 1, secret: new TextEncoder().encode('0123456789abcdef0123456789abcdef') };
const key2: TurboKey = { id: 2, secret: new TextEncoder().encode('fedcba9876543210fedcba9876543210') };
const mac = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);
const host = turboHostId(1, mac);
const otherHost = turboHostId(1, Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xf0));
const digestB = GOLDEN_DIGEST.map((b) => b ^ 0xff);
const NOW = 490_000;
const policy = { keys: [key1, key2], nowEpoch: NOW, maxAgeEpochs: 168 };

describe('validation token (SPEC §6.2)', () => {
  const token = issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW - 5 });

  it('lays out key id, big-endian epoch and an 11-octet tag; is deterministic', () => {
    expect(token.length).toBe(16);
    expect(toHex(token.subarray(0, 5))).toBe('01' + (NOW - 5).toString(16).padStart(8, '0'));
    expect(
      toHex(issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW - 5 })),
    ).toBe(toHex(token));
    // Pinned (tag cross-checked with Python's hmac module): changing the MAC input layout is a wire
    // change that invalidates every token in the field.
    expect(toHex(token)).toBe('0100077a0b' + '9786c8e9a4cc7a1e21b4ea');
  });

  it('verifies for the same host, digest and a live epoch', () => {
    expect(verifyValidationToken(token, { ...policy, host, manifestDigest: GOLDEN_DIGEST })).toEqual({
      ok: true,
      keyId: 1,
      epoch: NOW - 5,
    });
  });

  it('rejects a token for another host', () => {
    expect(
      verifyValidationToken(token, { ...policy, host: otherHost, manifestDigest: GOLDEN_DIGEST }),
    ).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects a token presented with another manifest digest', () => {
    expect(verifyValidationToken(token, { ...policy, host, manifestDigest: digestB })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects every single-bit tampering', () => {
    for (let bit = 0; bit < 128; bit++) {
      const tampered = token.slice();
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      const r = verifyValidationToken(tampered, { ...policy, host, manifestDigest: GOLDEN_DIGEST });
      expect(r.ok).toBe(false);
    }
  });

  it('rejects expired, future, unknown-key and malformed tokens', () => {
    const old = issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW - 169 });
    const edge = issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW - 168 });
    const future = issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW + 1 });
    const args = { ...policy, host, manifestDigest: GOLDEN_DIGEST };
    expect(verifyValidationToken(old, args)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyValidationToken(edge, args).ok).toBe(true);
    expect(verifyValidationToken(future, args)).toEqual({ ok: false, reason: 'future' });
    expect(verifyValidationToken(token, { ...args, keys: [key2] })).toEqual({
      ok: false,
      reason: 'unknown-key',
    });
    expect(verifyValidationToken(token.subarray(0, 15), args)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects a token re-labelled with another key id (rotation cannot be bypassed)', () => {
    const relabelled = token.slice();
    relabelled[0] = 2;
    expect(verifyValidationToken(relabelled, { ...policy, host, manifestDigest: GOLDEN_DIGEST })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('issued tokens always verify, and never for a different host (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 168 }),
        (h, digest, age) => {
          const t = issueValidationToken({ key: key2, host: h, manifestDigest: digest, epoch: NOW - age });
          expect(verifyValidationToken(t, { ...policy, host: h, manifestDigest: digest }).ok).toBe(true);
          const other = Uint8Array.of(...h, 0);
          expect(verifyValidationToken(t, { ...policy, host: other, manifestDigest: digest }).ok).toBe(false);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('refuses to issue with bad inputs', () => {
    const ok = { key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: 1 };
    expect(() => issueValidationToken({ ...ok, manifestDigest: new Uint8Array(31) })).toThrow(
      TurboEncodeError,
    );
    expect(() => issueValidationToken({ ...ok, host: new Uint8Array(0) })).toThrow(TurboEncodeError);
    expect(() => issueValidationToken({ ...ok, key: { id: 256, secret: key1.secret } })).toThrow(
      TurboEncodeError,
    );
    expect(() => issueValidationToken({ ...ok, key: { id: 3, secret: new Uint8Array(8) } })).toThrow(
      TurboEncodeError,
    );
    expect(() => issueValidationToken({ ...ok, epoch: -1 })).toThrow(TurboEncodeError);
  });
});

describe('host id and epoch (SPEC §6.3)', () => {
  it('is htype + chaddr, the same bytes as the option-61 form type 1 + MAC', () => {
    expect(toHex(host)).toBe('01525400abcdef');
    expect(toHex(turboHostId(1, mac, Uint8Array.of(1, ...mac)))).toBe(toHex(host));
    expect(toHex(turboHostId(1, mac, Uint8Array.of(0, 0x68, 0x6f)))).toBe('00686f');
    expect(toHex(turboHostId(1, mac, new Uint8Array(0)))).toBe(toHex(host));
  });

  it('counts whole hours since 1970 by default', () => {
    expect(turboEpoch(0)).toBe(0);
    expect(turboEpoch(3_599_999)).toBe(0);
    expect(turboEpoch(Date.UTC(2026, 10, 23, 19, 30))).toBe(
      Math.floor(Date.UTC(2026, 10, 23, 19) / 3_600_000),
    );
    expect(turboEpoch(90_000, 60_000)).toBe(1);
  });
});

describe('cache verdict (SPEC §6.4)', () => {
  const held = cacheToken(
    GOLDEN_DIGEST,
    issueValidationToken({ key: key1, host, manifestDigest: GOLDEN_DIGEST, epoch: NOW }),
  );

  it('valid when the held manifest is still the assigned one', () => {
    expect(cacheVerdict({ ...policy, cacheToken: held, host, assignedDigest: GOLDEN_DIGEST })).toBe('valid');
  });

  it('stale when the token verifies but the assignment moved on', () => {
    expect(cacheVerdict({ ...policy, cacheToken: held, host, assignedDigest: digestB })).toBe('stale');
  });

  it('unknown without a token, for another host, after expiry or key removal', () => {
    const base = { ...policy, host, assignedDigest: GOLDEN_DIGEST };
    expect(cacheVerdict({ ...base, cacheToken: undefined })).toBe('unknown');
    expect(cacheVerdict({ ...base, cacheToken: held, host: otherHost })).toBe('unknown');
    expect(cacheVerdict({ ...base, cacheToken: held, nowEpoch: NOW + 169 })).toBe('unknown');
    expect(cacheVerdict({ ...base, cacheToken: held, keys: [key2] })).toBe('unknown');
    // A client that claims the assigned digest with a token issued for another digest is not trusted.
    const forged = cacheToken(
      GOLDEN_DIGEST,
      issueValidationToken({ key: key1, host, manifestDigest: digestB, epoch: NOW }),
    );
    expect(cacheVerdict({ ...base, cacheToken: forged })).toBe('unknown');
  });

  it('cacheToken copies and checks widths', () => {
    expect(() => cacheToken(new Uint8Array(32), new Uint8Array(15))).toThrow(TurboEncodeError);
    expect(() => cacheToken(new Uint8Array(33), new Uint8Array(16))).toThrow(TurboEncodeError);
  });
});
