/** What one Railway response said about the hourly budget (`X-RateLimit-*`). */
export interface RateLimitInfo {
  /** `X-RateLimit-Limit`: requests per window, when sent. */
  limit?: number
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  remaining: number
  /** When the window resets (epoch ms), from `X-RateLimit-Reset`, when sent and readable. */
  resetAt?: number
}

type Headers = Record<string, string | string[] | undefined>

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.trim()

/**
 * `X-RateLimit-Reset` as epoch ms. Railway does not document its unit (providers.md, open question 1), so
 * every common form is read: epoch milliseconds, epoch seconds, seconds from now, or an HTTP/ISO date.
 */
export function parseReset(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value)
    if (n >= 1e12) return n
    if (n >= 1e9) return n * 1000
    return now + n * 1000
  }
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : date
}

/** The budget headers of a response, or undefined when it carried none (or an unreadable one). */
export function readRateLimit(headers: Headers, now: number): RateLimitInfo | undefined {
  const remainingText = first(headers['x-ratelimit-remaining'])
  if (!remainingText || !/^\d+$/.test(remainingText)) return undefined
  const limitText = first(headers['x-ratelimit-limit'])
  const resetAt = parseReset(first(headers['x-ratelimit-reset']), now)
  return {
    remaining: Number(remainingText),
    ...(limitText && /^\d+$/.test(limitText) ? { limit: Number(limitText) } : {}),
    ...(resetAt !== undefined ? { resetAt } : {}),
  }
}
