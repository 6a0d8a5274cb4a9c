/**
 * Exact round bootstrap of a pooled-percentile ratio, for benchmarks that pool several interleaved rounds
 * per server: how far the ratio of two servers' pooled percentiles moves when the rounds that went into
 * them are drawn again. Rounds, not single exchanges, are drawn (a round's exchanges share the machine's
 * state), and paired (round i of both servers ran side by side). Every one of the n^n ordered draws is
 * enumerated, so the interval is deterministic; n ≤ 6 keeps that under 50,000 draws.
 */

/**
 * Nearest-rank percentiles (as `percentile` in lib.ts) of multisets of rounds: `(mult, p)` takes round i's
 * values mult[i] times. `rounds[i]` must be sorted ascending.
 */
export function pooledPercentiles(
  rounds: readonly (readonly number[])[],
): (mult: readonly number[], p: number) => number {
  // The answer is always one of the drawn values: the smallest v with at least `rank` of them at or below
  // it. Searching every round's values (drawn or not) finds the same v, since the count only rises at a
  // drawn value, so one sorted union serves every draw.
  const union = rounds.flat().sort((a, b) => a - b);
  return (mult, p) => {
    let total = 0;
    for (let i = 0; i < rounds.length; i++) total += mult[i]! * rounds[i]!.length;
    if (total === 0) return Number.NaN;
    const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
    const atOrBelow = (v: number): number => {
      let n = 0;
      for (let i = 0; i < rounds.length; i++) if (mult[i]! > 0) n += mult[i]! * upperBound(rounds[i]!, v);
      return n;
    };
    let lo = 0;
    let hi = union.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (atOrBelow(union[mid]!) >= rank) hi = mid;
      else lo = mid + 1;
    }
    return union[lo]!;
  };
}

/** Number of values ≤ v in an ascending array. */
function upperBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The ratio a ÷ b of pooled p-th percentiles over all rounds, and its `level` (e.g. 0.9) central interval
 * over every paired draw of rounds. `a[i]` and `b[i]` are round i of each server, each sorted ascending.
 */
export function roundBootstrapRatio(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  p: number,
  level: number,
): { ratio: number; low: number; high: number; draws: number } {
  const n = a.length;
  if (n === 0 || n !== b.length) throw new Error('roundBootstrapRatio: both servers need the same rounds');
  if (n > 6) throw new Error('roundBootstrapRatio: at most 6 rounds (n^n draws)');
  const pa = pooledPercentiles(a);
  const pb = pooledPercentiles(b);
  const all = new Array<number>(n).fill(1);
  const ratio = pa(all, p) / pb(all, p);
  const ratios: number[] = [];
  const pick = new Array<number>(n).fill(0);
  for (;;) {
    const mult = new Array<number>(n).fill(0);
    for (const i of pick) mult[i]!++;
    ratios.push(pa(mult, p) / pb(mult, p));
    let d = 0;
    while (d < n && ++pick[d]! === n) pick[d++] = 0;
    if (d === n) break;
  }
  ratios.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  const at = (q: number) =>
    ratios[Math.min(ratios.length - 1, Math.max(0, Math.round(q * (ratios.length - 1))))]!;
  return { ratio, low: at(tail), high: at(1 - tail), draws: ratios.length };
}
