/**
 * AgentMail's error body: `{name, code, message, docs}`; validation errors add `errors: [{path, message}]`.
 * `code` is the stable value callers branch on; the names follow the pre-`code` values AgentMail kept for
 * compatibility (Fern: ValidationError, IsTakenError, NotFoundError...). Names not published are [I].
 */
export interface AgentMailError {
  name: string
  code: string
  message: string
  docs: string
  errors?: Array<{ path: Array<string | number>; message: string }>
}

const NAME_BY_CODE: Record<string, string> = {
  validation_error: 'ValidationError',
  missing_authorization: 'UnauthorizedError',
  unknown_api_key: 'UnauthorizedError',
  forbidden: 'ForbiddenError',
  resource_taken: 'IsTakenError',
  limit_exceeded: 'LimitExceededError',
  not_found: 'NotFoundError',
  conflict: 'ConflictError',
  unprocessable: 'UnprocessableError',
  rate_limit_exceeded: 'RateLimitError',
  internal_error: 'InternalServerError',
  service_unavailable: 'ServiceUnavailableError',
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'validation_error',
  401: 'unknown_api_key',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'unprocessable',
  429: 'rate_limit_exceeded',
  503: 'service_unavailable',
}

export function agentMailError(code: string, message: string, path?: Array<string | number>): AgentMailError {
  const body: AgentMailError = {
    name: NAME_BY_CODE[code] ?? 'Error',
    code,
    message,
    docs: `https://docs.agentmail.to/errors#${code}`,
  }
  // The document requires `errors` on every validation error body.
  if (code === 'validation_error') body.errors = [{ path: path ?? [], message }]
  return body
}

/** The body for an error known only by its status (injected faults, framework errors). */
export function errorBodyForStatus(status: number, message: string): AgentMailError {
  return agentMailError(
    CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_error'),
    message,
  )
}
