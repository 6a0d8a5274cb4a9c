import { bytesEqual } from '../wire.js';
import type { TurboOffer } from './types.js';

/** An offer as the client collected it. */
export interface OfferCandidate {
  readonly offer: TurboOffer;
  /** Arrival time (any monotonic clock, ms). */
  readonly receivedAt: number;
  /**
   * Who sent it (option 54, or the source address for BOOTP). Only the first offer collected from each
   * server counts (SPEC §7.1); candidates without it are never merged.
   */
  readonly server?: string;
}

export interface SelectionContext {
  /** Endpoint types the client can use; offers that need a transfer but list none of them are unusable. */
  readonly accept?: readonly number[];
  /** The digest of the manifest the client holds: a `valid` verdict for another digest counts as stale. */
  readonly heldDigest?: Uint8Array;
}

/** Whether the client's cache can be booted as is on the strength of this offer. */
function cacheValid(offer: TurboOffer, context: SelectionContext): boolean {
  if (offer.verdict !== 'valid') return false;
  return context.heldDigest === undefined || bytesEqual(context.heldDigest, offer.manifestDigest);
}

function usable(offer: TurboOffer, context: SelectionContext): boolean {
  if (cacheValid(offer, context)) return true;
  const accept = context.accept;
  if (!accept) return offer.endpoints.length > 0;
  return offer.endpoints.some((e) => accept.includes(e.type));
}

/**
 * The usable offers, best first (SPEC §7.3): cache still valid, then least loaded server, then fastest
 * answer; remaining ties keep collection order. Repeats from one server are dropped (the first counts).
 */
export function rankOffers<T extends OfferCandidate>(
  candidates: readonly T[],
  context: SelectionContext = {},
): T[] {
  const seen = new Set<string>();
  const firstPerServer = candidates.filter((c) => {
    if (c.server === undefined) return true;
    if (seen.has(c.server)) return false;
    seen.add(c.server);
    return true;
  });
  return firstPerServer
    .map((c, index) => ({ c, index, valid: cacheValid(c.offer, context) }))
    .filter(({ c }) => usable(c.offer, context))
    .sort(
      (a, b) =>
        Number(b.valid) - Number(a.valid) ||
        a.c.offer.load - b.c.offer.load ||
        a.c.receivedAt - b.c.receivedAt ||
        a.index - b.index,
    )
    .map(({ c }) => c);
}

/** The offer the client takes when its collection window closes, or null when none is usable. */
export function selectOffer<T extends OfferCandidate>(
  candidates: readonly T[],
  context: SelectionContext = {},
): T | null {
  return rankOffers(candidates, context)[0] ?? null;
}
