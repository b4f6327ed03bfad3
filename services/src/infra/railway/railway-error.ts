import { codeForStatus, ProviderError, type ProviderErrorCode } from '../http/provider-error.js'
import type { RateLimitInfo } from './rate-limit-headers.js'

/** One entry of a GraphQL `errors[]`, cut down to what is safe to keep and log. */
export interface GraphqlErrorSummary {
  message: string
  /** `extensions.code`: GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT, INTERNAL_SERVER_ERROR… */
  code?: string
  /** Where in the result it happened, e.g. `['s3']` for the fourth service of a status batch. */
  path?: (string | number)[]
}

export interface RailwayErrorOptions {
  code: ProviderErrorCode
  operation: string
  message: string
  status?: number
  errors?: GraphqlErrorSummary[]
  retryAfterMs?: number
  rateLimit?: RateLimitInfo
  /**
   * Whether Railway may have done the work although we got no success: a timeout or reset after the
   * request was sent, a 5xx, an internal error. False when it provably did not (never connected, 429,
   * a validation failure, a refusal). A mutation with `mayHaveHappened` is never retried blindly: the
   * caller looks it up.
   */
  mayHaveHappened: boolean
  cause?: unknown
}

/** A failed Railway call: a non-2xx answer, a 200 carrying `errors[]`, or no usable answer at all. */
export class RailwayError extends ProviderError {
  readonly errors: readonly GraphqlErrorSummary[]
  readonly rateLimit: RateLimitInfo | undefined
  readonly mayHaveHappened: boolean

  constructor(options: RailwayErrorOptions) {
    const first = options.errors?.[0]
    super({
      code: options.code,
      provider: 'railway',
      operation: options.operation,
      message: options.message,
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(first?.code ? { providerCode: first.code } : {}),
      ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
      cause: options.cause,
    })
    this.name = 'RailwayError'
    this.errors = options.errors ?? []
    this.rateLimit = options.rateLimit
    this.mayHaveHappened = options.mayHaveHappened
  }
}

const NOT_AUTHORIZED = /not authori[sz]ed/i
const TWO_FACTOR = /two factor authentication required/i
const NOT_FOUND = /not found|does not exist/i

/**
 * The code for a GraphQL `errors[]` (HTTP 200 execution errors, or 400 parse/validation). The first error
 * that says something decisive wins, in this order: refusal, validation, not found, internal.
 */
export function codeForGraphqlErrors(errors: readonly GraphqlErrorSummary[]): ProviderErrorCode {
  if (errors.some((e) => NOT_AUTHORIZED.test(e.message) || TWO_FACTOR.test(e.message))) {
    return 'PROVIDER_UNAUTHORIZED'
  }
  if (errors.some((e) => e.code === 'GRAPHQL_VALIDATION_FAILED' || e.code === 'GRAPHQL_PARSE_FAILED')) {
    return 'PROVIDER_REJECTED'
  }
  if (
    errors.some((e) => NOT_FOUND.test(e.message) && (e.code === undefined || e.code === 'BAD_USER_INPUT'))
  ) {
    return 'PROVIDER_NOT_FOUND'
  }
  if (errors.some((e) => e.code === 'INTERNAL_SERVER_ERROR')) return 'PROVIDER_UNAVAILABLE'
  return 'PROVIDER_REJECTED'
}

/** The code for an HTTP answer: the status decides, except a 400 whose body names the GraphQL failure. */
export function codeForResponse(status: number, errors: readonly GraphqlErrorSummary[]): ProviderErrorCode {
  if (status >= 200 && status < 300) return codeForGraphqlErrors(errors)
  if (status === 400 && errors.length > 0) return codeForGraphqlErrors(errors)
  // Resources are never HTTP 404s in GraphQL: a 404 means the endpoint URL is wrong. Calling it "not
  // found" would let a destroy believe a project is gone when nothing was deleted.
  if (status === 404) return 'PROVIDER_REJECTED'
  return codeForStatus(status)
}

/** Plain words for an error a person will read in a log or a problem document. */
export function describeErrors(
  code: ProviderErrorCode,
  status: number,
  errors: readonly GraphqlErrorSummary[],
): string {
  const said = errors
    .slice(0, 3)
    .map((e) => (e.code ? `${e.message} (${e.code})` : e.message))
    .join('; ')
  switch (code) {
    case 'PROVIDER_UNAUTHORIZED':
      return `Railway refused the request (${said || `HTTP ${status}`}): RAILWAY_API_TOKEN is wrong, expired, or cannot access this workspace or resource`
    case 'PROVIDER_REJECTED':
      return status === 400
        ? `Railway rejected the GraphQL document (${said || 'HTTP 400'}): a bug in services, not retried`
        : status === 404
          ? 'Railway answered HTTP 404: RAILWAY_API_URL is not the GraphQL endpoint (…/graphql/v2)'
          : `Railway rejected the request: ${said || `HTTP ${status}`}`
    case 'PROVIDER_NOT_FOUND':
      return `Railway does not know this resource: ${said || `HTTP ${status}`}`
    case 'PROVIDER_RATE_LIMITED':
      return `Railway rate limit reached (HTTP ${status})`
    default:
      return said ? `HTTP ${status}: ${said}` : `HTTP ${status}`
  }
}
