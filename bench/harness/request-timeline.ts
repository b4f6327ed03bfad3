import type { RunningRailwayEmulator } from '../../emulators/src/railway/index.js'

export interface Timeline {
  /** Requests the emulator received since `watchRequests`. */
  requests: number
  rateLimited: number
  /** From the first to the last request seen, in ms (0 with fewer than two). */
  spanMs: number
}

/**
 * Watches the Railway emulator's counters every few ms to find when the requests of a burst began and
 * ended: the Railway phase of a run, without the tools before it or the deploy wait after it.
 */
export function watchRequests(railway: RunningRailwayEmulator, everyMs = 10): { stop(): Timeline } {
  const base = railway.stats()
  let seen = base.requests
  let first: number | undefined
  let last: number | undefined
  const timer = setInterval(() => {
    const { requests } = railway.stats()
    if (requests === seen) return
    const now = performance.now()
    first ??= now
    last = now
    seen = requests
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      const end = railway.stats()
      return {
        requests: end.requests - base.requests,
        rateLimited: end.rateLimited - base.rateLimited,
        spanMs: first !== undefined && last !== undefined ? last - first : 0,
      }
    },
  }
}
