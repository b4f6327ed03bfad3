export interface RateLimitSettings {
  perSecond: number
  perHour: number
}

export type RateDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; headers: Record<string, string>; retryAfterSeconds: number }

const SECOND_MS = 1000
const HOUR_MS = 3_600_000

/** Timestamps of accepted requests inside a rolling window (oldest first). */
export class RollingWindow {
  #hits: number[] = []
  #head = 0

  constructor(private readonly windowMs: number) {}

  count(now: number): number {
    while (this.#head < this.#hits.length && (this.#hits[this.#head] ?? 0) <= now - this.windowMs)
      this.#head += 1
    // Compact now and then so a long run does not keep every timestamp.
    if (this.#head > 1024 && this.#head * 2 > this.#hits.length) {
      this.#hits = this.#hits.slice(this.#head)
      this.#head = 0
    }
    return this.#hits.length - this.#head
  }

  add(now: number) {
    this.#hits.push(now)
  }

  /** Milliseconds until the oldest hit leaves the window (0 when empty). */
  msUntilSlot(now: number): number {
    const oldest = this.#hits[this.#head]
    return oldest === undefined ? 0 : Math.max(0, oldest + this.windowMs - now)
  }
}

/**
 * Railway's per-token budget: at most `perSecond` accepted requests in any rolling second and `perHour`
 * in any rolling hour. Rejected requests do not count.
 *
 * Headers, on every response (units chosen here, as Railway does not document them):
 * - `X-RateLimit-Limit`: the hourly budget (`perHour`);
 * - `X-RateLimit-Remaining`: what is left of it in the rolling hour, after this request;
 * - `X-RateLimit-Reset`: whole seconds until `Remaining` grows again (the oldest request of the rolling
 *   hour leaves it); 0 when nothing has been used;
 * - on a 429, `Retry-After`: whole seconds (at least 1) until a request would be accepted.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { second: RollingWindow; hour: RollingWindow }>()

  constructor(private readonly settings: RateLimitSettings) {}

  take(key: string, now: number): RateDecision {
    let bucket = this.#buckets.get(key)
    if (!bucket) {
      bucket = { second: new RollingWindow(SECOND_MS), hour: new RollingWindow(HOUR_MS) }
      this.#buckets.set(key, bucket)
    }
    const inSecond = bucket.second.count(now)
    const inHour = bucket.hour.count(now)
    const allowed = inSecond < this.settings.perSecond && inHour < this.settings.perHour
    if (allowed) {
      bucket.second.add(now)
      bucket.hour.add(now)
    }
    const headers = {
      'x-ratelimit-limit': String(this.settings.perHour),
      'x-ratelimit-remaining': String(Math.max(0, this.settings.perHour - bucket.hour.count(now))),
      'x-ratelimit-reset': String(Math.ceil(bucket.hour.msUntilSlot(now) / 1000)),
    }
    if (allowed) return { allowed, headers }
    const waitMs = Math.max(
      inSecond >= this.settings.perSecond ? bucket.second.msUntilSlot(now) : 0,
      inHour >= this.settings.perHour ? bucket.hour.msUntilSlot(now) : 0,
    )
    return { allowed, headers, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }
  }
}

/** The most requests accepted in any rolling second, over all tokens (what a governor test asserts on). */
export class PeakMeter {
  readonly #window = new RollingWindow(SECOND_MS)
  #peak = 0

  record(now: number) {
    this.#window.add(now)
    this.#peak = Math.max(this.#peak, this.#window.count(now))
  }

  get peak(): number {
    return this.#peak
  }
}
