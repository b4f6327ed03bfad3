import t from 'tap'
import { build, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'

/** Every class of bad input gets a 4xx problem+json with a stable code, never a 500. */
t.test('bad input classes', async (t) => {
  const { app } = await build(t, { env: { BODY_LIMIT_BYTES: '2048' } })
  const json = { ...poolAuth(), 'content-type': 'application/json' }

  const cases: Array<{
    name: string
    method: 'GET' | 'POST' | 'DELETE'
    url: string
    headers?: Record<string, string>
    payload?: string
    status: number
    code: string
    pointer?: string
  }> = [
    { name: 'unknown route', method: 'GET', url: '/nope', status: 404, code: 'NOT_FOUND' },
    {
      name: 'wrong method',
      method: 'GET',
      url: '/create-instance',
      headers: poolAuth(),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'malformed JSON',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: '{"instanceIds": [',
      status: 400,
      code: 'MALFORMED_JSON',
    },
    {
      name: 'empty JSON body',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: '',
      status: 400,
      code: 'EMPTY_BODY',
    },
    {
      name: 'missing body',
      method: 'POST',
      url: '/status/batch',
      headers: poolAuth(),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'wrong content type',
      method: 'POST',
      url: '/status/batch',
      headers: { ...poolAuth(), 'content-type': 'text/plain' },
      payload: 'agent-1',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'form content type',
      method: 'POST',
      url: '/create-instance',
      headers: { ...poolAuth(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'instanceId=a',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'schema violation',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: '{"instanceIds": "agent-1"}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/instanceIds',
    },
    {
      name: 'missing required field',
      method: 'POST',
      url: '/create-instance',
      headers: json,
      payload: '{}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/instanceId',
    },
    {
      name: 'unknown field refused, not stripped',
      method: 'POST',
      url: '/create-instance',
      headers: json,
      payload: '{"instanceId":"a1","surprise":1}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/surprise',
    },
    {
      name: 'number is not coerced into a string',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: '{"instanceIds": [123]}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/instanceIds/0',
    },
    {
      name: 'null is not coerced into a string',
      method: 'POST',
      url: '/create-instance',
      headers: json,
      payload: '{"instanceId": null}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/instanceId',
    },
    {
      name: 'path injection in an id',
      method: 'DELETE',
      url: '/destroy/..%2F..%2Fetc',
      headers: poolAuth(),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'bad query value',
      method: 'GET',
      url: '/instances?limit=abc',
      headers: poolAuth(),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'unknown enum in query',
      method: 'GET',
      url: '/instances?lifecycle=zombie',
      headers: poolAuth(),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'body over the limit',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: JSON.stringify({ instanceIds: Array.from({ length: 300 }, (_, i) => `agent-${i}`) }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'prototype poisoning',
      method: 'POST',
      url: '/create-instance',
      headers: json,
      payload: '{"instanceId":"a1","__proto__":{"admin":true}}',
      status: 400,
      code: 'MALFORMED_JSON',
    },
    {
      name: 'duplicate ids in a batch',
      method: 'POST',
      url: '/status/batch',
      headers: json,
      payload: '{"instanceIds": ["a1","a1"]}',
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'empty agent instructions',
      method: 'POST',
      url: '/configure/a1',
      headers: json,
      payload: '{"agentName":"Ada","instructions":"   "}',
      status: 400,
      code: 'VALIDATION_FAILED',
      pointer: '/instructions',
    },
    {
      name: 'reserved-looking env name',
      method: 'POST',
      url: '/create-instance',
      headers: json,
      payload: '{"instanceId":"a1","env":{"lower":"x"}}',
      status: 400,
      code: 'VALIDATION_FAILED',
    },
  ]

  for (const c of cases) {
    const response = await request(t, app, {
      method: c.method,
      url: c.url,
      headers: c.headers ?? {},
      ...(c.payload !== undefined ? { payload: c.payload } : {}),
    })
    t.equal(response.statusCode, c.status, `${c.name}: status`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${c.name}: problem+json`)
    const problem = response.json()
    t.equal(problem.code, c.code, `${c.name}: code`)
    t.equal(problem.status, c.status, `${c.name}: status in body`)
    t.equal(problem.requestId, response.headers['x-request-id'], `${c.name}: request id`)
    if (c.pointer) {
      t.ok(
        problem.errors?.some((e: { pointer: string }) => e.pointer === c.pointer),
        `${c.name}: errors[] names ${c.pointer} (${JSON.stringify(problem.errors)})`,
      )
    }
  }
})

t.test('valid requests pass validation and reach their handler', async (t) => {
  // An app without Railway: what needs Railway answers its documented 503, the rest reads the database.
  const { app } = await build(t)
  const cases = [
    {
      method: 'POST' as const,
      url: '/create-instance',
      payload: { instanceId: 'agent-1', tools: ['email'], env: { XMTP_ENV: 'dev' } },
      status: 503,
      code: 'RAILWAY_NOT_CONFIGURED',
    },
    {
      method: 'POST' as const,
      url: '/status/batch',
      payload: { instanceIds: ['agent-1', 'agent-2'] },
      status: 200,
    },
    { method: 'POST' as const, url: '/redeploy/agent-1', status: 503, code: 'RAILWAY_NOT_CONFIGURED' },
    { method: 'GET' as const, url: '/instances?limit=5&lifecycle=ready', status: 200 },
  ]
  for (const { status, code, ...c } of cases) {
    const response = await request(t, app, { ...c, headers: poolAuth() })
    t.equal(response.statusCode, status, `${c.method} ${c.url}`)
    if (code) t.equal(response.json().code, code)
  }
})

t.test('a handler bug is a 500 problem whose details stay in the log', async (t) => {
  const lines: string[] = []
  const { app } = await build(t, {
    env: { LOG_LEVEL: 'info' },
    logStream: { write: (line) => lines.push(line) },
  })
  app.get('/boom', async () => {
    throw new Error('secret internals: db password hunter2')
  })
  const response = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'INTERNAL')
  t.notMatch(response.body, /hunter2/, 'the cause is not sent')
  t.ok(
    lines.some((line) => line.includes('hunter2')),
    'the cause is logged',
  )
})
