import { describe, expect, it } from 'vitest';
import { toHex } from '../wire.js';
import { acceptFromMask, acceptMask, decodeTurbo, encodeTurbo, turboEncodingLength } from './codec.js';
import { TURBO_ERROR_CODES, TurboEncodeError, TurboErrorCode } from './codes.js';
import {
  GOLDEN_DIGEST,
  GOLDEN_DISCOVER,
  GOLDEN_DISCOVER_BYTES,
  GOLDEN_OFFER,
  GOLDEN_OFFER_BYTES,
  GOLDEN_TOKEN,
  turboHex,
} from './golden.js';
import type { TurboPayload } from './types.js';

/** mqtt-packet style round trip: decode(encode(x)) = x, length matches, re-encode is stable. */
function roundTrip(payload: TurboPayload): void {
  const bytes = encodeTurbo(payload);
  expect(turboEncodingLength(payload)).toBe(bytes.length);
  const decoded = decodeTurbo(bytes);
  expect(decoded).toEqual({ ok: true, value: payload });
  if (decoded.ok) expect(toHex(encodeTurbo(decoded.value))).toBe(toHex(bytes));
}

describe('golden payloads (SPEC §4.2, §5.3)', () => {
  it('encodes the example discover byte for byte', () => {
    expect(toHex(encodeTurbo(GOLDEN_DISCOVER))).toBe(toHex(GOLDEN_DISCOVER_BYTES));
    expect(GOLDEN_DISCOVER_BYTES.length).toBe(65);
  });

  it('encodes the example offer byte for byte', () => {
    expect(toHex(encodeTurbo(GOLDEN_OFFER))).toBe(toHex(GOLDEN_OFFER_BYTES));
    expect(GOLDEN_OFFER_BYTES.length).toBe(110);
  });

  it('decodes both back to the model', () => {
    expect(decodeTurbo(GOLDEN_DISCOVER_BYTES)).toEqual({ ok: true, value: GOLDEN_DISCOVER });
    expect(decodeTurbo(GOLDEN_OFFER_BYTES)).toEqual({ ok: true, value: GOLDEN_OFFER });
  });

  it('encodes a cold-cache discover with only the required field', () => {
    const bytes = encodeTurbo({ kind: 'discover', accept: [1, 2] });
    expect(toHex(bytes)).toBe(toHex(turboHex`42 54 01 01  01 01 03`));
  });

  it('encodes an offer with no endpoints and no token (cache valid, nothing to fetch)', () => {
    const bytes = encodeTurbo({
      kind: 'offer',
      manifestDigest: GOLDEN_DIGEST,
      verdict: 'stale',
      load: 255,
      pacingMs: 0xffff,
      endpoints: [],
    });
    expect(bytes.length).toBe(4 + 34 + 3 + 3 + 4);
    expect(toHex(bytes.subarray(38))).toBe('020102' + '0301ff' + '0402ffff');
  });
});

describe('forward compatibility (SPEC §8)', () => {
  it('skips unknown fields, keeping them as extensions in wire order', () => {
    const bytes = turboHex`42 54 01 01  09 02 aa bb  01 01 01  fe 00`;
    expect(decodeTurbo(bytes)).toEqual({
      ok: true,
      value: {
        kind: 'discover',
        accept: [1],
        extensions: [
          { code: 9, data: Uint8Array.of(0xaa, 0xbb) },
          { code: 0xfe, data: new Uint8Array(0) },
        ],
      },
    });
  });

  it('keeps unknown endpoint types for the client to skip', () => {
    const offer = { ...GOLDEN_OFFER, endpoints: [{ type: 200, address: '1.2.3.4', port: 9, id: 1 }] };
    roundTrip(offer);
  });

  it('accepts fields in any order', () => {
    const bytes = turboHex`42 54 01 01  04 02 00 64  01 01 02`;
    expect(decodeTurbo(bytes)).toEqual({ ok: true, value: { kind: 'discover', accept: [2], windowMs: 100 } });
  });
});

describe('malformed payloads', () => {
  const cases: [string, Uint8Array, string, number][] = [
    ['empty', new Uint8Array(0), TurboErrorCode.TRUNCATED_HEADER, 0],
    ['3 octets', turboHex`42 54 01`, TurboErrorCode.TRUNCATED_HEADER, 3],
    ['foreign site option', turboHex`00 00 01 01`, TurboErrorCode.BAD_MAGIC, 0],
    ['half magic', turboHex`42 55 01 01 01 01 01`, TurboErrorCode.BAD_MAGIC, 0],
    ['version 2', turboHex`42 54 02 01 01 01 01`, TurboErrorCode.UNSUPPORTED_VERSION, 2],
    ['version 0', turboHex`42 54 00 01`, TurboErrorCode.UNSUPPORTED_VERSION, 2],
    ['type 3', turboHex`42 54 01 03`, TurboErrorCode.UNKNOWN_MESSAGE_TYPE, 3],
    ['code without length', turboHex`42 54 01 01 01 01 01 07`, TurboErrorCode.TLV_TRUNCATED, 7],
    ['length past end', turboHex`42 54 01 01 01 01 01 04 03 00 00`, TurboErrorCode.TLV_OVERRUN, 7],
    ['ACCEPT of 2 octets', turboHex`42 54 01 01 01 02 01 01`, TurboErrorCode.BAD_LENGTH, 4],
    [
      'CACHE_TOKEN of 32',
      turboHex`42 54 01 01 01 01 01 02 20 ${'00'.repeat(32)}`,
      TurboErrorCode.BAD_LENGTH,
      7,
    ],
    ['ACCEPT twice', turboHex`42 54 01 01 01 01 01 01 01 02`, TurboErrorCode.DUPLICATE_FIELD, 7],
    ['discover without ACCEPT', turboHex`42 54 01 01 04 02 00 01`, TurboErrorCode.MISSING_FIELD, 8],
    ['offer without fields', turboHex`42 54 01 02`, TurboErrorCode.MISSING_FIELD, 4],
    ['offer without PACING', GOLDEN_OFFER_BYTES.slice(0, 44), TurboErrorCode.MISSING_FIELD, 44],
    ['verdict 3', patch(GOLDEN_OFFER_BYTES, 40, 3), TurboErrorCode.BAD_VALUE, 40],
    ['endpoint type 0', patch(GOLDEN_OFFER_BYTES, 50, 0), TurboErrorCode.BAD_VALUE, 50],
    [
      'endpoint of 8 octets',
      turboHex`${toHex(GOLDEN_OFFER_BYTES.slice(0, 48))} 05 08 01 01 bb 00 07 0a 00 00`,
      TurboErrorCode.BAD_LENGTH,
      48,
    ],
    [
      'token of 15',
      turboHex`${toHex(GOLDEN_OFFER_BYTES.slice(0, 92))} 06 0f ${toHex(GOLDEN_TOKEN.slice(1))}`,
      TurboErrorCode.BAD_LENGTH,
      92,
    ],
  ];

  it.each(cases)('%s → %s at %d', (_name, bytes, code, offset) => {
    const r = decodeTurbo(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.offset).toBe(offset);
      expect(TURBO_ERROR_CODES).toContain(r.error.code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });
});

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[at] = value;
  return out;
}

describe('encoder rejects what the wire cannot carry', () => {
  const bad: [string, TurboPayload][] = [
    ['short digest', { ...GOLDEN_OFFER, manifestDigest: new Uint8Array(31) }],
    ['long token', { ...GOLDEN_OFFER, validationToken: new Uint8Array(17) }],
    ['load 256', { ...GOLDEN_OFFER, load: 256 }],
    ['fractional pacing', { ...GOLDEN_OFFER, pacingMs: 1.5 }],
    ['port 65536', { ...GOLDEN_OFFER, endpoints: [{ type: 1, address: '1.2.3.4', port: 65536, id: 0 }] }],
    ['endpoint type 0', { ...GOLDEN_OFFER, endpoints: [{ type: 0, address: '1.2.3.4', port: 1, id: 0 }] }],
    [
      'hostname address',
      { ...GOLDEN_OFFER, endpoints: [{ type: 1, address: 'boot.example', port: 1, id: 0 }] },
    ],
    ['verdict', { ...GOLDEN_OFFER, verdict: 'fresh' as 'valid' }],
    ['accept 9', { kind: 'discover', accept: [9] }],
    ['accept unsorted', { kind: 'discover', accept: [2, 1] }],
    ['accept duplicate', { kind: 'discover', accept: [1, 1] }],
    ['window 70000', { kind: 'discover', accept: [1], windowMs: 70000 }],
    [
      'extension reusing a known code',
      { kind: 'discover', accept: [1], extensions: [{ code: 2, data: new Uint8Array(1) }] },
    ],
    [
      'extension of 256 octets',
      { kind: 'discover', accept: [1], extensions: [{ code: 9, data: new Uint8Array(256) }] },
    ],
  ];
  it.each(bad)('%s', (_name, payload) => {
    expect(() => encodeTurbo(payload)).toThrow(TurboEncodeError);
  });
});

describe('ACCEPT bitmask', () => {
  it('maps types to bits and back', () => {
    expect(acceptMask([1, 2, 3, 4])).toBe(0x0f);
    expect(acceptMask([8])).toBe(0x80);
    expect(acceptFromMask(0xa5)).toEqual([1, 3, 6, 8]);
  });
});
