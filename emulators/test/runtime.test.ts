import t from 'tap'
import { AgentRuntime, startRuntimeEmulator } from '../src/runtime/index.js'
import { callRuntime, connectionError } from './railway-client.js'

t.test('a running runtime answers the pool routes like pool-server.js', async (t) => {
  const runtime = await startRuntimeEmulator({ env: { POOL_API_KEY: 'secret' }, warmupMs: 0 })
  t.teardown(() => runtime.close())
  const key = 'secret'
  const url = runtime.url

  t.same(await callRuntime(url, 'GET', '/pool/health', { key }), { status: 200, body: { ready: true } })
  t.same(await callRuntime(url, 'POST', '/pool/provision', { body: { agentName: 'a', instructions: 'b' } }), {
    status: 401,
    body: { error: 'Unauthorized' },
  })
  t.same(await callRuntime(url, 'GET', '/pool/health/', { key }), {
    status: 502,
    body: { error: 'Gateway unavailable' },
  })
  t.same(await callRuntime(url, 'GET', '/', {}), { status: 502, body: { error: 'Gateway unavailable' } })

  t.same(await callRuntime(url, 'POST', '/pool/provision', { key, body: '{"agentName":' }), {
    status: 400,
    body: { error: 'Invalid JSON body' },
  })
  t.equal(
    (await callRuntime(url, 'POST', '/pool/provision', { key, body: { agentName: 'a', instructions: ' ' } }))
      .status,
    400,
    'blank instructions are missing instructions',
  )
  t.same(await callRuntime(url, 'POST', '/pool/restart-gateway', { key, body: { env: ['x'] } }), {
    status: 400,
    body: { error: 'Invalid JSON body' },
  })
  t.same(
    await callRuntime(url, 'POST', '/pool/restart-gateway', { key }),
    { status: 200, body: { ok: true } },
    'no body: nothing to merge',
  )
  t.same(runtime.runtime.view().restartEnvs, [{}])

  await callRuntime(url, 'POST', '/pool/restart-gateway', {
    key,
    body: { env: { POOL_API_KEY: 'rotated', N: 3 } },
  })
  t.equal(
    (await callRuntime(url, 'GET', '/pool/health', { key })).status,
    401,
    'the merged env holds the key from now on',
  )
  t.same(await callRuntime(url, 'GET', '/pool/health', { key: 'rotated' }), {
    status: 200,
    body: { ready: true },
  })
  t.equal(runtime.runtime.view().env.N, '3', 'env values become strings, as in process.env')
})

t.test('without POOL_API_KEY the routes need no auth, as the real server', async (t) => {
  const runtime = await startRuntimeEmulator({ warmupMs: 0 })
  t.teardown(() => runtime.close())
  t.same(await callRuntime(runtime.url, 'GET', '/pool/health'), { status: 200, body: { ready: true } })
  const reply = await callRuntime(runtime.url, 'POST', '/pool/provision', {
    body: { agentName: 'Ada', instructions: 'Hi' },
  })
  t.match(reply, { status: 200, body: { ok: true, joined: false, conversationId: /^[0-9a-f]{32}$/ } })
})

t.test('edge, crash, kill and restart of one runtime', async (t) => {
  const runtime = new AgentRuntime({ warmupMs: 0 })
  t.teardown(() => runtime.stop())
  const url = `http://127.0.0.1:${await runtime.listen()}`

  const edge = await callRuntime(url, 'POST', '/pool/provision', { body: {} })
  t.equal(edge.status, 404)
  t.match(edge.body, { status: 'error', code: 404, message: 'Application not found', request_id: String })

  await runtime.start({})
  t.equal((await callRuntime(url, 'GET', '/pool/health')).status, 200)
  runtime.crash()
  t.match(await callRuntime(url, 'GET', '/pool/health'), {
    status: 502,
    body: { message: 'Application failed to respond' },
  })

  await runtime.kill()
  t.equal(await connectionError(url), 'ECONNREFUSED')
  const second = `http://127.0.0.1:${await runtime.listen()}`
  t.equal(await connectionError(second), 'ECONNREFUSED', 'a domain added while dead does not answer either')

  await runtime.start({ A: '1' })
  t.same(
    await callRuntime(url, 'GET', '/pool/health'),
    { status: 200, body: { ready: true } },
    'back on the same port',
  )
  t.equal((await callRuntime(second, 'GET', '/pool/health')).status, 200, 'and on the new one')
  t.same(runtime.view().urls, [url, second])
  t.equal(runtime.view().starts, 2)

  await runtime.stop()
  t.equal(await connectionError(url), 'ECONNREFUSED')
})
