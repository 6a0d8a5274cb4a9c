import { describe, expect, it } from 'vitest';
import { fail, ok } from '../wire.js';
import { TurboErrorCode } from './codes.js';
import { GOLDEN_DISCOVER, GOLDEN_OFFER } from './golden.js';
import { endpointTypeName, renderTurboJson, renderTurboResultJson } from './json.js';

describe('renderTurboJson', () => {
  it('renders a discover with hex digests and named endpoint types', () => {
    expect(renderTurboJson(GOLDEN_DISCOVER)).toEqual({
      version: 1,
      type: 'discover',
      accept: ['http2', 'tftp', 'broadcast', 'multicast'],
      cacheToken: {
        manifestDigest: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        validationToken: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
      },
      attempt: { round: 0, burstIndex: 1 },
      windowMs: 1000,
      extensions: [],
    });
  });

  it('renders an offer with endpoints in preference order', () => {
    const json = renderTurboJson({ ...GOLDEN_OFFER, extensions: [{ code: 77, data: Uint8Array.of(1, 2) }] });
    expect(json).toMatchObject({
      version: 1,
      type: 'offer',
      verdict: 'valid',
      load: 64,
      pacingMs: 50,
      validationToken: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
      extensions: [{ code: 77, data: '0102' }],
    });
    expect(json.endpoints).toEqual([
      { type: 'http2', address: '10.0.0.5', port: 443, id: 7 },
      { type: 'tftp', address: '10.0.0.5', port: 69, id: 0 },
      { type: 'broadcast', address: '10.0.0.5', port: 69, id: 17 },
      { type: 'multicast', address: '10.0.0.5', port: 69, id: 42 },
    ]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('renders missing optional fields as null and unknown types by number', () => {
    expect(renderTurboJson({ kind: 'discover', accept: [7] })).toEqual({
      version: 1,
      type: 'discover',
      accept: ['type-7'],
      cacheToken: null,
      attempt: null,
      windowMs: null,
      extensions: [],
    });
    expect(endpointTypeName(3)).toBe('broadcast');
  });

  it('renders a decode result: null without Turbo, the error otherwise', () => {
    expect(renderTurboResultJson(ok(null))).toBeNull();
    expect(renderTurboResultJson(ok(GOLDEN_DISCOVER))).toEqual(renderTurboJson(GOLDEN_DISCOVER));
    expect(renderTurboResultJson(fail(TurboErrorCode.BAD_MAGIC, 0, 'no'))).toEqual({
      error: { code: 'TURBO_BAD_MAGIC', offset: 0, message: 'no' },
    });
  });
});
