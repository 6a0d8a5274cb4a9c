import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { staticDeltaChunks } from './static-delta.js';

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
