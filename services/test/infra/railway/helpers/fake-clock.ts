import type { Clock } from '../../../../src/infra/railway/clock.js'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

/** Lets promise callbacks run (a resolved admission → the send) before time moves again. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A clock the test moves by hand: timers fire in time order, and after each one pending promise work runs,
 * so "what was sent when" is exact and no assertion depends on the machine's speed.
 */
export class FakeClock implements Clock {
  #now: number
  #seq = 0
  #timers: Timer[] = []

  constructor(start = 1_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
    }
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number) {
    const end = this.#now + ms
    for (;;) {
      await flush()
      const next = [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next || next.at > end) break
      this.#timers = this.#timers.filter((t) => t !== next)
      this.#now = Math.max(this.#now, next.at)
      next.fn()
    }
    this.#now = end
    await flush()
  }

  /** Advances in steps until `done()` or `limitMs` of fake time passed; returns the fake time used. */
  async runUntil(done: () => boolean, limitMs: number, stepMs = 10): Promise<number> {
    const start = this.#now
    while (!done() && this.#now - start < limitMs) await this.advance(stepMs)
    return this.#now - start
  }
}

/** The most timestamps inside any window of `windowMs` (start inclusive, end exclusive). */
export function peakInWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b)
  let peak = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++
    peak = Math.max(peak, end - start + 1)
  }
  return peak
}
