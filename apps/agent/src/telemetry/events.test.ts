import { describe, expect, it } from 'vitest';
import { BootEventRing, type BootEvent } from './events.js';

const ev = (n: number): BootEvent => ({
  at: n,
  mac: '02:00:00:00:00:01',
  kind: 'dhcp',
  messageType: 'discover',
  outcome: 'replied',
  latencyMs: 1,
  relayed: false,
});

describe('BootEventRing', () => {
  it('drains oldest first and empties', () => {
    const ring = new BootEventRing(4);
    [1, 2, 3].forEach((n) => ring.record(ev(n)));
    expect(ring.drain(2).map((e) => e.at)).toEqual([1, 2]);
    ring.record(ev(4));
    expect(ring.drain().map((e) => e.at)).toEqual([3, 4]);
    expect(ring.length).toBe(0);
    expect(ring.drain()).toEqual([]);
  });

  it('overwrites the oldest when full and counts the loss', () => {
    const ring = new BootEventRing(3);
    for (let n = 1; n <= 7; n++) ring.record(ev(n));
    expect(ring.length).toBe(3);
    expect(ring.dropped).toBe(4);
    expect(ring.drain().map((e) => e.at)).toEqual([5, 6, 7]);
  });

  it('gives back every field as recorded, optional ones only when they were set', () => {
    const ring = new BootEventRing(2);
    const full: BootEvent = {
      ...ev(1_763_900_000_123),
      outcome: 'dropped',
      reason: 'paced_out',
      ip: '10.0.0.5',
      bootFile: 'pxelinux.0',
      manifest: 'ab'.repeat(32),
      cacheVerdict: 'stale',
      latencyMs: 0.0375,
      relayed: true,
    };
    const bare = ev(2);
    // Three records into two slots: the slot reused for `bare` must not keep `full`'s optional fields.
    ring.record(full);
    ring.record(full);
    ring.record(bare);
    expect(ring.drain()).toStrictEqual([full, bare]);
  });

  it('rejects a zero capacity', () => {
    expect(() => new BootEventRing(0)).toThrow(RangeError);
  });
});
