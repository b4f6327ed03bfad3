import { ProblemError } from '../http/problem.js'
import { ProviderError } from '../infra/http/provider-error.js'

/**
 * The work stopped without failing: the server is shutting down, or a destroy asked the creation to
 * stop. Nothing is recorded as failed; the step stays `running` and is resumed (or undone) later.
 */
export class Interrupted extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'Interrupted'
  }
}

/** A failure no retry will fix (e.g. the deployment FAILED). */
export class PermanentFailure extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'PermanentFailure'
    this.code = code
  }
}

export interface FailureInfo {
  code: string
  /** Safe to store and show: provider errors carry no secrets; anything unknown is not quoted. */
  message: string
  retryable: boolean
}

export function describeFailure(error: unknown): FailureInfo {
  if (error instanceof ProviderError) {
    return { code: error.code, message: error.message, retryable: error.retryable }
  }
  if (error instanceof PermanentFailure) return { code: error.code, message: error.message, retryable: false }
  if (error instanceof ProblemError) return { code: error.code, message: error.message, retryable: false }
  // A bug or a database hiccup: worth another try, and the details belong in the log, not in the row.
  return {
    code: 'INTERNAL',
    message: 'an internal error occurred; the server log has the details',
    retryable: true,
  }
}
