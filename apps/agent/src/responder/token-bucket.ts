/**
 * Paces Turbo offers per subnet. A classic token bucket (rate `r`/s, depth `burst`) that also books
 * future tokens: when empty, `take` returns how long the caller must wait for its token and reserves it,
 * so a burst of N discovers is spread at `r`/s instead of dropped. A wait longer than `maxDelayMs`
 * (kept below the client's first retransmission) is refused: the offer is shed, the client's
 * retransmission, or another agent, gets it.
 *
 * Pure: time is passed in (milliseconds).
 */
export type TakeResult = { readonly ok: true; readonly delayMs: number } | { readonly ok: false };

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    readonly maxDelayMs: number,
    now: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError('rate must be > 0 and burst >= 1');
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  /** Books one token; `maxDelayMs` overrides the constructor's limit for this call. */
  take(now: number, maxDelayMs = this.maxDelayMs): TakeResult {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, delayMs: 0 };
    }
    const delayMs = ((1 - this.tokens) * 1000) / this.ratePerSecond;
    if (delayMs > maxDelayMs) return { ok: false };
    this.tokens -= 1;
    return { ok: true, delayMs: Math.ceil(delayMs) };
  }

  /** 0 = idle (full bucket) .. 1 = saturated (no tokens, or tokens booked into the future). */
  load(now: number): number {
    this.refill(now);
    const used = (this.burst - this.tokens) / this.burst;
    return Math.max(0, Math.min(1, used));
  }
}
