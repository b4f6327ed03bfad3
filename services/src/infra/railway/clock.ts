/** Time for the governor: the real one in production, a hand-driven one in tests. */
export interface Clock {
  /** Epoch ms. */
  now(): number
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void
}

// setTimeout fires at once for delays above 2^31-1 ms; a longer wait is taken in several steps.
const MAX_TIMER_MS = 2_147_483_647

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    return () => clearTimeout(timer)
  },
}
