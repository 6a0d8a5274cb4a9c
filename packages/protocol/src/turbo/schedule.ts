/**
 * Client timing (SPEC §7): discovery bursts with jittered spacing, the offer collection window, and
 * randomised exponential backoff between bursts (RFC 951 §7.2). Pure: every function takes the random
 * source, so a seeded source gives a reproducible schedule.
 */

/** A random source returning values in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

export const DISCOVERY_DEFAULTS = {
  /** Discovers per burst. */
  burstCount: 3,
  /** Gap between two discovers of a burst, uniform in [min, max] ms. */
  burstGapMinMs: 50,
  burstGapMaxMs: 150,
  /** Offers are collected until this long after the last discover of a burst. */
  windowMs: 1000,
  /** Ceiling of the first backoff: the delay is uniform in [0, ceiling). */
  backoffInitialMs: 4000,
  /** The ceiling doubles per round until it reaches this cap (RFC 951: about a minute). */
  backoffCapMs: 60_000,
} as const;

type DiscoverySettings = { readonly [K in keyof typeof DISCOVERY_DEFAULTS]: number };
export type DiscoveryOptions = Partial<DiscoverySettings>;

function draw(random: RandomSource): number {
  const v = random();
  // A misbehaving source must not push a delay outside its documented bounds.
  if (!(v >= 0)) return 0;
  return v < 1 ? v : 1 - Number.EPSILON;
}

function settings(options: DiscoveryOptions | undefined): DiscoverySettings {
  return { ...DISCOVERY_DEFAULTS, ...options };
}

/** Send times (ms from the start of the burst) of one burst: 0, then `burstCount - 1` jittered gaps. */
export function burstOffsets(random: RandomSource, options?: DiscoveryOptions): number[] {
  const s = settings(options);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < s.burstCount; i++) {
    if (i > 0) t += Math.round(s.burstGapMinMs + draw(random) * (s.burstGapMaxMs - s.burstGapMinMs));
    out.push(t);
  }
  return out;
}

/** Upper bound of the backoff after round `round` (0-based): initial × 2^round, capped. */
export function backoffCeilingMs(round: number, options?: DiscoveryOptions): number {
  const s = settings(options);
  return Math.min(s.backoffInitialMs * 2 ** Math.min(round, 52), s.backoffCapMs);
}

/** The randomised backoff after round `round`: uniform in [0, ceiling), whole ms. */
export function backoffDelayMs(round: number, random: RandomSource, options?: DiscoveryOptions): number {
  const ceiling = backoffCeilingMs(round, options);
  return Math.min(Math.floor(draw(random) * ceiling), Math.max(0, ceiling - 1));
}

export interface BurstPlan {
  /** Retransmission round, 0 for the first burst (the ATTEMPT field's `round`). */
  readonly round: number;
  /** Absolute send times (ms since the client started discovery) of the burst's discovers. */
  readonly sends: readonly number[];
  /** When the collection window of this burst closes. */
  readonly windowEnd: number;
  /** When the next burst starts if no usable offer arrived: `windowEnd` + backoff. */
  readonly nextStart: number;
}

/**
 * The first `rounds` bursts of a discovery that gets no offer: each burst, its window, and the
 * randomised backoff before the next. The client stops following it as soon as it selects an offer.
 */
export function discoveryPlan(random: RandomSource, rounds: number, options?: DiscoveryOptions): BurstPlan[] {
  const s = settings(options);
  const plan: BurstPlan[] = [];
  let start = 0;
  for (let round = 0; round < rounds; round++) {
    const sends = burstOffsets(random, s).map((t) => start + t);
    const windowEnd = sends[sends.length - 1]! + s.windowMs;
    const nextStart = windowEnd + backoffDelayMs(round, random, s);
    plan.push({ round, sends, windowEnd, nextStart });
    start = nextStart;
  }
  return plan;
}

/**
 * A small seeded generator (mulberry32) for simulators and tests; not for secrets. Returns [0, 1).
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
