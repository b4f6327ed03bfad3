import type { FastifyInstance, FastifyRequest } from 'fastify'
import { execute, type GraphQLSchema, validate } from 'graphql'
import { errorBody, formatError, newTraceId } from './errors.js'
import { PeakMeter, type RateLimiter } from './rate-limit.js'
import { GRAPHQL_PATH, parseRequest } from './request.js'
import type { RailwayState } from './state.js'

export interface GraphqlRouteOptions {
  schema: GraphQLSchema
  state: RailwayState
  tokens: string[]
  limiter: RateLimiter | undefined
}

export interface GraphqlCounters {
  requests: number
  rateLimited: number
  readonly peak: PeakMeter
}

/**
 * `POST /graphql/v2` as Backboard answers it: per-token rate limits (429 + Retry-After, nothing done),
 * 400 for documents that do not parse or validate, 200 with `errors` for a bad token and for execution
 * errors, every error with `extensions.code` and `traceId`.
 */
export function registerGraphqlRoute(app: FastifyInstance, options: GraphqlRouteOptions): GraphqlCounters {
  const { schema, state, tokens, limiter } = options
  const counters: GraphqlCounters = { requests: 0, rateLimited: 0, peak: new PeakMeter() }

  app.register(async (scope) => {
    scope.setErrorHandler(async (error: { statusCode?: number; message: string }, _request, reply) => {
      // Fastify's own rejections (bad JSON, wrong content type) in the GraphQL shape.
      const status = error.statusCode ?? 500
      const code = status < 500 ? 'GRAPHQL_PARSE_FAILED' : 'INTERNAL_SERVER_ERROR'
      return reply.code(status).send(errorBody(error.message, code, newTraceId()))
    })

    // Before everything else (latency, faults): a rejected request must do nothing.
    scope.addHook('onRequest', async (request, reply) => {
      counters.requests += 1
      const now = performance.now()
      if (!limiter) {
        counters.peak.record(now)
        return
      }
      const decision = limiter.take(request.headers.authorization ?? `ip:${request.ip}`, now)
      reply.headers(decision.headers)
      if (decision.allowed) {
        counters.peak.record(now)
        return
      }
      return reply
        .code(429)
        .header('retry-after', String(decision.retryAfterSeconds))
        .send(errorBody('Rate limit exceeded', undefined, newTraceId()))
    })

    scope.addHook('onResponse', async (_request, reply) => {
      if (reply.statusCode === 429) counters.rateLimited += 1
    })

    scope.post(GRAPHQL_PATH, { config: { operation: 'graphql' } }, async (request, reply) => {
      const traceId = newTraceId()
      const parsed = parseRequest(request)
      if (!parsed.ok) {
        return reply.code(400).send({ errors: [formatError(parsed.error, traceId, 'GRAPHQL_PARSE_FAILED')] })
      }
      const invalid = validate(schema, parsed.document)
      if (invalid.length > 0) {
        return reply
          .code(400)
          .send({ errors: invalid.map((error) => formatError(error, traceId, 'GRAPHQL_VALIDATION_FAILED')) })
      }
      if (!authorized(request, tokens))
        return reply.send(errorBody('Not Authorized', 'INTERNAL_SERVER_ERROR', traceId))
      const { variables, operationName } = parsed.body
      if (
        variables !== undefined &&
        variables !== null &&
        (typeof variables !== 'object' || Array.isArray(variables))
      ) {
        return reply.code(400).send(errorBody('`variables` must be an object', 'BAD_USER_INPUT', traceId))
      }
      const result = await execute({
        schema,
        document: parsed.document,
        variableValues: variables as Record<string, unknown> | null | undefined,
        operationName: operationName ?? null,
        contextValue: state,
      })
      // No `data` at all: the request could not start (bad variable values, unknown operation name).
      if (!('data' in result)) {
        return reply.code(400).send({
          errors: (result.errors ?? []).map((error) => formatError(error, traceId, 'BAD_USER_INPUT')),
        })
      }
      const errors = result.errors?.map((error) => formatError(error, traceId))
      return reply.send(errors ? { data: result.data, errors } : { data: result.data })
    })
  })

  return counters
}

function authorized(request: FastifyRequest, tokens: string[]): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')
  return match?.[1] !== undefined && tokens.includes(match[1].trim())
}
