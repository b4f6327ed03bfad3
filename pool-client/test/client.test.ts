import t from 'tap'
import { build, POOL_KEY } from '../../services/test/helpers/build.js'
import { createServicesClient } from '../src/index.js'

t.test('the real client against the real server on a socket', async (t) => {
  const { app } = await build(t)
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

  const pending = await client.POST('/create-instance', { body: { instanceId: 'agent-client-1' } })
  t.equal(pending.response.status, 501)
  t.equal(pending.error?.code, 'NOT_IMPLEMENTED')
})
