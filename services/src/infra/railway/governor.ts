import type { ProviderErrorCode } from '../http/provider-error.js'
import { withRetries } from '../http/retry.js'
import { type Clock, systemClock } from './clock.js'
import type { GraphqlDocument } from './documents.js'
import { HourlyBudget, type HourlyBudgetOptions } from './hourly-budget.js'
import { RailwayError } from './railway-error.js'
import type { RateLimitInfo } from './rate-limit-headers.js'
import { Semaphore } from './semaphore.js'
import { TokenBucket } from './token-bucket.js'
import type { RailwaySender } from './transport.js'

/** Who goes first when requests queue: destroys (they stop spending), then creations, then reads. */
export type Priority = 'destroy' | 'create' | 'status'
const PRIORITIES: readonly Priority[] = ['destroy', 'create', 'status']

export interface GovernorOptions {
  /** Railway's per-second limit for this token (Pro: 50); with `fleet`, all replicas together keep to it. */
  perSecond?: number
  /** Share of `perSecond` left unused for network jitter. Default 0.1: 50/s → paced at 45/s. */
  safetyMargin?: number
  /** Creations at once (`withCreationSlot`). Default 8. */
  maxConcurrentCreations?: number
  hourly?: HourlyBudgetOptions
  retry?: {
    /** Attempts in all, the first included. Default 5. */
    attempts?: number
    baseDelayMs?: number
    maxDelayMs?: number
    /** A 429 asking for a longer wait than this is not waited out in the call (the caller retries later). */
    maxRetryAfterMs?: number
  }
  /** The pause after a 429 without `Retry-After`. Default 1 s. */
  defaultRetryAfterMs?: number
  clock?: Clock
  /**
   * Several replicas on one token: a token is also taken from this fleet-wide bucket (Postgres) right
   * before each request goes out, and a 429's pause is shared. The local bucket, priorities and hourly
   * budget still apply; the fleet bucket is asked by one request at a time per process.
   */
  fleet?: FleetTokens
}

/** A rate shared with other processes (see replicas/fleet-rate-bucket.ts). */
export interface FleetTokens {
  /** 0 when a token was taken at `ratePerSecond`, else the ms until the next one is due. */
  take(ratePerSecond: number): Promise<number>
  pause(ms: number): Promise<void>
}

/** After the fleet bucket could not be asked (the database is unreachable), ask again this much later. */
const FLEET_RETRY_MS = 1_000

export interface RequestOptions {
  priority: Priority
  /**
   * The mutation gives the same result when repeated (upsert, delete where not-found means done,
   * redeploy of the current config): retried like a query. Other mutations are retried only when they
   * provably did not happen.
   */
  idempotent?: boolean
}

/** Numbers for metrics and benchmarks. */
export interface GovernorStats {
  /** Attempts sent, by operation, then by outcome (`ok` or the error code). */
  requests: Record<string, Record<string, number>>
  sent: number
  /** HTTP 429 answers. */
  rateLimited: number
  retries: number
  /** Time requests waited in the governor's queue before going out. */
  waits: { count: number; totalMs: number; maxMs: number }
  tokens: number
  /** The pace in force now (req/s), after the hourly budget. */
  ratePerSecond: number
  pausedUntil: number | undefined
  queued: Record<Priority, number>
  inFlight: number
  /** Times the fleet-wide bucket (several replicas) could not be asked; requests waited meanwhile. */
  fleetErrors: number
  creations: { running: number; waiting: number; max: number }
  hourly: { remaining?: number; resetAt?: number; limit: number }
}

/**
 * Hooks for metrics: the governor tells what happened and knows nothing of how it is recorded (the app's
 * Prometheus registry, a benchmark). Observers must be quick and must not throw.
 */
export interface GovernorObserver {
  /** One attempt ended: `outcome` is `ok` or the error code (`PROVIDER_RATE_LIMITED` for a 429). */
  attempted(operation: string, outcome: 'ok' | ProviderErrorCode): void
  /** A request left the queue after waiting `ms` for its turn (tokens, pause, budget, priority). */
  waited(priority: Priority, ms: number): void
}

export interface Governor {
  /** Sends one document through the bucket, with retries. The only way to reach Railway. */
  request<Variables, Result>(
    document: GraphqlDocument<Variables, Result>,
    variables: Variables,
    options: RequestOptions,
  ): Promise<Result>
  /** Runs a whole creation while holding one of the creation slots. */
  withCreationSlot<T>(fn: () => Promise<T>): Promise<T>
  stats(): GovernorStats
  /**
   * Adds an observer; returns the function that removes it. Added after creation because the adapter
   * outlives the app that records metrics (`server.ts` makes the adapter, `buildApp` the registry).
   */
  observe(observer: GovernorObserver): () => void
  /** Rejects every queued request and stops the timers. */
  close(): void
}

interface Waiter {
  priority: Priority
  enqueuedAt: number
  resolve: () => void
  reject: (error: Error) => void
}

/**
 * The rate governor: a smooth token bucket (no bursts; `perSecond × (1 − safetyMargin)` per second), the
 * hourly budget (see HourlyBudget for the policy), strict priorities with FIFO inside each, a global pause
 * on 429 (every queued caller waits for Retry-After, not only the one that got it), a semaphore for
 * creations, and retries with jittered backoff.
 *
 * Retries: queries and idempotent mutations are retried on any retryable failure (5xx, timeout, reset,
 * 429). Other mutations only when Railway provably did not do the work (429, never connected); after a
 * timeout, reset or 5xx the error goes back with `mayHaveHappened` and the caller looks the result up
 * (railway-client.ts says how, per mutation). A 400 (invalid document) is never retried.
 */
export function createGovernor(sender: RailwaySender, options: GovernorOptions = {}): Governor {
  const clock = options.clock ?? systemClock
  const perSecond = options.perSecond ?? 50
  const margin = options.safetyMargin ?? 0.1
  if (!(perSecond > 0)) throw new RangeError(`perSecond must be above 0, not ${perSecond}`)
  if (!(margin >= 0 && margin < 1)) throw new RangeError(`safetyMargin must be in [0, 1), not ${margin}`)
  const baseRate = perSecond * (1 - margin)
  const retry = {
    attempts: options.retry?.attempts ?? 5,
    baseDelayMs: options.retry?.baseDelayMs ?? 250,
    maxDelayMs: options.retry?.maxDelayMs ?? 5_000,
    maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 60_000,
  }
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1_000

  const bucket = new TokenBucket(baseRate, clock.now())
  const budget = new HourlyBudget(options.hourly)
  const creations = new Semaphore(options.maxConcurrentCreations ?? 8)
  const queues: Record<Priority, Waiter[]> = { destroy: [], create: [], status: [] }
  let cancelTimer: (() => void) | undefined
  let closed = false
  const fleet = options.fleet
  let fleetAsking = false
  const observers = new Set<GovernorObserver>()

  const stats = {
    requests: {} as Record<string, Record<string, number>>,
    sent: 0,
    rateLimited: 0,
    retries: 0,
    waits: { count: 0, totalMs: 0, maxMs: 0 },
    inFlight: 0,
    fleetErrors: 0,
  }

  const count = (operation: string, outcome: 'ok' | ProviderErrorCode) => {
    const byOutcome = stats.requests[operation] ?? {}
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1
    stats.requests[operation] = byOutcome
    for (const observer of observers) observer.attempted(operation, outcome)
  }

  const observe = (info: RateLimitInfo | undefined) => {
    if (!info) return
    budget.observe(info, clock.now())
    pump() // the allowed pace may have changed
  }

  /** The next waiter allowed to go: highest priority first; in the reserve only destroys. */
  const nextWaiter = (now: number): Waiter | undefined => {
    for (const priority of PRIORITIES) {
      const head = queues[priority][0]
      if (head && budget.admits(priority === 'destroy', now)) return head
    }
    return undefined
  }

  const queuedCount = () => PRIORITIES.reduce((sum, p) => sum + queues[p].length, 0)

  const setTimer = (ms: number) => {
    cancelTimer?.()
    cancelTimer = clock.setTimer(
      () => {
        cancelTimer = undefined
        pump()
      },
      Math.max(1, ms),
    )
  }

  /** The waiter leaves the queue and its request goes out. */
  const grant = (waiter: Waiter, now: number) => {
    queues[waiter.priority].shift()
    budget.spend(now)
    const waited = now - waiter.enqueuedAt
    stats.waits.count += 1
    stats.waits.totalMs += waited
    stats.waits.maxMs = Math.max(stats.waits.maxMs, waited)
    for (const observer of observers) observer.waited(waiter.priority, waited)
    waiter.resolve()
  }

  /** Lets waiters go while tokens allow; otherwise sleeps until the next token (or the budget reset). */
  function pump() {
    if (closed) return
    cancelTimer?.()
    cancelTimer = undefined
    for (;;) {
      if (queuedCount() === 0) return
      const now = clock.now()
      const waiter = nextWaiter(now)
      if (!waiter) {
        setTimer(budget.msUntilReset(now) ?? 1_000)
        return
      }
      const rate = Math.min(baseRate, budget.ratePerSecond(now))
      bucket.setRate(rate, now)
      if (fleet) {
        const untilToken = bucket.msUntilToken(now)
        if (untilToken > 0)
          setTimer(Number.isFinite(untilToken) ? untilToken : (budget.msUntilReset(now) ?? 1_000))
        else askFleet(rate)
        return
      }
      if (!bucket.tryTake(now)) {
        const untilToken = bucket.msUntilToken(now)
        setTimer(Number.isFinite(untilToken) ? untilToken : (budget.msUntilReset(now) ?? 1_000))
        return
      }
      grant(waiter, now)
    }
  }

  /**
   * One question to the fleet bucket at a time. The token goes to whoever is first in line when the answer
   * comes (priorities hold across the wait); with nobody left, it is simply unused.
   */
  function askFleet(rate: number) {
    if (!fleet || fleetAsking) return
    fleetAsking = true
    fleet.take(rate).then(
      (waitMs) => {
        fleetAsking = false
        if (closed) return
        if (waitMs > 0) {
          setTimer(waitMs)
          return
        }
        const now = clock.now()
        const waiter = nextWaiter(now)
        if (waiter) {
          bucket.tryTake(now)
          grant(waiter, now)
        }
        pump()
      },
      () => {
        fleetAsking = false
        stats.fleetErrors += 1
        if (!closed) setTimer(FLEET_RETRY_MS)
      },
    )
  }

  const admit = (priority: Priority) =>
    new Promise<void>((resolve, reject) => {
      if (closed) {
        reject(new Error('the Railway governor is closed'))
        return
      }
      queues[priority].push({ priority, enqueuedAt: clock.now(), resolve, reject })
      pump()
    })

  const shouldRetry = (kind: 'query' | 'mutation', idempotent: boolean) => (error: unknown) => {
    if (closed || !(error instanceof RailwayError) || !error.retryable) return false
    if (error.code === 'PROVIDER_RATE_LIMITED' && (error.retryAfterMs ?? 0) > retry.maxRetryAfterMs)
      return false
    return kind === 'query' || idempotent || !error.mayHaveHappened
  }

  return {
    request(document, variables, requestOptions) {
      const operation = document.operationName
      return withRetries(
        async () => {
          await admit(requestOptions.priority)
          stats.sent += 1
          stats.inFlight += 1
          try {
            const { data, rateLimit } = await sender.send(document, variables)
            count(operation, 'ok')
            observe(rateLimit)
            return data
          } catch (error) {
            if (error instanceof RailwayError) {
              count(operation, error.code)
              if (error.code === 'PROVIDER_RATE_LIMITED') {
                stats.rateLimited += 1
                // Everyone waits, not only this caller: the budget is the token's, not the request's.
                const pauseMs = error.retryAfterMs ?? defaultRetryAfterMs
                bucket.pause(clock.now() + pauseMs)
                fleet?.pause(pauseMs).catch(() => undefined) // best effort: the 429s will tell the others
              }
              observe(error.rateLimit)
            } else {
              count(operation, 'PROVIDER_UNAVAILABLE')
            }
            throw error
          } finally {
            stats.inFlight -= 1
          }
        },
        {
          attempts: retry.attempts,
          baseDelayMs: retry.baseDelayMs,
          maxDelayMs: retry.maxDelayMs,
          shouldRetry: shouldRetry(document.kind, requestOptions.idempotent ?? false),
          onRetry: () => {
            stats.retries += 1
          },
        },
      )
    },

    withCreationSlot(fn) {
      return creations.run(fn)
    },

    stats() {
      const now = clock.now()
      return {
        requests: structuredClone(stats.requests),
        sent: stats.sent,
        rateLimited: stats.rateLimited,
        retries: stats.retries,
        waits: { ...stats.waits },
        tokens: bucket.tokens(now),
        ratePerSecond: Math.min(baseRate, budget.ratePerSecond(now)),
        pausedUntil: bucket.pausedUntil > now ? bucket.pausedUntil : undefined,
        queued: {
          destroy: queues.destroy.length,
          create: queues.create.length,
          status: queues.status.length,
        },
        inFlight: stats.inFlight,
        fleetErrors: stats.fleetErrors,
        creations: { running: creations.running, waiting: creations.waiting, max: creations.max },
        hourly: budget.snapshot(now),
      }
    },

    observe(observer) {
      observers.add(observer)
      return () => {
        observers.delete(observer)
      }
    },

    close() {
      closed = true
      cancelTimer?.()
      cancelTimer = undefined
      for (const priority of PRIORITIES) {
        for (const waiter of queues[priority].splice(0))
          waiter.reject(new Error('the Railway governor is closed'))
      }
    },
  }
}
