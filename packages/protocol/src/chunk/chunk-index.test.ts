import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChunkIndex } from './chunk-index.js';
import {
  CHUNK_INDEX_ERROR_CODES,
  checkChunkIndex,
  chunkIndexDigest,
  chunkIndexEncodingLength,
  decodeChunkIndex,
  encodeChunkIndex,
} from './chunk-index.js';
import { sha256Hex } from './digest.js';
import { LayerIndexer, indexLayer } from './indexer.js';
import { DEFAULT_CHUNKING_PARAMS } from './params.js';
import { bytesEqual, toHex } from '../wire.js';

function randomBytes(length: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

const SMALL = { minSize: 256, avgSize: 1024, maxSize: 4096, normalization: 2 };
const d = (c: string) => c.repeat(64);

const tiny: ChunkIndex = {
  layerDigest: d('a'),
  layerSize: 300,
  params: SMALL,
  chunks: [
    { digest: d('b'), offset: 0, length: 256 },
    { digest: d('c'), offset: 256, length: 44 },
  ],
};

describe('chunk index codec', () => {
  it('encodes to the documented layout (golden)', () => {
    const bytes = encodeChunkIndex(tiny);
    expect(bytes.length).toBe(64 + 2 * 36);
    expect(toHex(bytes.subarray(0, 32))).toBe(
      '42504349' + '01010200' + '00000100' + '00000400' + '00001000' + '00000002' + '000000000000012c',
    );
    expect(toHex(bytes.subarray(32, 64))).toBe(d('a'));
    expect(toHex(bytes.subarray(64, 100))).toBe(d('b') + '00000100');
    expect(toHex(bytes.subarray(100, 136))).toBe(d('c') + '0000002c');
    expect(chunkIndexDigest(tiny)).toBe(sha256Hex(bytes));
  });

  it('round-trips an index built from a layer', () => {
    const layer = randomBytes(3 * 1024 * 1024 + 17, 3);
    const index = indexLayer(layer);
    expect(index.layerDigest).toBe(sha256Hex(layer));
    expect(index.layerSize).toBe(layer.length);
    expect(index.params).toEqual(DEFAULT_CHUNKING_PARAMS);
    for (const c of index.chunks)
      expect(c.digest).toBe(sha256Hex(layer.subarray(c.offset, c.offset + c.length)));
    const bytes = encodeChunkIndex(index);
    expect(bytes.length).toBe(chunkIndexEncodingLength(index.chunks.length));
    const decoded = decodeChunkIndex(bytes);
    expect(decoded).toEqual({ ok: true, value: index });
    if (decoded.ok) expect(encodeChunkIndex(decoded.value)).toEqual(bytes);
    // decoding from a view at a non-zero offset of a larger buffer
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    expect(decodeChunkIndex(padded.subarray(3, 3 + bytes.length))).toEqual({ ok: true, value: index });
  });

  it('round-trips an empty layer', () => {
    const index = indexLayer(new Uint8Array(0));
    expect(index.chunks).toEqual([]);
    expect(index.layerDigest).toBe(sha256Hex(new Uint8Array(0)));
    expect(decodeChunkIndex(encodeChunkIndex(index))).toEqual({ ok: true, value: index });
  });

  it('streaming indexing equals one-shot for any split (seeded property)', () => {
    const layer = randomBytes(300_000, 11);
    const expected = indexLayer(layer, SMALL);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: layer.length }), { maxLength: 30 }), (cuts) => {
        const indexer = new LayerIndexer(SMALL);
        const completed = [];
        let from = 0;
        for (const to of [...cuts].sort((a, b) => a - b).concat(layer.length)) {
          completed.push(...indexer.update(layer.subarray(from, to)));
          from = to;
        }
        const index = indexer.finish();
        expect(index).toEqual(expected);
        expect(completed).toEqual(expected.chunks.slice(0, completed.length));
        expect(completed.length).toBeGreaterThanOrEqual(expected.chunks.length - 1);
      }),
      { seed: 42, numRuns: 50 },
    );
  });

  it('refuses to encode an index that breaks an invariant', () => {
    const bad = (patch: Partial<ChunkIndex>) => () => encodeChunkIndex({ ...tiny, ...patch });
    expect(bad({ layerSize: 301 })).toThrow(RangeError);
    expect(bad({ layerDigest: 'A'.repeat(64) })).toThrow(RangeError);
    expect(
      bad({
        chunks: [
          { digest: d('b'), offset: 0, length: 300 },
          { digest: d('c'), offset: 300, length: 0 },
        ],
      }),
    ).toThrow(RangeError);
    expect(bad({ chunks: [{ digest: d('b'), offset: 1, length: 300 }] })).toThrow(RangeError);
    expect(
      bad({
        chunks: [
          { digest: d('b'), offset: 0, length: 44 },
          { digest: d('c'), offset: 44, length: 256 },
        ],
      }),
    ).toThrow(RangeError);
    expect(checkChunkIndex(tiny)).toBeNull();
  });
});

describe('chunk index decoding of malformed input', () => {
  const good = encodeChunkIndex(tiny);
  const mutate = (f: (b: Uint8Array, v: DataView) => void, length = good.length) => {
    const b = new Uint8Array(length);
    b.set(good.subarray(0, Math.min(length, good.length)));
    f(b, new DataView(b.buffer));
    return decodeChunkIndex(b);
  };
  const cases: [string, ReturnType<typeof mutate>, string, number][] = [
    ['short header', mutate(() => {}, 63), 'CHUNKINDEX_TRUNCATED', 63],
    ['bad magic', mutate((b) => (b[0] = 0x43)), 'CHUNKINDEX_BAD_MAGIC', 0],
    ['version 2', mutate((b) => (b[4] = 2)), 'CHUNKINDEX_UNSUPPORTED_VERSION', 4],
    ['algorithm 9', mutate((b) => (b[5] = 9)), 'CHUNKINDEX_UNSUPPORTED_ALGORITHM', 5],
    ['reserved byte', mutate((b) => (b[7] = 1)), 'CHUNKINDEX_RESERVED_NONZERO', 7],
    ['normalization 4', mutate((b) => (b[6] = 4)), 'CHUNKINDEX_BAD_PARAMS', 6],
    ['avg not a power of two', mutate((_, v) => v.setUint32(12, 1000)), 'CHUNKINDEX_BAD_PARAMS', 6],
    ['min > avg', mutate((_, v) => v.setUint32(8, 2048)), 'CHUNKINDEX_BAD_PARAMS', 6],
    ['layer size 2^53', mutate((_, v) => v.setBigUint64(24, 2n ** 53n)), 'CHUNKINDEX_SIZE_OVERFLOW', 24],
    ['count larger than records', mutate((_, v) => v.setUint32(20, 3)), 'CHUNKINDEX_TRUNCATED', 136],
    ['huge count', mutate((_, v) => v.setUint32(20, 0xffffffff)), 'CHUNKINDEX_TRUNCATED', 136],
    ['truncated record', mutate(() => {}, 135), 'CHUNKINDEX_TRUNCATED', 135],
    ['trailing byte', mutate(() => {}, 137), 'CHUNKINDEX_LENGTH_MISMATCH', 136],
    ['zero-length chunk', mutate((_, v) => v.setUint32(132, 0)), 'CHUNKINDEX_BAD_CHUNK_LENGTH', 132],
    ['chunk above maxSize', mutate((_, v) => v.setUint32(132, 4097)), 'CHUNKINDEX_BAD_CHUNK_LENGTH', 132],
    [
      'short chunk before the last',
      mutate((_, v) => v.setUint32(96, 255)),
      'CHUNKINDEX_BAD_CHUNK_LENGTH',
      96,
    ],
    ['lengths exceed layer size', mutate((_, v) => v.setUint32(132, 45)), 'CHUNKINDEX_SIZE_MISMATCH', 132],
    ['lengths short of layer size', mutate((_, v) => v.setUint32(132, 43)), 'CHUNKINDEX_SIZE_MISMATCH', 24],
    ['empty layer with chunks', mutate((_, v) => v.setBigUint64(24, 0n)), 'CHUNKINDEX_SIZE_MISMATCH', 20],
  ];
  it.each(cases)('%s', (_name, result, code, offset) => {
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code, offset });
  });

  it('never throws, returns only listed codes, and accepts only canonical encodings (100,000 seeded mutations)', () => {
    const base = encodeChunkIndex(indexLayer(randomBytes(6_000, 5), SMALL));
    const known = new Set<string>(CHUNK_INDEX_ERROR_CODES);
    const seen = new Map<string, number>();
    const problems: string[] = [];
    let x = 42;
    const rand = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      let bytes: Uint8Array = base.slice();
      const edits = 1 + rand(3);
      for (let e = 0; e < edits; e++) {
        switch (rand(5)) {
          case 0:
            if (bytes.length > 0) {
              const at = rand(bytes.length);
              bytes[at] = bytes[at]! ^ (1 << rand(8));
            }
            break;
          case 1:
            bytes[rand(Math.min(bytes.length, 100))] = rand(256);
            break;
          case 2:
            bytes = bytes.subarray(0, rand(bytes.length + 1));
            break;
          case 3: {
            const grown = new Uint8Array(bytes.length + 1 + rand(40));
            grown.set(bytes);
            bytes = grown;
            break;
          }
          default:
            if (bytes.length >= 64) {
              new DataView(bytes.buffer, bytes.byteOffset).setUint32(
                4 * rand(16),
                rand(0x10000) * rand(0x10000),
              );
            }
        }
      }
      let result: ReturnType<typeof decodeChunkIndex>;
      try {
        result = decodeChunkIndex(bytes);
      } catch (err) {
        problems.push(`mutant ${i} threw ${String(err)}`);
        continue;
      }
      if (result.ok) {
        accepted++;
        if (!bytesEqual(encodeChunkIndex(result.value), bytes))
          problems.push(`mutant ${i} accepted but not canonical`);
      } else {
        const { code, offset } = result.error;
        if (!known.has(code) || offset < 0 || offset > bytes.length)
          problems.push(`mutant ${i}: ${code} @${offset}`);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
    // The mutations reach every check (so this run can fail), and digest flips are still accepted.
    expect([...seen.keys()].sort()).toEqual([...CHUNK_INDEX_ERROR_CODES].sort());
    expect(accepted).toBeGreaterThan(0);
  }, 30_000);
});
