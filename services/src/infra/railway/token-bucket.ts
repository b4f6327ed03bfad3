/**
 * A token bucket of capacity 1: requests are paced evenly at `rate` per second, never in bursts. In any
 * 1-second window at most `1 + rate` requests start (the one token on hand plus those refilled).
 *
 * Kept as the time the next token is due (the GCRA form of a bucket), not as a token count: timers fire on
 * whole milliseconds, and a count capped at 1 would drop the fraction each time (45/s would become 43.5/s).
 */
export class TokenBucket {
  #rate: number
  #interval: number
  #next: number
  #pausedUntil = 0

  constructor(ratePerSecond: number, now: number) {
    this.#rate = ratePerSecond
    this.#interval = intervalOf(ratePerSecond)
    this.#next = now
  }

  get rate(): number {
    return this.#rate
  }

  get pausedUntil(): number {
    return this.#pausedUntil
  }

  /** Tokens on hand now, 0 to 1 (a fraction is a token on its way). */
  tokens(now: number): number {
    if (now < this.#pausedUntil) return 0
    if (now >= this.#next) return 1
    if (!Number.isFinite(this.#interval)) return 0
    return Math.max(0, 1 - (this.#next - now) / this.#interval)
  }

  /** Changes the refill rate from now on; what accrued at the old rate is kept. */
  setRate(ratePerSecond: number, now: number) {
    if (ratePerSecond === this.#rate) return
    const tokens = this.tokens(Math.max(now, this.#pausedUntil))
    this.#rate = ratePerSecond
    this.#interval = intervalOf(ratePerSecond)
    const from = Math.max(now, this.#pausedUntil)
    this.#next = tokens >= 1 ? Math.min(this.#next, from) : from + (1 - tokens) * this.#interval
  }

  /** Takes a token if one is there and the bucket is not paused. */
  tryTake(now: number): boolean {
    if (now < this.#pausedUntil || now < this.#next - 1e-6) return false
    // An idle bucket holds one token at most: the next is due an interval after now, not after a due time
    // long past. Up to 1 ms late counts as on time, because timers fire on whole milliseconds.
    this.#next = Math.max(this.#next, now - 1) + this.#interval
    return true
  }

  /** Milliseconds until `tryTake` can succeed (Infinity at rate 0). */
  msUntilToken(now: number): number {
    if (now < this.#pausedUntil) return Math.max(this.#pausedUntil, this.#next) - now
    return Math.max(0, Math.ceil(this.#next - now))
  }

  /** Nothing is taken before `until`; then pacing starts again (no burst to catch up). */
  pause(until: number) {
    if (until <= this.#pausedUntil) return
    this.#pausedUntil = until
    this.#next = Math.max(this.#next, until)
  }
}

const intervalOf = (ratePerSecond: number) =>
  ratePerSecond > 0 ? 1000 / ratePerSecond : Number.POSITIVE_INFINITY
