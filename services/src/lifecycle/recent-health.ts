import type { HealthChecker, HealthResult } from './health-checker.js'

export interface RecentHealthOptions {
  /**
   * A result younger than this is answered again without a ping. Default 1 s: the pool's tick loop asks
   * every few seconds and never notices, while a burst of batches for the same instances (several pool
   * replicas, a retried request, a dashboard) costs one ping per instance per second, not one per batch.
   */
  reuseMs?: number
  /**
   * How long a batch waits for the pings of instances it has a result for. Past it, those answer with
   * their last result (its `checkedAt` says how old) and the ping goes on in the background to update it.
   * Default 150 ms: a live runtime answers well within it; a hung one no longer holds the whole batch for
   * the health timeout. An instance never checked before always waits for its ping (up to the timeout).
   */
  answerWithinMs?: number
  now?: () => number
}

export interface HealthTarget {
  /** What the result is remembered under (the instance id). */
  key: string
  url: string
  /** Opened only when a ping is really sent. */
  credential(): string | undefined
}

interface Remembered {
  url: string
  result: HealthResult
}

/**
 * The health of running instances for status batches: the last result per instance, reused for a moment,
 * and answered at a deadline when a ping hangs. Built on the checker, which still bounds and shares pings.
 */
export class RecentHealth {
  readonly #checker: HealthChecker
  readonly #reuseMs: number
  readonly #answerWithinMs: number
  readonly #now: () => number
  readonly #last = new Map<string, Remembered>()
  #nextSweep: number

  constructor(checker: HealthChecker, options: RecentHealthOptions = {}) {
    this.#checker = checker
    this.#reuseMs = options.reuseMs ?? 1_000
    this.#answerWithinMs = options.answerWithinMs ?? 150
    this.#now = options.now ?? Date.now
    this.#nextSweep = this.#now() + SWEEP_EVERY_MS
  }

  /** One result per target, in order. Never rejects (the checker never does). */
  checkAll(targets: readonly HealthTarget[]): Promise<HealthResult[]> {
    const now = this.#now()
    this.#sweep(now)
    let deadline: Promise<void> | undefined
    let cancelDeadline: (() => void) | undefined
    const results = targets.map((target) => {
      const last = this.#last.get(target.key)
      const known = last && last.url === target.url ? last.result : undefined
      if (known && now - known.checkedAt.getTime() < this.#reuseMs) return Promise.resolve(known)
      const ping = this.#checker.check(target.url, target.credential()).then((result) => {
        this.#remember(target, result)
        return result
      })
      if (!known) return ping
      if (!deadline) {
        // One timer for the whole batch, not one per instance.
        deadline = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#answerWithinMs)
          cancelDeadline = () => clearTimeout(timer)
        })
      }
      return Promise.race([ping, deadline.then(() => known)])
    })
    if (!deadline) return Promise.all(results)
    return Promise.all(results).finally(() => cancelDeadline?.())
  }

  #remember(target: HealthTarget, result: HealthResult) {
    const current = this.#last.get(target.key)?.result
    // A slow ping that ends after a newer one must not replace it.
    if (current && current.checkedAt > result.checkedAt) return
    this.#last.set(target.key, { url: target.url, result })
  }

  /** Forgets instances nobody has asked about for a while (destroyed ones, mostly). */
  #sweep(now: number) {
    if (now < this.#nextSweep) return
    this.#nextSweep = now + SWEEP_EVERY_MS
    for (const [key, { result }] of this.#last) {
      if (now - result.checkedAt.getTime() > FORGET_AFTER_MS) this.#last.delete(key)
    }
  }
}

const SWEEP_EVERY_MS = 60_000
const FORGET_AFTER_MS = 10 * 60_000
