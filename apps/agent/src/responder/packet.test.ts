import { formatMac } from '@bootpt/protocol/wire';
import { describe, expect, it } from 'vitest';
import { macText } from './packet.js';

describe('macText', () => {
  it('formats like formatMac, for new and for remembered MACs (seeded)', () => {
    let seed = 3;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    const seen: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++) {
      const chaddr =
        i % 3 === 2 && seen.length > 0
          ? seen[next() % seen.length]!
          : Uint8Array.from({ length: 16 }, (_, k) => (k < 6 ? next() : 0));
      seen.push(chaddr);
      expect(macText(chaddr)).toBe(formatMac(chaddr, 0, 6));
    }
    expect(macText(Uint8Array.of(255, 255, 255, 255, 255, 255))).toBe('ff:ff:ff:ff:ff:ff');
    expect(macText(Uint8Array.of(0, 0, 0, 0, 0, 1))).toBe('00:00:00:00:00:01');
    expect(macText(Uint8Array.of(0, 1, 0, 0, 0, 0))).toBe('00:01:00:00:00:00');
  });
});
