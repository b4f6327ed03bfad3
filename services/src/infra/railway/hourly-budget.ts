import type { RateLimitInfo } from './rate-limit-headers.js'

export interface HourlyBudgetOptions {
  /** Below this share of the hourly limit left, requests are spread until the reset. Default 0.2. */
  lowWaterFraction?: number
  /** At or below this share left, only destroys go out until the reset. Default 0.01. */
  reserveFraction?: number
  /** The limit when Railway does not send `X-RateLimit-Limit`: the Pro plan's 10,000/hour. */
  defaultLimit?: number
}

// A response that names no reset time: assume the worst, a full hour from now.
const WINDOW_MS = 3_600_000

/**
 * Railway's hourly request budget as the responses report it (`X-RateLimit-Remaining`/`-Reset`), counted
 * down locally for every request sent between two responses.
 *
 * The policy: with more than 20% of the limit left, no effect. From 20% down, the allowed rate is what
 * is left divided by the seconds to the reset, so the budget lasts until it resets instead of running dry
 * and leaving every caller on 429s. At 1% (100 of 10,000) the rest is kept for destroys: a destroy is what
 * stops paying for an instance, so it must never wait an hour behind status reads.
 */
export class HourlyBudget {
  readonly #lowWater: number
  readonly #reserve: number
  readonly #defaultLimit: number
  #limit: number | undefined
  #remaining: number | undefined
  #resetAt: number | undefined

  constructor(options: HourlyBudgetOptions = {}) {
    this.#lowWater = options.lowWaterFraction ?? 0.2
    this.#reserve = options.reserveFraction ?? 0.01
    this.#defaultLimit = options.defaultLimit ?? 10_000
  }

  /**
   * Takes in what a response said. Within one window (the same reset time, ±1 s) the lower of the header
   * and our own count wins: responses arrive out of order, and requests in flight are not in the header yet.
   */
  observe(info: RateLimitInfo, now: number) {
    const resetAt = info.resetAt ?? (this.#known(now) ? (this.#resetAt as number) : now + WINDOW_MS)
    if (info.limit !== undefined) this.#limit = info.limit
    const sameWindow = this.#known(now) && Math.abs(resetAt - (this.#resetAt as number)) <= 1_000
    this.#remaining = sameWindow ? Math.min(this.#remaining as number, info.remaining) : info.remaining
    if (!sameWindow) this.#resetAt = resetAt
  }

  /** One request went out. */
  spend(now: number) {
    if (this.#known(now)) this.#remaining = Math.max(0, (this.#remaining as number) - 1)
  }

  /** Requests per second the budget allows now; Infinity when it does not limit. */
  ratePerSecond(now: number): number {
    if (!this.#known(now)) return Number.POSITIVE_INFINITY
    const remaining = this.#remaining as number
    if (remaining > this.#lowWater * this.limit) return Number.POSITIVE_INFINITY
    const seconds = Math.max(1, ((this.#resetAt as number) - now) / 1000)
    return remaining / seconds
  }

  /** Whether a request of this kind may go out now: in the reserve only destroys do. */
  admits(isDestroy: boolean, now: number): boolean {
    if (!this.#known(now)) return true
    const remaining = this.#remaining as number
    if (remaining <= 0) return false
    return isDestroy || remaining > this.#reserve * this.limit
  }

  /** Ms until the window resets, or undefined when no window is known. */
  msUntilReset(now: number): number | undefined {
    return this.#known(now) ? (this.#resetAt as number) - now : undefined
  }

  get limit(): number {
    return this.#limit ?? this.#defaultLimit
  }

  snapshot(now: number): { remaining?: number; resetAt?: number; limit: number } {
    return this.#known(now)
      ? { remaining: this.#remaining as number, resetAt: this.#resetAt as number, limit: this.limit }
      : { limit: this.limit }
  }

  #known(now: number): boolean {
    return this.#remaining !== undefined && this.#resetAt !== undefined && now < this.#resetAt
  }
}
