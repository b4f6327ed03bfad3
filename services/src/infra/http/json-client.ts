import { Agent, type Dispatcher, errors, request } from 'undici'
import { codeForStatus, ProviderError, parseRetryAfter } from './provider-error.js'

export interface JsonClientOptions {
  /** Provider name for errors and logs, e.g. `openrouter`. */
  provider: string
  /** Base URL without a trailing slash; request paths are appended. */
  baseUrl: string
  /** Headers on every request (the credential). Never logged. */
  headers: Record<string, string>
  /** The undici dispatcher (a shared Agent in production; a MockAgent or a test Agent in tests). */
  dispatcher?: Dispatcher
  /** Time to get the response headers and then the body, each. Default 10 s. */
  timeoutMs?: number
}

export interface JsonRequest {
  /** Names the call in errors and metrics, e.g. `createKey`. */
  operation: string
  method: Dispatcher.HttpMethod
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  headers?: Record<string, string>
}

export interface JsonResponse<T> {
  status: number
  body: T
  headers: Record<string, string | string[] | undefined>
}

export type JsonClient = {
  request<T>(call: JsonRequest): Promise<JsonResponse<T>>
}

const DEFAULT_TIMEOUT_MS = 10_000

/** One keep-alive Agent for every provider unless the caller brings its own (closed with the process). */
export function createProviderAgent(options: { connectTimeoutMs?: number } = {}): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connect: { timeout: options.connectTimeoutMs ?? 5_000 } })
}

/**
 * JSON over HTTP for a REST provider: every non-2xx becomes a coded ProviderError (with the provider's own
 * error code when it can be read, and Retry-After), and so do timeouts and connection failures. The
 * error message never contains the request body or the credential.
 */
export function createJsonClient(options: JsonClientOptions): JsonClient {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return {
    async request<T>(call: JsonRequest): Promise<JsonResponse<T>> {
      const url = new URL(options.baseUrl + call.path)
      for (const [key, value] of Object.entries(call.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value))
      }
      const fail = (
        code: ProviderError['code'],
        message: string,
        extra: Partial<ProviderError> = {},
        cause?: unknown,
      ) =>
        new ProviderError({
          code,
          provider: options.provider,
          operation: call.operation,
          message,
          ...extra,
          cause,
        } as never)

      let response: Dispatcher.ResponseData
      try {
        response = await request(url, {
          method: call.method,
          headers: {
            accept: 'application/json',
            ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
            ...call.headers,
          },
          ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
          headersTimeout: timeout,
          bodyTimeout: timeout,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        })
      } catch (error) {
        if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
          throw fail('PROVIDER_TIMEOUT', `no answer within ${timeout} ms`, {}, error)
        }
        const code = (error as { code?: string }).code ?? 'unknown'
        throw fail('PROVIDER_UNAVAILABLE', `connection failed (${code})`, {}, error)
      }

      let text: string
      try {
        text = await response.body.text()
      } catch (error) {
        const timedOut = error instanceof errors.BodyTimeoutError
        throw fail(
          timedOut ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE',
          'the response body did not arrive',
          {},
          error,
        )
      }
      const body = parseJson(text)
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { status: response.statusCode, body: body as T, headers: response.headers }
      }
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'])
      throw fail(codeForStatus(response.statusCode), `HTTP ${response.statusCode}${describe(body)}`, {
        status: response.statusCode,
        ...(providerCodeOf(body) ? { providerCode: providerCodeOf(body) } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      })
    },
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The provider's own error code, from the shapes the providers use: OpenRouter `{error:{code}}`,
 * AgentMail `{name, code?}`, Telnyx `{errors:[{code}]}`, Bankr `{error}`.
 */
function providerCodeOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const record = body as Record<string, unknown>
  const nested = record.error as Record<string, unknown> | string | undefined
  const first = Array.isArray(record.errors)
    ? (record.errors[0] as Record<string, unknown> | undefined)
    : undefined
  const code =
    record.code ?? (typeof nested === 'object' ? nested?.code : undefined) ?? first?.code ?? record.name
  return code === undefined ? undefined : String(code)
}

/** A short, safe description of an error body: the provider's message, cut to 200 characters. */
function describe(body: unknown): string {
  if (!body || typeof body !== 'object') return ''
  const record = body as Record<string, unknown>
  const nested = record.error as Record<string, unknown> | string | undefined
  const first = Array.isArray(record.errors)
    ? (record.errors[0] as Record<string, unknown> | undefined)
    : undefined
  const message =
    record.message ?? (typeof nested === 'object' ? nested?.message : nested) ?? first?.detail ?? first?.title
  return typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''
}
