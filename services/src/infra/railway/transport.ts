import { type Dispatcher, errors, Pool } from 'undici'
import { parseRetryAfter } from '../http/provider-error.js'
import type { GraphqlDocument } from './documents.js'
import {
  codeForResponse,
  describeErrors,
  type GraphqlErrorSummary,
  RailwayError,
  type RailwayErrorOptions,
} from './railway-error.js'
import { type RateLimitInfo, readRateLimit } from './rate-limit-headers.js'

export interface TransportOptions {
  /** The GraphQL endpoint, e.g. `https://backboard.railway.com/graphql/v2`. */
  apiUrl: string
  /** An account or workspace token, sent as `Authorization: Bearer`. Never logged. */
  token: string
  /** Instead of the transport's own Pool (tests: a MockAgent). The caller closes it. */
  dispatcher?: Dispatcher
  /** Time to open a connection. Default 5 s. */
  connectTimeoutMs?: number
  /** Time for the response headers, and then again for the body. Default 30 s (projectCreate can be slow). */
  requestTimeoutMs?: number
  /** Sockets kept to Railway. Default 50: about the requests in flight at 45 req/s and 1 s latency. */
  connections?: number
  /** Epoch ms now; for reading `X-RateLimit-Reset` given in seconds from now. */
  now?: () => number
}

export interface TransportResult<Result> {
  data: Result
  /** The hourly budget this response reported, for the governor. */
  rateLimit: RateLimitInfo | undefined
}

/** Sends one GraphQL document, once. The governor decides when, and whether to send it again. */
export interface RailwaySender {
  send<Variables, Result>(
    document: GraphqlDocument<Variables, Result>,
    variables: Variables,
  ): Promise<TransportResult<Result>>
}

export interface RailwayTransport extends RailwaySender {
  /** Closes the connections (only the transport's own Pool, never an injected dispatcher). */
  close(): Promise<void>
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** Failures that happen before a byte of the request can have reached Railway. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * Railway's GraphQL endpoint over one keep-alive undici Pool. Every failure becomes a RailwayError: a
 * non-2xx answer, a 200 carrying `errors[]`, a 2xx without usable `data`, a timeout or a broken connection.
 * Errors say whether Railway may have done the work (`mayHaveHappened`), which decides retries of mutations.
 */
export function createTransport(options: TransportOptions): RailwayTransport {
  const url = new URL(options.apiUrl)
  const origin = url.origin
  const path = url.pathname + url.search
  const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const now = options.now ?? Date.now
  const ownPool = options.dispatcher
    ? undefined
    : new Pool(origin, {
        connections: options.connections ?? 50,
        keepAliveTimeout: 10_000,
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
  const dispatcher: Dispatcher = options.dispatcher ?? (ownPool as Pool)
  const headers = {
    authorization: `Bearer ${options.token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  }

  return {
    async send<Variables, Result>(
      document: GraphqlDocument<Variables, Result>,
      variables: Variables,
    ): Promise<TransportResult<Result>> {
      const operation = document.operationName
      const fail = (failure: Omit<RailwayErrorOptions, 'operation'>) =>
        new RailwayError({ operation, ...failure })

      let response: Dispatcher.ResponseData
      try {
        response = await dispatcher.request({
          origin,
          path,
          method: 'POST',
          headers,
          body: JSON.stringify({ query: document.source, variables, operationName: operation }),
          headersTimeout: timeout,
          bodyTimeout: timeout,
        })
      } catch (error) {
        throw fail(connectionFailure(error, timeout))
      }

      const rateLimit = readRateLimit(response.headers, now())
      let text: string
      try {
        text = await response.body.text()
      } catch (error) {
        const timedOut = error instanceof errors.BodyTimeoutError
        throw fail({
          code: timedOut ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE',
          message: 'the response body did not arrive',
          status: response.statusCode,
          mayHaveHappened: true,
          ...(rateLimit ? { rateLimit } : {}),
          cause: error,
        })
      }

      const status = response.statusCode
      const body = parseJson(text)
      const graphqlErrors = errorsOf(body)
      const ok = status >= 200 && status < 300
      if (ok && graphqlErrors.length === 0) {
        const data = (body as { data?: unknown } | undefined)?.data
        if (data && typeof data === 'object') return { data: data as Result, rateLimit }
        throw fail({
          code: 'PROVIDER_BAD_RESPONSE',
          message: `HTTP ${status} without data or errors`,
          status,
          mayHaveHappened: true,
          ...(rateLimit ? { rateLimit } : {}),
        })
      }

      const code = codeForResponse(status, graphqlErrors)
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'])
      throw fail({
        code,
        message: describeErrors(code, status, graphqlErrors),
        status,
        errors: graphqlErrors,
        // A 5xx may come after the work was done; so may an internal error in a 200.
        mayHaveHappened: status >= 500 || code === 'PROVIDER_UNAVAILABLE' || code === 'PROVIDER_TIMEOUT',
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(rateLimit ? { rateLimit } : {}),
      })
    },

    async close() {
      await ownPool?.close()
    },
  }
}

/** A request that got no HTTP answer: did it reach Railway? */
function connectionFailure(error: unknown, timeoutMs: number): Omit<RailwayErrorOptions, 'operation'> {
  const code = (error as { code?: string }).code ?? 'unknown'
  if (error instanceof errors.ConnectTimeoutError) {
    return {
      code: 'PROVIDER_TIMEOUT',
      message: 'could not connect in time',
      mayHaveHappened: false,
      cause: error,
    }
  }
  if (NOT_SENT_CODES.has(code)) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: `could not connect (${code})`,
      mayHaveHappened: false,
      cause: error,
    }
  }
  if (error instanceof errors.ClientClosedError || error instanceof errors.ClientDestroyedError) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: 'the transport is closed',
      mayHaveHappened: false,
      cause: error,
    }
  }
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return {
      code: 'PROVIDER_TIMEOUT',
      message: `no answer within ${timeoutMs} ms`,
      mayHaveHappened: true,
      cause: error,
    }
  }
  // Reset or closed after the request went out: Railway may have done the work.
  return {
    code: 'PROVIDER_UNAVAILABLE',
    message: `connection failed (${code})`,
    mayHaveHappened: true,
    cause: error,
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** `errors[]` of a GraphQL body: message cut to 300 characters, `extensions.code`, `path`. */
function errorsOf(body: unknown): GraphqlErrorSummary[] {
  const list = (body as { errors?: unknown } | undefined)?.errors
  if (!Array.isArray(list)) return []
  return list.map((entry) => {
    const record = (entry ?? {}) as { message?: unknown; extensions?: { code?: unknown }; path?: unknown }
    const code = record.extensions?.code
    return {
      message: typeof record.message === 'string' ? record.message.slice(0, 300) : 'unknown error',
      ...(typeof code === 'string' ? { code } : {}),
      ...(Array.isArray(record.path) ? { path: record.path as (string | number)[] } : {}),
    }
  })
}
