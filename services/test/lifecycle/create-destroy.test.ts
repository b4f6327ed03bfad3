import { eq } from 'drizzle-orm'
import t from 'tap'
import { hashToken } from '../../src/auth/tokens.js'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import { POOL_KEY, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'

interface ServiceRecord {
  projectId: string
  name: string
  instances: Record<string, { image: string | null; variables: Record<string, string> }>
}

const live = (system: System) => ({
  projects: system.emulators.railway.ledger.all<{ id: string; name: string }>('project'),
  services: system.emulators.railway.ledger.all<ServiceRecord>('service'),
  volumes: system.emulators.railway.ledger.all('volume'),
  domains: system.emulators.railway.ledger.all('domain'),
  keys: system.emulators.openrouter.ledger.all('key'),
  inboxes: system.emulators.agentmail.ledger.all('inbox'),
})

const create = (system: System, payload: object, headers: Record<string, string> = {}) =>
  request(t, system.app, {
    method: 'POST',
    url: '/create-instance',
    headers: { ...poolAuth(), ...headers },
    payload,
  })

const destroy = (system: System, instanceId: string) =>
  request(t, system.app, { method: 'DELETE', url: `/destroy/${instanceId}`, headers: poolAuth() })

const fastDeploys = { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } }

t.test(
  'create-instance: one project with service, volume and domain, tools, secrets; then destroy',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys })
    const before = system.emulators.railway.stats().requests

    const created = await create(system, {
      instanceId: 'agent-1',
      name: 'Support agent',
      tools: ['email'],
      env: { XMTP_ENV: 'dev' },
    })
    t.equal(created.statusCode, 201, created.body)
    const instance = created.json()
    t.match(instance, {
      instanceId: 'agent-1',
      name: 'Support agent',
      lifecycle: 'ready',
      deployStatus: 'SUCCESS',
    })
    t.match(instance.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    t.same(instance.tools.map((tool: { toolId: string }) => tool.toolId).sort(), [
      'email',
      'openrouter',
      'wallet',
    ])
    t.ok(
      instance.steps.every((step: { state: string }) => step.state === 'done'),
      'every creation step is done',
    )
    t.equal(system.emulators.railway.stats().requests - before, 3, 'a creation costs 3 Railway requests')

    const now = live(system)
    t.equal(now.projects.length, 1)
    t.equal(now.projects[0]?.name, 'agent-agent-1', 'the project has the deterministic name')
    t.equal(now.services.length, 1)
    t.equal(now.volumes.length, 1)
    t.equal(now.domains.length, 1)
    t.equal(now.keys.length, 1)
    t.equal(now.inboxes.length, 1)

    const variables = Object.values(now.services[0]?.instances ?? {})[0]?.variables ?? {}
    const [row] = await system.database.db
      .select()
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, 'agent-1'))
    t.equal(
      hashToken(variables.INSTANCE_SERVICES_TOKEN ?? ''),
      row?.tokenHash,
      'only the token hash is stored',
    )
    t.ok(variables.POOL_API_KEY, 'the runtime gets a credential')
    t.not(variables.POOL_API_KEY, POOL_KEY, "never the pool's own key")
    t.not(row?.runtimeCredential, variables.POOL_API_KEY, 'the runtime credential is stored encrypted')
    t.equal(variables.INSTANCE_ID, 'agent-1')
    t.equal(variables.XMTP_ENV, 'dev')
    t.match(variables.OPENROUTER_API_KEY, /\S+/)
    t.match(variables.PRIVATE_WALLET_KEY, /^0x[0-9a-f]{64}$/)
    t.ok(variables.AGENTMAIL_INBOX_ID)

    const again = await create(system, {
      instanceId: 'agent-1',
      name: 'Support agent',
      tools: ['email'],
      env: { XMTP_ENV: 'dev' },
    })
    t.equal(again.statusCode, 201, 'the same request returns the finished result')
    t.equal(live(system).projects.length, 1, 'and makes nothing new')

    const conflict = await create(system, { instanceId: 'agent-1', tools: ['crypto'] })
    t.equal(conflict.statusCode, 409)
    t.equal(conflict.json().code, 'CONFLICT')

    const destroyed = await destroy(system, 'agent-1')
    t.equal(destroyed.statusCode, 200, destroyed.body)
    t.same(destroyed.json(), { instanceId: 'agent-1', lifecycle: 'destroyed', remaining: [] })
    const after = live(system)
    t.same(
      [
        after.projects.length,
        after.services.length,
        after.volumes.length,
        after.keys.length,
        after.inboxes.length,
      ],
      [0, 0, 0, 0, 0],
      'everything the creation made is released',
    )
    const tools = await system.database.db
      .select()
      .from(instanceServices)
      .where(eq(instanceServices.instanceId, 'agent-1'))
    t.ok(
      tools.every((tool) => tool.status === 'destroyed' && tool.secret === null),
      'tool rows are kept as history, without secrets',
    )

    t.equal((await destroy(system, 'agent-1')).statusCode, 200, 'destroying twice is harmless')
    t.equal((await destroy(system, 'agent-nope')).statusCode, 404)
    const reused = await create(system, {
      instanceId: 'agent-1',
      name: 'Support agent',
      tools: ['email'],
      env: { XMTP_ENV: 'dev' },
    })
    t.equal(reused.statusCode, 409, 'a destroyed id is not reused')
  },
)

t.test('twenty identical creations at once make one project', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => create(system, { instanceId: 'agent-twenty' })),
  )
  t.same(
    [...new Set(responses.map((response) => response.statusCode))],
    [201],
    'every caller gets the one instance',
  )
  const now = live(system)
  t.equal(now.projects.length, 1)
  t.equal(now.services.length, 1)
  t.equal(now.keys.length, 1)
})

t.test('Prefer: respond-async answers 202 with a Location, the creation goes on', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const accepted = await create(system, { instanceId: 'agent-async' }, { prefer: 'respond-async' })
  t.equal(accepted.statusCode, 202)
  t.equal(accepted.headers.location, '/instances/agent-async')
  t.equal(accepted.json().lifecycle, 'creating')
  await system.app.lifecycle?.ensureCreation('agent-async')
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-async'))
  t.equal(row?.lifecycle, 'ready')
})

t.test('a short wait budget answers 202 and the creation still finishes', async (t) => {
  const system = await startSystem(t, {
    env: { CREATE_WAIT_MS: '0' },
    emulators: { railway: { deploy: { stepMs: 50 }, runtime: { warmupMs: 0 } } },
  })
  const accepted = await create(system, { instanceId: 'agent-wait' })
  t.equal(accepted.statusCode, 202)
  await system.app.lifecycle?.ensureCreation('agent-wait')
  const done = await create(system, { instanceId: 'agent-wait' })
  t.equal(done.statusCode, 201)
})

t.test('variables services sets itself are refused in env', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const refused = await create(system, {
    instanceId: 'agent-env',
    env: { POOL_API_KEY: 'x', OPENROUTER_API_KEY: 'y' },
  })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'VALIDATION_FAILED')
  t.same(
    refused
      .json()
      .errors.map((error: { pointer: string }) => error.pointer)
      .sort(),
    ['/env/OPENROUTER_API_KEY', '/env/POOL_API_KEY'],
  )
  t.equal(live(system).projects.length, 0)
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-env'))
  t.equal(row, undefined, 'nothing is recorded')
})

t.test('a deployment that FAILS is undone completely and the cause is kept', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 10, outcome: 'FAILED' }, runtime: { warmupMs: 0 } } },
  })
  const failed = await create(system, { instanceId: 'agent-fails', tools: ['email'] })
  t.equal(failed.statusCode, 502, failed.body)
  t.equal(failed.json().code, 'CREATION_FAILED')
  t.match(failed.json().detail, /DEPLOY_FAILED/)
  await system.app.lifecycle?.ensureCreation('agent-fails')
  const now = live(system)
  t.same([now.projects.length, now.keys.length, now.inboxes.length], [0, 0, 0], 'nothing is left behind')
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-fails'))
  t.match(row, { lifecycle: 'failed', errorCode: 'DEPLOY_FAILED', tokenHash: null })

  const repeat = await create(system, { instanceId: 'agent-fails', tools: ['email'] })
  t.equal(repeat.statusCode, 502, 'a repeat reports the same failure, without trying again')
  t.equal(live(system).projects.length, 0)

  // The pool's tick loop sees why, not only that it failed.
  const status = await request(t, system.app, {
    method: 'POST',
    url: '/status/batch',
    headers: poolAuth(),
    payload: { instanceIds: ['agent-fails'] },
  })
  t.equal(status.statusCode, 200, status.body)
  t.match(status.json().instances, [
    {
      instanceId: 'agent-fails',
      lifecycle: 'failed',
      error: { code: 'DEPLOY_FAILED', message: String(row?.errorMessage) },
    },
  ])
  t.ok(row?.errorMessage, 'with the message the creation recorded')

  const destroyed = await destroy(system, 'agent-fails')
  t.equal(destroyed.statusCode, 200)
  t.equal(destroyed.json().lifecycle, 'destroyed')
})

t.test('destroy while creating stops the creation and releases what it made', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 100 }, runtime: { warmupMs: 0 } } },
  })
  const accepted = await create(
    system,
    { instanceId: 'agent-short', tools: ['email'] },
    { prefer: 'respond-async' },
  )
  t.equal(accepted.statusCode, 202)
  const destroyed = await destroy(system, 'agent-short')
  t.equal(destroyed.statusCode, 200, destroyed.body)
  const now = live(system)
  t.same([now.projects.length, now.keys.length, now.inboxes.length], [0, 0, 0], 'nothing is left behind')
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-short'))
  t.equal(row?.lifecycle, 'destroyed')
})

t.test(
  'a release that keeps failing answers 202 with what remains; the reaper finishes it later',
  async (t) => {
    const system = await startSystem(t, { env: { REAPER_INTERVAL_MS: '100' }, emulators: fastDeploys })
    t.equal((await create(system, { instanceId: 'agent-sticky' })).statusCode, 201)
    system.emulators.openrouter.faults.add({ operation: 'deleteKeys', errorRate: 1, errorStatus: 503 })

    const pending = await destroy(system, 'agent-sticky')
    t.equal(pending.statusCode, 202, pending.body)
    t.match(pending.json(), {
      instanceId: 'agent-sticky',
      lifecycle: 'destroying',
      remaining: [{ toolId: 'openrouter', status: 'releasing' }],
    })
    t.equal(live(system).projects.length, 0, 'the project is deleted even though a key is still held')
    t.equal(live(system).keys.length, 1, 'the key is still tracked, not forgotten')

    system.emulators.openrouter.faults.clear()
    await system.app.lifecycle?.reap()
    t.equal(live(system).keys.length, 1, 'the reaper waits out the failed step’s backoff')
    // Backoff: REAPER_INTERVAL_MS × 2^(attempts/4) = 100 ms × 2 after four attempts.
    await new Promise((resolve) => setTimeout(resolve, 400))
    await system.app.lifecycle?.reap()
    for (let i = 0; i < 100 && live(system).keys.length > 0; i++) await new Promise((r) => setTimeout(r, 20))
    t.equal(live(system).keys.length, 0, 'the reaper released the key')
    const done = await destroy(system, 'agent-sticky')
    t.equal(done.statusCode, 200, done.body)
    t.same(done.json().remaining, [])
  },
)
