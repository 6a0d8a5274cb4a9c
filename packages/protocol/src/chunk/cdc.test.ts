import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chunker, chunkLengths } from './cdc.js';
import { sha256Hex } from './digest.js';
import { GEAR } from './gear.js';
import type { ChunkingParams } from './params.js';
import { DEFAULT_CHUNKING_PARAMS, resolveChunkingParams } from './params.js';

/** Deterministic pseudo-random bytes (xorshift32), fast enough for MiB-scale inputs. */
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

function chunkDigests(data: Uint8Array, lengths: readonly number[]): string[] {
  let at = 0;
  return lengths.map((l) => sha256Hex(data.subarray(at, (at += l))));
}

function feedInPieces(data: Uint8Array, cuts: readonly number[], params?: Partial<ChunkingParams>): number[] {
  const chunker = new Chunker(params);
  const lengths: number[] = [];
  let from = 0;
  for (const to of [...cuts].sort((a, b) => a - b).concat(data.length)) {
    lengths.push(...chunker.update(data.subarray(from, to)));
    from = to;
  }
  const last = chunker.finish();
  if (last !== null) lengths.push(last);
  return lengths;
}

/** The algorithm as `cdc.ts` documents it, written for clarity instead of speed. */
function referenceChunkLengths(data: Uint8Array, p: ChunkingParams): number[] {
  const bits = Math.log2(p.avgSize);
  const mask = (n: number) => Number((((1n << BigInt(n)) - 1n) << BigInt(32 - n)) & 0xffffffffn);
  const maskS = mask(bits + p.normalization);
  const maskL = mask(bits - p.normalization);
  const out: number[] = [];
  let start = 0;
  while (start < data.length) {
    let length = Math.min(p.maxSize, data.length - start);
    let h = 0;
    for (let n = p.minSize; n < length; n++) {
      h = (h * 2 + (GEAR[data[start + n]!]! >>> 0)) % 2 ** 32;
      if ((h & (n < p.avgSize ? maskS : maskL)) >>> 0 === 0) {
        length = n + 1;
        break;
      }
    }
    out.push(length);
    start += length;
  }
  return out;
}

const MiB = 1024 * 1024;
const GOLDEN_LENGTHS_DIGEST = '89cb04dd4dcb210c5f4415419cb7a590561a0f65ba51bc76bf177bd0d0762792';
const GOLDEN_GEAR_TEXT_DIGEST = '75a93d7b7db758c9d11d9951c4a60913b2d003b9d2b01db8e2dbf2feab02f111';
const SMALL: Partial<ChunkingParams> = { minSize: 256, avgSize: 1024, maxSize: 4096 };

describe('gear table', () => {
  it('is the documented generator output (golden)', () => {
    expect(GEAR.length).toBe(256);
    // Cross-checked against an independent implementation of the documented generator.
    expect(GEAR[0]! >>> 0).toBe(0x4accf681);
    expect(GEAR[255]! >>> 0).toBe(0x207b4ad2);
    const text = Array.from(GEAR, (v) => (v >>> 0).toString(16)).join(',');
    expect(sha256Hex(new TextEncoder().encode(text))).toBe(GOLDEN_GEAR_TEXT_DIGEST);
  });
});

describe('content-defined chunking', () => {
  const data = randomBytes(4 * MiB, 1);
  const lengths = chunkLengths(data);

  it('cuts a fixed input at fixed places (golden)', () => {
    expect(lengths.length).toBe(57);
    expect(lengths.slice(0, 8)).toEqual([75774, 78572, 98491, 87624, 99752, 80564, 102513, 97266]);
    expect(sha256Hex(new TextEncoder().encode(lengths.join(',')))).toBe(GOLDEN_LENGTHS_DIGEST);
  });

  it('agrees with a plain byte-by-byte reference of the documented algorithm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 40_000 }),
        (seed, length) => {
          const input = randomBytes(length, seed);
          expect(chunkLengths(input, SMALL)).toEqual(
            referenceChunkLengths(input, resolveChunkingParams(SMALL)),
          );
        },
      ),
      { seed: 42, numRuns: 100 },
    );
    expect(chunkLengths(data.subarray(0, MiB))).toEqual(
      referenceChunkLengths(data.subarray(0, MiB), DEFAULT_CHUNKING_PARAMS),
    );
  });

  it('is deterministic and covers the input exactly', () => {
    expect(chunkLengths(data)).toEqual(lengths);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
  });

  it('keeps chunk sizes within bounds and near the target average', () => {
    const { minSize, maxSize, avgSize } = DEFAULT_CHUNKING_PARAMS;
    lengths.slice(0, -1).forEach((l) => expect(l).toBeGreaterThanOrEqual(minSize));
    lengths.forEach((l) => expect(l).toBeLessThanOrEqual(maxSize));
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(avgSize * 0.75);
    expect(mean).toBeLessThan(avgSize * 1.5);
  });

  it('cuts content without boundaries (all zeros) at maxSize', () => {
    const zeros = new Uint8Array(MiB + 5);
    const got = chunkLengths(zeros);
    got.slice(0, -1).forEach((l) => expect(l).toBeGreaterThanOrEqual(DEFAULT_CHUNKING_PARAMS.minSize));
    got.forEach((l) => expect(l).toBeLessThanOrEqual(DEFAULT_CHUNKING_PARAMS.maxSize));
    expect(got.reduce((a, b) => a + b, 0)).toBe(zeros.length);
  });

  it('handles empty input and inputs shorter than minSize', () => {
    expect(chunkLengths(new Uint8Array(0))).toEqual([]);
    expect(chunkLengths(new Uint8Array(100))).toEqual([100]);
    const chunker = new Chunker();
    expect(chunker.update(new Uint8Array(0))).toEqual([]);
    expect(chunker.finish()).toBeNull();
    expect(() => chunker.update(new Uint8Array(1))).toThrow();
  });

  it('streaming gives the one-shot boundaries for any split (seeded property)', () => {
    const input = data.subarray(0, 2 * MiB);
    const expected = chunkLengths(input);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 40 }), (cuts) => {
        expect(feedInPieces(input, cuts)).toEqual(expected);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('streaming byte-sized and tiny pieces with small parameters matches one-shot (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 64 * 1024 }),
        fc.array(fc.integer({ min: 0, max: 64 * 1024 }), { maxLength: 200 }),
        (seed, length, cuts) => {
          const input = randomBytes(length, seed);
          const expected = chunkLengths(input, SMALL);
          const got = feedInPieces(
            input,
            cuts.map((c) => Math.min(c, length)),
            SMALL,
          );
          expect(got).toEqual(expected);
          expected.slice(0, -1).forEach((l) => expect(l).toBeGreaterThanOrEqual(256));
          expected.forEach((l) => expect(l).toBeLessThanOrEqual(4096));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('feeding one byte at a time matches one-shot', () => {
    const input = randomBytes(20_000, 7);
    const chunker = new Chunker(SMALL);
    const got: number[] = [];
    for (let i = 0; i < input.length; i++) got.push(...chunker.update(input.subarray(i, i + 1)));
    got.push(chunker.finish()!);
    expect(got).toEqual(chunkLengths(input, SMALL));
  });

  it('resists shifts: a 100-byte insertion near the start keeps >= 90% of the chunks', () => {
    const before = new Set(chunkDigests(data, lengths));
    const inserted = new Uint8Array(data.length + 100);
    inserted.set(data.subarray(0, 1000));
    inserted.set(randomBytes(100, 99), 1000);
    inserted.set(data.subarray(1000), 1100);
    const after = chunkDigests(inserted, chunkLengths(inserted));
    const reused = after.filter((d) => before.has(d)).length;
    expect(reused / after.length).toBeGreaterThanOrEqual(0.9);
    // and the insertion did change something: a chunker that never looks at content would fail here
    expect(reused).toBeLessThan(after.length);

    const deleted = new Uint8Array(data.length - 100);
    deleted.set(data.subarray(0, 2 * MiB));
    deleted.set(data.subarray(2 * MiB + 100), 2 * MiB);
    const afterDelete = chunkDigests(deleted, chunkLengths(deleted));
    expect(afterDelete.filter((d) => before.has(d)).length / afterDelete.length).toBeGreaterThanOrEqual(0.9);
  });

  it('validates parameters', () => {
    expect(resolveChunkingParams()).toEqual(DEFAULT_CHUNKING_PARAMS);
    expect(() => resolveChunkingParams({ avgSize: 3000 })).toThrow(RangeError);
    expect(() => resolveChunkingParams({ minSize: 128 * 1024 })).toThrow(RangeError);
    expect(() => resolveChunkingParams({ maxSize: 2 ** 31 })).toThrow(RangeError);
    expect(() => resolveChunkingParams({ normalization: 4 })).toThrow(RangeError);
    expect(() => resolveChunkingParams({ minSize: 16.5 })).toThrow(RangeError);
    expect(() => new Chunker({ minSize: 10 })).toThrow(RangeError);
  });

  it('different parameters give different boundaries', () => {
    expect(chunkLengths(data, { normalization: 1 })).not.toEqual(lengths);
    expect(chunkLengths(data, { minSize: 8192, avgSize: 32768, maxSize: 131072 })).not.toEqual(lengths);
  });
});
