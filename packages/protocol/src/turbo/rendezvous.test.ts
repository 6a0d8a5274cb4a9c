import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RENDEZVOUS_DEFAULTS,
  rendezvousDelayMs,
  rendezvousOrder,
  rendezvousRank,
  rendezvousWeight,
} from './rendezvous.js';

const agents = ['agent-a', 'agent-b', 'agent-c', 'agent-d'];
const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });

describe('rendezvous ranking (SPEC §9)', () => {
  it('weight is SHA-256("BOOTPT-HRW1" | len | chaddr | 0 | agent id), first 8 octets big-endian', () => {
    // Pinned: every agent must compute the same order, so this is part of the protocol.
    const w = rendezvousWeight(Uint8Array.of(0x52, 0x54, 0, 0xab, 0xcd, 0xef), 'agent-a');
    // Expected value computed independently with Python's hashlib.
    expect(w.toString(16).padStart(16, '0')).toBe('cfcc7b7923d722c4');
  });

  it('every agent derives the same order regardless of list order; ranks are a permutation', () => {
    fc.assert(
      fc.property(macArb, fc.shuffledSubarray(agents, { minLength: 4, maxLength: 4 }), (mac, shuffled) => {
        const order = rendezvousOrder(mac, agents);
        expect(rendezvousOrder(mac, shuffled)).toEqual(order);
        const ranks = agents.map((a) => rendezvousRank(mac, a, shuffled));
        expect([...ranks].sort()).toEqual([0, 1, 2, 3]);
        for (const a of agents) expect(order[rendezvousRank(mac, a, agents)]).toBe(a);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('spreads clients evenly over the agents', () => {
    const counts = new Map(agents.map((a) => [a, 0]));
    fc.sample(macArb, { seed: 42, numRuns: 4000 }).forEach((mac) => {
      const first = rendezvousOrder(mac, agents)[0]!;
      counts.set(first, counts.get(first)! + 1);
    });
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(850);
      expect(n).toBeLessThan(1150);
    }
  });

  it('removing an agent only moves the clients it was preferred for', () => {
    const macs = fc.sample(macArb, { seed: 42, numRuns: 1000 });
    for (const mac of macs) {
      const before = rendezvousOrder(mac, agents)[0]!;
      const after = rendezvousOrder(
        mac,
        agents.filter((a) => a !== 'agent-c'),
      )[0]!;
      if (before !== 'agent-c') expect(after).toBe(before);
    }
  });

  it('counts duplicate ids once and includes self when missing from the list', () => {
    const mac = Uint8Array.of(1, 2, 3, 4, 5, 6);
    expect(rendezvousOrder(mac, ['x', 'x', 'y'])).toHaveLength(2);
    const rank = rendezvousRank(mac, 'self', ['agent-a', 'agent-b']);
    expect(rank).toBe(rendezvousOrder(mac, ['agent-a', 'agent-b', 'self']).indexOf('self'));
  });
});

describe('rank delay (SPEC §9)', () => {
  it('is rank × 200 ms, capped at 800 ms', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((r) => rendezvousDelayMs(r))).toEqual([
      0, 200, 400, 600, 800, 800, 800,
    ]);
    expect(RENDEZVOUS_DEFAULTS.maxDelayMs).toBeLessThan(1000);
  });

  it('halves per retransmission round reported by the client', () => {
    expect([0, 1, 2, 3].map((round) => rendezvousDelayMs(3, round))).toEqual([600, 300, 150, 75]);
    expect(rendezvousDelayMs(3, 99)).toBe(0);
  });

  it('honours custom step and cap; nonsense ranks give no delay', () => {
    expect(rendezvousDelayMs(2, 0, { stepMs: 50, maxDelayMs: 75 })).toBe(75);
    expect(rendezvousDelayMs(-1)).toBe(0);
    expect(rendezvousDelayMs(Number.NaN)).toBe(0);
  });
});
