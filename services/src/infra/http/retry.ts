import { setTimeout as sleep } from 'node:timers/promises'
import { ProviderError } from './provider-error.js'

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  signal?: AbortSignal
  /** Whether this error may be retried (default: a retryable ProviderError). */
  shouldRetry?: (error: unknown) => boolean
  /** Called before each wait, e.g. to log or count. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

const defaultShouldRetry = (error: unknown) => error instanceof ProviderError && error.retryable

/**
 * Runs `fn` until it succeeds, the error is not retryable, or attempts run out. Waits full-jitter
 * exponential backoff between attempts, or the provider's Retry-After when it gave one (whichever is
 * longer), so a fleet of callers does not retry in lockstep.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? defaultShouldRetry
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= options.attempts || !shouldRetry(error)) throw error
      const backoff = Math.random() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
      const retryAfter = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0
      const delay = Math.max(backoff, retryAfter)
      options.onRetry?.(error, attempt, delay)
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined)
    }
  }
}
