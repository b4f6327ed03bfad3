import t from 'tap'
import { POOL_KEY } from '../../services/test/helpers/build.js'
import { startSystem } from '../../services/test/helpers/system.js'
import { createServicesClient, instanceEvents, waitUntilReady } from '../src/index.js'

t.test('the real client against the real server on a socket', async (t) => {
  const { app } = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } },
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  const client = createServicesClient({ baseUrl: address, apiKey: POOL_KEY })
  const registry = await client.GET('/registry')
  t.equal(registry.response.status, 200)
  t.same(
    registry.data?.tools.map((tool) => tool.toolId),
    ['openrouter', 'wallet', 'email', 'sms', 'crypto'],
  )

  const refused = await createServicesClient({
    baseUrl: address,
    apiKey: 'wrong-key-0123456789abcdef0123456789',
  }).GET('/registry')
  t.equal(refused.response.status, 401)
  t.equal(refused.error?.code, 'UNAUTHORIZED', 'errors arrive typed as Problem')

  const created = await client.POST('/create-instance', { body: { instanceId: 'agent-client-1' } })
  t.equal(created.response.status, 201)
  t.equal(created.data?.instanceId, 'agent-client-1')

  const view = await client.GET('/instances/{instanceId}', {
    params: { path: { instanceId: 'agent-client-1' } },
  })
  t.equal(view.data?.lifecycle, 'ready', 'typed path parameters reach the instance view')

  const unknown = await client.GET('/instances/{instanceId}', {
    params: { path: { instanceId: 'agent-nope' } },
  })
  t.equal(unknown.response.status, 404)
  t.equal(unknown.error?.code, 'NOT_FOUND')

  const later = await client.POST('/create-instance', {
    body: { instanceId: 'agent-client-2' },
    params: { header: { prefer: 'respond-async' } },
  })
  t.equal(later.response.status, 202)
  const events = []
  for await (const event of instanceEvents(address, 'agent-client-2', `Bearer ${POOL_KEY}`))
    events.push(event)
  t.equal(events.at(-1)?.event, 'end', 'the stream ends with the instance')
  t.ok(
    events.some((e) => e.event === 'step'),
    'after the steps of the creation',
  )
  const ready = await waitUntilReady(client, 'agent-client-2', { timeoutMs: 30_000 })
  t.equal(ready.lifecycle, 'ready')
})
