import { STATUS_CODES } from 'node:http'

/** Where a validation error was found; mirrors the spec's `FieldError.in`. */
export type FieldLocation = 'body' | 'params' | 'querystring' | 'headers'

export interface FieldError {
  in: FieldLocation
  pointer: string
  message: string
}

/** The RFC 9457 body every 4xx/5xx carries (the spec's `Problem`). */
export interface Problem {
  type: string
  title: string
  status: number
  code: string
  detail?: string
  instance?: string
  requestId?: string
  errors?: FieldError[]
}

/** Escapes one JSON-pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export const escapePointerSegment = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1')

const PROBLEM_TYPE_BASE = 'https://agent-pool.dev/problems/'

/**
 * An error a handler throws to answer with a problem document. Its `code` is the stable value clients
 * branch on; `detail` is for humans and must never carry secrets.
 */
export class ProblemError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly headers: Record<string, string>
  readonly errors: FieldError[] | undefined

  constructor(
    statusCode: number,
    code: string,
    detail: string,
    options: { headers?: Record<string, string>; errors?: FieldError[]; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause })
    this.name = 'ProblemError'
    this.statusCode = statusCode
    this.code = code
    this.headers = options.headers ?? {}
    this.errors = options.errors
  }
}

/** Builds the problem document for a status, code and detail. */
export function problemBody(
  status: number,
  code: string,
  detail: string,
  extra: { instance?: string; requestId?: string; errors?: FieldError[] } = {},
): Problem {
  return {
    type: PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-'),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  }
}

export const unauthorized = (detail: string) =>
  new ProblemError(401, 'UNAUTHORIZED', detail, { headers: { 'www-authenticate': 'Bearer' } })

export const forbidden = (detail: string) => new ProblemError(403, 'FORBIDDEN', detail)

export const notReady = (detail: string, retryAfterSeconds: number) =>
  new ProblemError(503, 'NOT_READY', detail, { headers: { 'retry-after': String(retryAfterSeconds) } })
