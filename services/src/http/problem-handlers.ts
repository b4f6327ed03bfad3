import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ProviderError } from '../infra/http/provider-error.js'
import {
  escapePointerSegment,
  type FieldError,
  type FieldLocation,
  ProblemError,
  problemBody,
} from './problem.js'

const MAX_FIELD_ERRORS = 20

/** Fastify's own error codes mapped to the contract's status and code. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'the body must be application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'the body is over the size limit',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'EMPTY_BODY',
    detail: 'Content-Type is application/json but the body is empty',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    detail: 'the body is not valid JSON',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'Content-Length does not match the body',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST', detail: 'the URL is malformed' },
}

/** Status codes a client error from elsewhere in the stack may carry, with their stable codes. */
const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
}

interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/** One `FieldError` per Ajv error, pointing at the offending field (the missing or extra one included). */
export function fieldErrors(location: FieldLocation, errors: AjvError[]): FieldError[] {
  return errors.slice(0, MAX_FIELD_ERRORS).map((error) => {
    const extra = error.params.missingProperty ?? error.params.additionalProperty
    const pointer =
      typeof extra === 'string' ? `${error.instancePath}/${escapePointerSegment(extra)}` : error.instancePath
    const message =
      error.keyword === 'additionalProperties' ? 'is not allowed' : (error.message ?? 'is invalid')
    return { in: location, pointer, message }
  })
}

/**
 * A provider call that failed under a request: 504 when it timed out, 503 (with Retry-After) when the
 * provider or its rate limit asks us to wait, 502 otherwise. The provider's own message may quote our
 * request, so the detail names only the provider, the operation and the code.
 */
function providerProblem(error: ProviderError): ProblemError {
  const detail = `${error.provider} ${error.operation} failed (${error.code})`
  if (error.code === 'PROVIDER_TIMEOUT')
    return new ProblemError(504, 'PROVIDER_TIMEOUT', detail, { cause: error })
  if (error.retryable) {
    const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1_000) / 1_000))
    return new ProblemError(503, 'PROVIDER_UNAVAILABLE', detail, {
      headers: { 'retry-after': String(seconds) },
      cause: error,
    })
  }
  return new ProblemError(502, 'PROVIDER_FAILED', detail, { cause: error })
}

/** Turns any error into the problem it should be: known ones keep their 4xx, the rest are 500s. */
function toProblemError(error: FastifyError | ProblemError | Error): ProblemError {
  if (error instanceof ProblemError) return error
  if (error instanceof ProviderError) return providerProblem(error)
  const fastifyError = error as FastifyError & { validation?: AjvError[] }
  if (fastifyError.validation) {
    const location = (fastifyError.validationContext ?? 'body') as FieldLocation
    const errors = fieldErrors(location, fastifyError.validation)
    const first = errors[0]
    const detail = first ? `${location}${first.pointer} ${first.message}` : `${location} is invalid`
    return new ProblemError(400, 'VALIDATION_FAILED', detail, { errors })
  }
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined
  if (known) return new ProblemError(known.status, known.code, known.detail)
  const status = fastifyError.statusCode
  if (status && status >= 400 && status < 500) {
    return new ProblemError(status, CLIENT_ERROR_CODES[status] ?? 'BAD_REQUEST', 'the request was refused')
  }
  return new ProblemError(500, 'INTERNAL', 'an internal error occurred; the server log has the details', {
    cause: error,
  })
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError) {
  return reply
    .code(problem.statusCode)
    .headers(problem.headers)
    .type('application/problem+json')
    .send(
      problemBody(problem.statusCode, problem.code, problem.message, {
        instance: request.url.split('?')[0],
        requestId: String(request.id),
        ...(problem.errors ? { errors: problem.errors } : {}),
      }),
    )
}

/**
 * Every error and every unknown route becomes `application/problem+json`. Server errors are logged
 * with their cause and answered without it.
 */
export function registerProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblemError(error as Error)
    if (problem.code === 'INTERNAL') request.log.error({ err: error }, problem.message)
    else if (problem.statusCode >= 500)
      request.log.warn({ code: problem.code, err: problem.cause }, problem.message)
    else request.log.info({ code: problem.code, status: problem.statusCode }, problem.message)
    return sendProblem(request, reply, problem)
  })

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new ProblemError(404, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  )
}
