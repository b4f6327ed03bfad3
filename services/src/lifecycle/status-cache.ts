import type { DeployStatus } from '../generated/schemas.js'

export interface DeployStatusCacheOptions {
  /**
   * SUCCESS, SLEEPING, CRASHED: steady, but they can change without services doing anything (a running
   * app crashes, a sleeping one wakes, Railway restarts a crashed one). Default 60 s: a tick loop of a
   * few seconds reads each instance from Railway about once a minute, and the health ping, which is never
   * cached, sees a dead runtime at once.
   */
  steadyTtlMs?: number
  /**
   * FAILED, REMOVED, SKIPPED, and a service Railway no longer knows (null): final for that deployment;
   * only a new deployment changes them, and a redeploy through services updates the row, which invalidates
   * the entry. Default 10 min, to catch a deploy started from Railway's dashboard.
   */
  finalTtlMs?: number
  now?: () => number
}

type Cacheable = 'steady' | 'final'

// Statuses in progress (QUEUED, BUILDING, ...), REMOVING and NEEDS_APPROVAL are not cached: they move on
// their own, and the tick loop wants to see them move.
const CLASS: Partial<Record<NonNullable<DeployStatus>, Cacheable>> = {
  SUCCESS: 'steady',
  SLEEPING: 'steady',
  CRASHED: 'steady',
  FAILED: 'final',
  REMOVED: 'final',
  SKIPPED: 'final',
}

interface Entry {
  deployStatus: DeployStatus
  /** `updated_at` (ms) of the instance row the status was observed for. */
  version: number
  expiresAt: number
}

/**
 * Railway deploy statuses that need not be asked again for a while, per instance. An entry belongs to one
 * version of the instance row (its `updated_at`): any write to the row (a redeploy, an image change, a
 * destroy) makes it invalid. Equality, not "not newer", so clock skew between replicas cannot keep a
 * stale entry alive.
 */
export class DeployStatusCache {
  readonly #ttl: Record<Cacheable, number>
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()
  #nextSweep: number

  constructor(options: DeployStatusCacheOptions = {}) {
    this.#ttl = { steady: options.steadyTtlMs ?? 60_000, final: options.finalTtlMs ?? 600_000 }
    this.#now = options.now ?? Date.now
    this.#nextSweep = this.#now() + this.#ttl.final
  }

  /** The cached status of the instance at this row version, or undefined (a miss). */
  get(instanceId: string, version: number): { deployStatus: DeployStatus } | undefined {
    const entry = this.#entries.get(instanceId)
    if (!entry) return undefined
    if (entry.version !== version || entry.expiresAt <= this.#now()) {
      this.#entries.delete(instanceId)
      return undefined
    }
    return { deployStatus: entry.deployStatus }
  }

  /**
   * Remembers what Railway said for that row version, if it is worth caching. `exists: false` (Railway
   * no longer knows the service) is final; a service without any deployment yet is not.
   */
  set(instanceId: string, version: number, observed: { deployStatus: DeployStatus; exists: boolean }) {
    const { deployStatus } = observed
    const kind = !observed.exists ? 'final' : deployStatus === null ? undefined : CLASS[deployStatus]
    if (!kind) {
      this.#entries.delete(instanceId)
      return
    }
    const now = this.#now()
    this.#entries.set(instanceId, { deployStatus, version, expiresAt: now + this.#ttl[kind] })
    this.#sweep(now)
  }

  get size(): number {
    return this.#entries.size
  }

  /** Drops expired entries now and then, so instances nobody asks about any more do not pile up. */
  #sweep(now: number) {
    if (now < this.#nextSweep) return
    this.#nextSweep = now + this.#ttl.final
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id)
  }
}
