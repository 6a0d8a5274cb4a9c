import { describe, expect, it } from 'vitest';
import { toHex } from '../wire.js';
import { CanonicalJsonError, canonicalBytes, canonicalJson } from './canonical.js';

describe('canonical JSON', () => {
  it.each([
    [
      'sorts keys, drops whitespace',
      { b: 1, a: [true, null, 'x'], c: { z: 0, y: -5 } },
      '{"a":[true,null,"x"],"b":1,"c":{"y":-5,"z":0}}',
    ],
    ['sorts integer-like keys as strings', { 10: 'a', 9: 'b', 1: 'c' }, '{"1":"c","10":"a","9":"b"}'],
    [
      'sorts by UTF-16 code units',
      { é: 1, a: 2, Z: 3, '\u0001': 4, '😀': 5, '\uffff': 6 },
      '{"\\u0001":4,"Z":3,"a":2,"é":1,"😀":5,"\uffff":6}',
    ],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
    ['nests', { outer: { inner: [{ b: [], a: {} }] } }, '{"outer":{"inner":[{"a":{},"b":[]}]}}'],
    [
      'escapes only what JSON requires',
      { s: 'quote " backslash \\ tab \t nl \n bell \u0007 del \u007f / é' },
      '{"s":"quote \\" backslash \\\\ tab \\t nl \\n bell \\u0007 del \u007f / é"}',
    ],
    [
      'writes integers plainly',
      [0, -0, 9007199254740991, -9007199254740991],
      '[0,0,9007199254740991,-9007199254740991]',
    ],
    [
      'accepts null-prototype objects',
      Object.assign(Object.create(null) as object, { b: 2, a: 1 }),
      '{"a":1,"b":2}',
    ],
    ['scalars', 'plain', '"plain"'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('encodes non-ASCII as UTF-8 bytes, not escapes (golden)', () => {
    expect(toHex(canonicalBytes({ k: 'é😀' }))).toBe('7b226b223a22' + 'c3a9' + 'f09f9880' + '227d');
  });

  it.each([
    ['NaN', { a: Number.NaN }, '$.a'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['a fraction', { a: { b: 1.5 } }, '$.a.b'],
    ['an unsafe integer', 2 ** 53, '$'],
    ['undefined in an object', { a: undefined }, '$.a'],
    ['undefined in an array', [1, undefined], '$[1]'],
    ['a bigint', { n: 1n }, '$.n'],
    ['a Date', { d: new Date(0) }, '$.d'],
    ['a Map', new Map(), '$'],
    ['a typed array', { b: new Uint8Array(2) }, '$.b'],
    ['a function', { f: () => 1 }, '$.f'],
    ['a symbol', { s: Symbol('x') }, '$.s'],
    ['a lone high surrogate', { s: 'a\ud800b' }, '$.s'],
    ['a lone low surrogate in a key', { '\udc00': 1 }, '$.\udc00'],
  ])('rejects %s', (_name, value, path) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toBe(path);
    expect((caught as CanonicalJsonError).code).toBe('CANONICAL_JSON_UNSUPPORTED');
  });

  it('rejects cycles and excessive depth, but allows shared (acyclic) references', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(CanonicalJsonError);
    let deep: unknown = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(CanonicalJsonError);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('is stable under JSON round trip and key insertion order', () => {
    const a = { z: [1, { y: 'ü', x: null }], a: false };
    const b = { a: false, z: [1, { x: null, y: 'ü' }] };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(JSON.parse(canonicalJson(a)))).toBe(canonicalJson(a));
  });
});
