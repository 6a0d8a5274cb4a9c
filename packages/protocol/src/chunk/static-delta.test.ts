import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { staticDeltaChunks, staticDeltaParts } from './static-delta.js';

describe('staticDeltaChunks', () => {
  it('lists the chunks the target adds, each once, in order of first use across layers', () => {
    const layers = [
      {
        chunks: [
          { digest: 'a', length: 1 },
          { digest: 'b', length: 2 },
          { digest: 'a', length: 1 },
        ],
      },
      {
        chunks: [
          { digest: 'c', length: 3 },
          { digest: 'b', length: 2 },
          { digest: 'd', length: 4 },
        ],
      },
    ];
    expect(staticDeltaChunks(new Set(['a', 'd']), layers)).toEqual([
      { digest: 'b', length: 2 },
      { digest: 'c', length: 3 },
    ]);
    expect(staticDeltaChunks(new Set(['a', 'b', 'c', 'd']), layers)).toEqual([]);
  });

  it('is the ordered set difference, whatever the layers (seeded)', () => {
    const chunk = fc
      .constantFrom('a', 'b', 'c', 'd', 'e', 'f')
      .map((d) => ({ digest: d, length: d.charCodeAt(0) }));
    fc.assert(
      fc.property(
        fc.array(fc.record({ chunks: fc.array(chunk, { maxLength: 12 }) }), { maxLength: 4 }),
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f')),
        (layers, from) => {
          const held = new Set(from);
          const list = staticDeltaChunks(held, layers);
          const firstUse = [...new Set(layers.flatMap((l) => l.chunks.map((c) => c.digest)))];
          expect(list.map((c) => c.digest)).toEqual(firstUse.filter((d) => !held.has(d)));
          for (const c of list) expect(c.length).toBe(c.digest.charCodeAt(0));
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('staticDeltaParts', () => {
  it('cuts the list into contiguous runs by the start offset of each chunk', () => {
    const list = [10, 30, 20, 40].map((length, i) => ({ digest: String(i), length }));
    // total 100: starts 0, 10, 40, 60 -> parts 0, 0, 0, 1
    expect(staticDeltaParts(list, 2).map((p) => p.map((c) => c.digest))).toEqual([['0', '1', '2'], ['3']]);
    expect(staticDeltaParts([], 2)).toEqual([[], []]);
    expect(staticDeltaParts(list, 1)).toEqual([list]);
    expect(() => staticDeltaParts(list, 0)).toThrow(RangeError);
  });

  it('concatenates back to the list, each part within a chunk of an even split (seeded)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        (lengths, parts) => {
          const list = lengths.map((length, i) => ({ digest: String(i), length }));
          const cut = staticDeltaParts(list, parts);
          expect(cut).toHaveLength(parts);
          expect(cut.flat()).toEqual(list);
          const total = lengths.reduce((a, b) => a + b, 0);
          const largest = Math.max(0, ...lengths);
          let start = 0;
          for (const [p, part] of cut.entries()) {
            const size = part.reduce((n, c) => n + c.length, 0);
            // A part starts within one chunk after its even boundary and is at most a chunk off its share.
            if (part.length > 0) expect(start).toBeGreaterThanOrEqual((p * total) / parts - largest);
            expect(Math.abs(size - total / parts)).toBeLessThanOrEqual(largest);
            start += size;
          }
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });
});
