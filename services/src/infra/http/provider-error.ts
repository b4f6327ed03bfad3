/** Stable codes of a failed provider call; the lifecycle decides retry or compensation from them. */
export type ProviderErrorCode =
  | 'PROVIDER_UNAVAILABLE' // connection refused/reset, or a 5xx: retryable
  | 'PROVIDER_TIMEOUT' // no answer in time: retryable, but the call may have happened
  | 'PROVIDER_RATE_LIMITED' // 429: retryable after `retryAfterMs`
  | 'PROVIDER_NOT_FOUND' // 404: for a delete, the resource is gone
  | 'PROVIDER_UNAUTHORIZED' // 401/403: our credential is wrong; not retryable
  | 'PROVIDER_REJECTED' // any other 4xx: the request itself is wrong; not retryable
  | 'PROVIDER_BAD_RESPONSE' // 2xx with a body we cannot use

const RETRYABLE = new Set<ProviderErrorCode>([
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'PROVIDER_RATE_LIMITED',
])

/**
 * A provider call that failed. Carries what a caller needs to decide (code, status, the provider's own
 * error code, Retry-After) and a message safe to log: never a request body, a credential or a secret.
 */
export class ProviderError extends Error {
  readonly code: ProviderErrorCode
  readonly provider: string
  readonly operation: string
  readonly status: number | undefined
  readonly providerCode: string | undefined
  readonly retryAfterMs: number | undefined

  constructor(options: {
    code: ProviderErrorCode
    provider: string
    operation: string
    message: string
    status?: number
    providerCode?: string
    retryAfterMs?: number
    cause?: unknown
  }) {
    super(`${options.provider} ${options.operation}: ${options.message}`, { cause: options.cause })
    this.name = 'ProviderError'
    this.code = options.code
    this.provider = options.provider
    this.operation = options.operation
    this.status = options.status
    this.providerCode = options.providerCode
    this.retryAfterMs = options.retryAfterMs
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code)
  }
}

/** The error code for an HTTP status a provider answered with. */
export function codeForStatus(status: number): ProviderErrorCode {
  if (status === 404) return 'PROVIDER_NOT_FOUND'
  if (status === 401 || status === 403) return 'PROVIDER_UNAUTHORIZED'
  if (status === 408) return 'PROVIDER_TIMEOUT'
  if (status === 429) return 'PROVIDER_RATE_LIMITED'
  if (status >= 500) return 'PROVIDER_UNAVAILABLE'
  return 'PROVIDER_REJECTED'
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
