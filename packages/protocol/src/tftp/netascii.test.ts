import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latin1Encode } from '../wire.js';
import { createNetasciiDecoder, createNetasciiEncoder, netasciiDecode, netasciiEncode } from './netascii.js';

describe('netascii', () => {
  it('encodes LF as CR LF and CR as CR NUL', () => {
    expect(netasciiEncode(latin1Encode('a\nb\rc\r\n'))).toEqual(latin1Encode('a\r\nb\r\0c\r\0\r\n'));
  });

  it('decodes CR LF and CR NUL, keeps a bare CR followed by another byte, and a trailing CR', () => {
    expect(netasciiDecode(latin1Encode('a\r\nb\r\0c\rd\r'))).toEqual(latin1Encode('a\nb\rc\rd\r'));
  });

  it('is safe across block boundaries (CR at the end of one block, LF/NUL at the start of the next)', () => {
    const d = createNetasciiDecoder();
    const parts = [
      d.push(latin1Encode('line1\r')),
      d.push(latin1Encode('\nx\r')),
      d.push(latin1Encode('\0')),
      d.end(),
    ];
    expect(parts.map((p) => String.fromCharCode(...p)).join('')).toBe('line1\nx\r');
  });

  it('round-trips any bytes however the stream is split (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (local, cuts) => {
          const wire = netasciiEncode(local);
          const enc = createNetasciiEncoder();
          const points = [...new Set(cuts.map((c) => c % (local.length + 1)))].sort((a, b) => a - b);
          let at = 0;
          const encoded: number[] = [];
          for (const p of [...points, local.length]) {
            encoded.push(...enc.push(local.subarray(at, p)));
            at = p;
          }
          expect(Uint8Array.from(encoded)).toEqual(wire);
          const dec = createNetasciiDecoder();
          const decoded: number[] = [];
          const wirePoints = points.map((p) => Math.min(p * 2, wire.length));
          at = 0;
          for (const p of [...wirePoints, wire.length]) {
            decoded.push(...dec.push(wire.subarray(at, p)));
            at = p;
          }
          decoded.push(...dec.end());
          expect(Uint8Array.from(decoded)).toEqual(local);
        },
      ),
      { seed: 2026, numRuns: 300 },
    );
  });
});
