import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Agent } from 'undici'
import { createJsonClient } from '../../../src/infra/http/json-client.js'
import { ProviderError, parseRetryAfter } from '../../../src/infra/http/provider-error.js'
import { withRetries } from '../../../src/infra/http/retry.js'

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void

/** A real HTTP server on loopback whose answer each test sets. */
async function startServer(t: { teardown(fn: () => void): void }, handler: { current: Handler }) {
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => handler.current(request, response, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const json = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(body))
}

t.test('JSON round trip with the credential header, query and body', async (t) => {
  const handler = {
    current: ((request, response, body) =>
      json(response, 201, {
        got: JSON.parse(body),
        url: request.url,
        auth: request.headers.authorization,
      })) as Handler,
  }
  const baseUrl = await startServer(t, handler)
  const client = createJsonClient({ provider: 'demo', baseUrl, headers: { authorization: 'Bearer s3cret' } })
  const result = await client.request<{ got: unknown; url: string; auth: string }>({
    operation: 'createThing',
    method: 'POST',
    path: '/things',
    query: { limit: 5, skip: undefined },
    body: { name: 'a' },
  })
  t.equal(result.status, 201)
  t.same(result.body, { got: { name: 'a' }, url: '/things?limit=5', auth: 'Bearer s3cret' })
})

t.test('every failure becomes a coded ProviderError without the credential or the body', async (t) => {
  const handler: { current: Handler } = { current: () => {} }
  const baseUrl = await startServer(t, handler)
  const client = createJsonClient({
    provider: 'demo',
    baseUrl,
    headers: { authorization: 'Bearer s3cret' },
    timeoutMs: 300,
  })
  const cases: Array<[string, Handler, string, Partial<ProviderError>]> = [
    [
      'OpenRouter-shaped 404',
      (_q, r) => json(r, 404, { error: { code: 404, message: 'Key not found' } }),
      'PROVIDER_NOT_FOUND',
      { status: 404, providerCode: '404' },
    ],
    [
      'AgentMail-shaped 403',
      (_q, r) => json(r, 403, { name: 'IsTakenError', code: 'resource_taken', message: 'taken' }),
      'PROVIDER_UNAUTHORIZED',
      { providerCode: 'resource_taken' },
    ],
    [
      'Telnyx-shaped 429',
      (_q, r) =>
        json(r, 429, { errors: [{ code: '10011', title: 'Too many requests' }] }, { 'retry-after': '2' }),
      'PROVIDER_RATE_LIMITED',
      { retryAfterMs: 2000, providerCode: '10011' },
    ],
    ['5xx', (_q, r) => json(r, 503, { error: 'down' }), 'PROVIDER_UNAVAILABLE', { status: 503 }],
    ['other 4xx', (_q, r) => json(r, 422, { message: 'bad' }), 'PROVIDER_REJECTED', { status: 422 }],
    ['hang', () => {}, 'PROVIDER_TIMEOUT', {}],
    ['reset', (request) => request.socket.destroy(), 'PROVIDER_UNAVAILABLE', {}],
  ]
  for (const [name, answer, code, fields] of cases) {
    handler.current = answer
    const error = await client
      .request({ operation: 'op', method: 'POST', path: '/x', body: { password: 'hunter2' } })
      .catch((e) => e)
    t.ok(error instanceof ProviderError, `${name}: ProviderError`)
    t.equal(error.code, code, `${name}: ${code}`)
    t.match(error, fields, `${name}: fields`)
    t.notMatch(error.message, /s3cret|hunter2/, `${name}: nothing secret in the message`)
  }
})

t.test('connection refused is PROVIDER_UNAVAILABLE and retryable', async (t) => {
  const client = createJsonClient({
    provider: 'demo',
    baseUrl: 'http://127.0.0.1:1',
    headers: {},
    dispatcher: new Agent(),
  })
  const error = await client.request({ operation: 'op', method: 'GET', path: '/' }).catch((e) => e)
  t.equal(error.code, 'PROVIDER_UNAVAILABLE')
  t.equal(error.retryable, true)
})

t.test('withRetries retries retryable errors, honours Retry-After, and stops on the others', async (t) => {
  const unavailable = new ProviderError({
    code: 'PROVIDER_UNAVAILABLE',
    provider: 'p',
    operation: 'o',
    message: 'm',
  })
  let calls = 0
  const value = await withRetries(
    async () => {
      calls += 1
      if (calls < 3) throw unavailable
      return 'done'
    },
    { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
  )
  t.equal(value, 'done')
  t.equal(calls, 3)

  const rejected = new ProviderError({
    code: 'PROVIDER_REJECTED',
    provider: 'p',
    operation: 'o',
    message: 'm',
  })
  calls = 0
  await t.rejects(
    withRetries(
      async () => {
        calls += 1
        throw rejected
      },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
    ),
  )
  t.equal(calls, 1, 'a non-retryable error is not retried')

  calls = 0
  await t.rejects(
    withRetries(
      async () => {
        calls += 1
        throw unavailable
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    ),
  )
  t.equal(calls, 3, 'attempts are bounded')

  const limited = new ProviderError({
    code: 'PROVIDER_RATE_LIMITED',
    provider: 'p',
    operation: 'o',
    message: 'm',
    retryAfterMs: 200,
  })
  const waits: number[] = []
  calls = 0
  await withRetries(
    async () => {
      calls += 1
      if (calls === 1) throw limited
      return 1
    },
    { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, onRetry: (_e, _a, delay) => waits.push(delay) },
  )
  t.same(waits, [200], 'waits the Retry-After, not the shorter backoff')
})

t.test('parseRetryAfter reads seconds and HTTP dates', async (t) => {
  t.equal(parseRetryAfter('3'), 3000)
  t.equal(parseRetryAfter('0.5'), 500)
  t.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000)
  t.equal(parseRetryAfter('soon'), undefined)
  t.equal(parseRetryAfter(undefined), undefined)
})
