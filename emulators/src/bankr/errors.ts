/**
 * Bankr's error bodies. Documented: `{error}` with the partner-key messages, and a 429 body
 * `{error, message, resetAt, limit, used}` (the user API's daily limit, BankrBot/skills SKILL.md). The
 * messages of other statuses are not published.
 */
export interface BankrError {
  error: string
  message?: string
}

export interface BankrRateLimitError extends BankrError {
  message: string
  resetAt: string
  limit: number
  used: number
}

export function bankrError(error: string, message?: string): BankrError {
  return message === undefined ? { error } : { error, message }
}

export function rateLimitError(resetAt: Date, limit: number, used: number): BankrRateLimitError {
  return {
    error: 'Rate limit exceeded',
    message: `Too many requests. Try again after ${resetAt.toISOString()}.`,
    resetAt: resetAt.toISOString(),
    limit,
    used,
  }
}

/** The body for an error known only by its status (injected faults, framework errors). */
export function errorBodyForStatus(status: number, message: string): BankrError {
  // UNDOCUMENTED: emulated plausibly — an injected 429 storm has no counter, so it reports a one-minute window.
  if (status === 429) return rateLimitError(new Date(Date.now() + 60_000), 0, 0)
  if (status >= 500) return bankrError('Internal server error', message)
  return bankrError(message)
}
