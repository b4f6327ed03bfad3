import { createServer } from 'node:net'
import t from 'tap'
import { errors, MockAgent } from 'undici'
import { GetWorkspace } from '../../../src/infra/railway/documents.js'
import { createGovernor } from '../../../src/infra/railway/governor.js'
import { RailwayError } from '../../../src/infra/railway/railway-error.js'
import { parseReset } from '../../../src/infra/railway/rate-limit-headers.js'
import { createTransport } from '../../../src/infra/railway/transport.js'
import { rejectionOf } from '../../helpers/rejection.js'
import { type Reply, startScriptedServer } from './helpers/graphql-server.js'

const TOKEN = 'railway-test-token-0123456789'
const variables = { workspaceId: 'ws-1' }

const failureOf = (promise: Promise<unknown>) => rejectionOf(promise, RailwayError)

t.test('a success: bearer token, the document and its variables, the budget headers', async (t) => {
  const server = await startScriptedServer(t, () => ({
    status: 200,
    headers: { 'x-ratelimit-limit': '10000', 'x-ratelimit-remaining': '9876', 'x-ratelimit-reset': '120' },
    body: { data: { workspace: { id: 'ws-1', name: 'Acme' } } },
  }))
  const now = 1_700_000_000_000
  const transport = createTransport({ apiUrl: server.url, token: TOKEN, now: () => now })
  t.teardown(() => transport.close())

  const result = await transport.send(GetWorkspace, variables)
  t.same(result.data, { workspace: { id: 'ws-1', name: 'Acme' } })
  t.same(result.rateLimit, { limit: 10_000, remaining: 9876, resetAt: now + 120_000 })
  const [request] = server.received
  t.equal(request?.headers.authorization, `Bearer ${TOKEN}`)
  t.equal(request?.headers['content-type'], 'application/json')
  t.same(request?.body, { query: GetWorkspace.source, variables, operationName: 'GetWorkspace' })
})

interface Case {
  name: string
  reply: Reply
  code: RailwayError['code']
  mayHaveHappened: boolean
  retryable: boolean
  message?: RegExp
  retryAfterMs?: number
}

const gqlError = (message: string, code?: string, extra: Record<string, unknown> = {}) => ({
  message,
  ...extra,
  ...(code ? { extensions: { code, traceId: 'abc' } } : {}),
})

const cases: Case[] = [
  {
    name: '200 + Not Authorized → UNAUTHORIZED, in plain words',
    reply: {
      status: 200,
      body: { data: null, errors: [gqlError('Not Authorized', 'INTERNAL_SERVER_ERROR')] },
    },
    code: 'PROVIDER_UNAUTHORIZED',
    mayHaveHappened: false,
    retryable: false,
    message: /RAILWAY_API_TOKEN is wrong, expired, or cannot access/,
  },
  {
    name: '200 + Two Factor Authentication Required → UNAUTHORIZED',
    reply: { status: 200, body: { data: null, errors: [gqlError('Two Factor Authentication Required')] } },
    code: 'PROVIDER_UNAUTHORIZED',
    mayHaveHappened: false,
    retryable: false,
  },
  {
    name: '400 GRAPHQL_VALIDATION_FAILED → REJECTED (our bug, never retried)',
    reply: {
      status: 400,
      body: { errors: [gqlError('Unknown argument "environmentId"', 'GRAPHQL_VALIDATION_FAILED')] },
    },
    code: 'PROVIDER_REJECTED',
    mayHaveHappened: false,
    retryable: false,
    message: /a bug in services, not retried/,
  },
  {
    name: '400 GRAPHQL_PARSE_FAILED → REJECTED',
    reply: { status: 400, body: { errors: [gqlError('Syntax Error', 'GRAPHQL_PARSE_FAILED')] } },
    code: 'PROVIDER_REJECTED',
    mayHaveHappened: false,
    retryable: false,
  },
  {
    name: '429 + Retry-After → RATE_LIMITED with the wait, provably not done',
    reply: { status: 429, headers: { 'retry-after': '3' }, body: { data: null } },
    code: 'PROVIDER_RATE_LIMITED',
    mayHaveHappened: false,
    retryable: true,
    retryAfterMs: 3000,
  },
  {
    name: '500 → UNAVAILABLE, may have happened',
    reply: { status: 500, raw: '<html>oops</html>' },
    code: 'PROVIDER_UNAVAILABLE',
    mayHaveHappened: true,
    retryable: true,
  },
  {
    name: '503 → UNAVAILABLE',
    reply: { status: 503, body: { errors: [gqlError('upstream down')] } },
    code: 'PROVIDER_UNAVAILABLE',
    mayHaveHappened: true,
    retryable: true,
  },
  {
    name: '200 + BAD_USER_INPUT "not found" → NOT_FOUND',
    reply: {
      status: 200,
      body: { data: null, errors: [gqlError('Project not found', 'BAD_USER_INPUT', { path: ['project'] })] },
    },
    code: 'PROVIDER_NOT_FOUND',
    mayHaveHappened: false,
    retryable: false,
  },
  {
    name: '200 + other BAD_USER_INPUT → REJECTED',
    reply: { status: 200, body: { data: null, errors: [gqlError('Invalid mount path', 'BAD_USER_INPUT')] } },
    code: 'PROVIDER_REJECTED',
    mayHaveHappened: false,
    retryable: false,
  },
  {
    name: '200 + INTERNAL_SERVER_ERROR → UNAVAILABLE, may have happened',
    reply: {
      status: 200,
      body: { data: null, errors: [gqlError('Problem processing request', 'INTERNAL_SERVER_ERROR')] },
    },
    code: 'PROVIDER_UNAVAILABLE',
    mayHaveHappened: true,
    retryable: true,
  },
  {
    name: '200 without data or errors → BAD_RESPONSE',
    reply: { status: 200, body: {} },
    code: 'PROVIDER_BAD_RESPONSE',
    mayHaveHappened: true,
    retryable: false,
  },
  {
    name: 'HTTP 404 is a wrong URL, never "not found" (a destroy must not think the project is gone)',
    reply: { status: 404, raw: 'Not Found' },
    code: 'PROVIDER_REJECTED',
    mayHaveHappened: false,
    retryable: false,
    message: /RAILWAY_API_URL/,
  },
  {
    name: '401 → UNAUTHORIZED',
    reply: { status: 401, raw: '' },
    code: 'PROVIDER_UNAUTHORIZED',
    mayHaveHappened: false,
    retryable: false,
  },
  {
    name: 'connection reset after the request arrived → UNAVAILABLE, may have happened',
    reply: { destroy: true },
    code: 'PROVIDER_UNAVAILABLE',
    mayHaveHappened: true,
    retryable: true,
  },
  {
    name: 'no answer in time → TIMEOUT, may have happened',
    reply: { hang: true },
    code: 'PROVIDER_TIMEOUT',
    mayHaveHappened: true,
    retryable: true,
  },
]

t.test('error mapping over a real socket', async (t) => {
  let reply: Reply = { status: 200, body: {} }
  const server = await startScriptedServer(t, () => reply)
  const transport = createTransport({ apiUrl: server.url, token: TOKEN, requestTimeoutMs: 300 })
  t.teardown(() => transport.close())

  for (const c of cases) {
    reply = c.reply
    const error = await failureOf(transport.send(GetWorkspace, variables))
    t.equal(error.code, c.code, `${c.name}: code`)
    t.equal(error.mayHaveHappened, c.mayHaveHappened, `${c.name}: mayHaveHappened`)
    t.equal(error.retryable, c.retryable, `${c.name}: retryable`)
    t.equal(error.provider, 'railway')
    t.equal(error.operation, 'GetWorkspace')
    if (c.message) t.match(error.message, c.message, `${c.name}: message`)
    if (c.retryAfterMs !== undefined) t.equal(error.retryAfterMs, c.retryAfterMs, `${c.name}: Retry-After`)
    t.notMatch(error.message, TOKEN, 'the token never appears in an error')
  }
})

t.test('the GraphQL errors are kept: messages, extensions.code, paths', async (t) => {
  const server = await startScriptedServer(t, () => ({
    status: 200,
    body: {
      data: null,
      errors: [
        gqlError('ServiceInstance not found', 'BAD_USER_INPUT', { path: ['s3'] }),
        gqlError('x'.repeat(500)),
      ],
    },
  }))
  const transport = createTransport({ apiUrl: server.url, token: TOKEN })
  t.teardown(() => transport.close())
  const error = await failureOf(transport.send(GetWorkspace, variables))
  t.same(error.errors[0], { message: 'ServiceInstance not found', code: 'BAD_USER_INPUT', path: ['s3'] })
  t.equal(error.errors[1]?.message.length, 300, 'long messages are cut')
  t.equal(error.providerCode, 'BAD_USER_INPUT')
  t.equal(error.status, 200)
})

t.test('a refused connection provably did not happen', async (t) => {
  // A port that was free a moment ago and has nothing listening now.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const transport = createTransport({ apiUrl: `http://127.0.0.1:${port}/graphql/v2`, token: TOKEN })
  t.teardown(() => transport.close())
  const error = await failureOf(transport.send(GetWorkspace, variables))
  t.equal(error.code, 'PROVIDER_UNAVAILABLE')
  t.equal(error.mayHaveHappened, false)
  t.match(error.message, /ECONNREFUSED/)
})

t.test(
  'a connect timeout provably did not happen (MockAgent: no loopback socket can time out connecting)',
  async (t) => {
    const agent = new MockAgent()
    agent.disableNetConnect()
    t.teardown(() => agent.close())
    agent
      .get('https://backboard.test')
      .intercept({ path: '/graphql/v2', method: 'POST' })
      .replyWithError(new errors.ConnectTimeoutError())
    const transport = createTransport({
      apiUrl: 'https://backboard.test/graphql/v2',
      token: TOKEN,
      dispatcher: agent,
    })
    const error = await failureOf(transport.send(GetWorkspace, variables))
    t.equal(error.code, 'PROVIDER_TIMEOUT')
    t.equal(error.mayHaveHappened, false)
  },
)

t.test('Retry-After is honoured: the retry waits for it', async (t) => {
  const at: number[] = []
  const server = await startScriptedServer(t, (_request, index) => {
    at.push(Date.now())
    return index === 0
      ? { status: 429, headers: { 'retry-after': '1' }, body: { data: null } }
      : { status: 200, body: { data: { workspace: { id: 'ws-1', name: 'Acme' } } } }
  })
  const transport = createTransport({ apiUrl: server.url, token: TOKEN })
  const governor = createGovernor(transport, { retry: { baseDelayMs: 1, maxDelayMs: 5 } })
  t.teardown(async () => {
    governor.close()
    await transport.close()
  })
  const data = await governor.request(GetWorkspace, variables, { priority: 'status' })
  t.same(data.workspace.id, 'ws-1')
  t.equal(at.length, 2)
  // A lower bound only: waiting longer on a slow machine is fine, retrying sooner is the bug.
  t.ok(
    (at[1] as number) - (at[0] as number) >= 950,
    `waited ${(at[1] as number) - (at[0] as number)} ms ≥ 1 s`,
  )
  t.equal(governor.stats().rateLimited, 1)
})

t.test('X-RateLimit-Reset in every form Railway might use', async (t) => {
  const now = 1_700_000_000_000
  t.equal(parseReset('120', now), now + 120_000, 'seconds from now')
  t.equal(parseReset('1700000300', now), 1_700_000_300_000, 'epoch seconds')
  t.equal(parseReset('1700000300000', now), 1_700_000_300_000, 'epoch ms')
  t.equal(parseReset('2023-11-14T22:18:20.000Z', now), Date.parse('2023-11-14T22:18:20.000Z'), 'a date')
  t.equal(parseReset('soon', now), undefined)
  t.equal(parseReset(undefined, now), undefined)
})
