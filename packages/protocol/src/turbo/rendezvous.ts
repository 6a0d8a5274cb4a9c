import { createHash } from 'node:crypto';

/*
 * Several agents on one subnet (SPEC §9): each ranks itself for a client by rendezvous (highest random
 * weight) hashing of the client's chaddr over the agent ids it knows. Rank 0 answers at once; rank r
 * delays its offer by r × step (capped inside the client's window), so the client usually hears the
 * preferred agent first and the others only act as a fallback. Every agent computes the same order
 * without talking to the others.
 */

const DOMAIN = new TextEncoder().encode('BOOTPT-HRW1');

export const RENDEZVOUS_DEFAULTS = {
  /** Extra delay per rank, ms. */
  stepMs: 200,
  /** No offer is held back longer than this for rank (below the client's default 1000 ms window). */
  maxDelayMs: 800,
} as const;

/** The 64-bit rendezvous weight of `agentId` for a client: SHA-256(domain | chaddr | 0 | agentId)[0..8]. */
export function rendezvousWeight(chaddr: Uint8Array, agentId: string): bigint {
  const digest = createHash('sha256')
    .update(DOMAIN)
    .update(Uint8Array.of(chaddr.length))
    .update(chaddr)
    .update(Uint8Array.of(0))
    .update(agentId, 'utf8')
    .digest();
  return digest.readBigUInt64BE(0);
}

/** The agents ordered for this client, preferred first (duplicate ids are counted once). */
export function rendezvousOrder(chaddr: Uint8Array, agentIds: readonly string[]): string[] {
  return [...new Set(agentIds)]
    .map((id) => ({ id, weight: rendezvousWeight(chaddr, id) }))
    .sort((a, b) => (a.weight === b.weight ? (a.id < b.id ? -1 : 1) : a.weight > b.weight ? -1 : 1))
    .map((x) => x.id);
}

/** This agent's rank for the client: 0 = preferred. `selfId` takes part even if `agentIds` omits it. */
export function rendezvousRank(chaddr: Uint8Array, selfId: string, agentIds: readonly string[]): number {
  const order = rendezvousOrder(chaddr, [...agentIds, selfId]);
  return order.indexOf(selfId);
}

/**
 * How long to hold an offer back for rank: `min(rank × step, max)`, halved for every retransmission
 * round the client reports (a retransmitting client has likely lost the preferred agent).
 */
export function rendezvousDelayMs(
  rank: number,
  round = 0,
  options: { readonly stepMs?: number; readonly maxDelayMs?: number } = {},
): number {
  const step = options.stepMs ?? RENDEZVOUS_DEFAULTS.stepMs;
  const max = options.maxDelayMs ?? RENDEZVOUS_DEFAULTS.maxDelayMs;
  if (!(rank > 0)) return 0;
  const base = Math.min(rank * step, max);
  return Math.floor(base / 2 ** Math.max(0, Math.min(round, 31)));
}
