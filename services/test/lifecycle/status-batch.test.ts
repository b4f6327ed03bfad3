import { eq, inArray } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import type { InstanceStatus, StatusBatch } from '../../src/generated/schemas.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import {
  type DeployedService,
  deployServices,
  hungRuntime,
  insertRows,
  readyRow,
  refusedUrl,
  untilReady,
} from './status-fixtures.js'

const fastDeploys = { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } }
/** For the big fleets: no emulated rate limit, and a governor that does not pace 2,000 creations over 45 s. */
const unpaced = { RAILWAY_RATE_LIMIT_PER_SECOND: '1000' }

async function batch(t: Test, system: System, instanceIds: string[]) {
  const response = await request(t, system.app, {
    method: 'POST',
    url: '/status/batch',
    headers: poolAuth(),
    payload: { instanceIds },
  })
  t.equal(response.statusCode, 200)
  const body = response.json() as StatusBatch
  return { body, byId: new Map(body.instances.map((s) => [s.instanceId, s])) }
}

const railwayRequests = (system: System) => system.emulators.railway.stats().requests

async function recordedStatus(system: System, instanceId: string) {
  const [row] = await system.database.db
    .select({ deployStatus: instanceInfra.deployStatus })
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, instanceId))
  return row?.deployStatus
}

t.test('every kind of instance, unknown ids, the recorded deploy status', async (t) => {
  const system = await startSystem(t, { emulators: { railway: fastDeploys } })
  const [ok, crashing, wrongKey, destroying] = await deployServices(system, 4)
  system.emulators.railway.setDeployOutcome('FAILED')
  const [failing] = await deployServices(system, 1)
  system.emulators.railway.setDeployOutcome('SUCCESS')
  const services = [ok, crashing, wrongKey, destroying] as DeployedService[]
  await untilReady(system, services)
  system.emulators.railway.killRuntime((crashing as DeployedService).serviceId)
  const failingRef = failing as DeployedService
  while ((await system.railway.statusOf([failingRef]))[0]?.deployStatus !== 'FAILED') {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }

  await insertRows(system, [
    readyRow(system, 'agent-ok', ok as DeployedService),
    readyRow(system, 'agent-crashed', crashing as DeployedService),
    readyRow(system, 'agent-failed-deploy', failingRef),
    // The runtime's POOL_API_KEY is not the one services holds: its health route refuses the ping.
    readyRow(system, 'agent-wrong-key', wrongKey as DeployedService, {
      runtimeCredential: readyRow(system, 'agent-wrong-key', { ...(ok as DeployedService) })
        .runtimeCredential,
    }),
    readyRow(system, 'agent-destroying', destroying as DeployedService, { lifecycle: 'destroying' }),
    { instanceId: 'agent-creating', lifecycle: 'creating', image: system.config.railway.runtimeImage },
    {
      instanceId: 'agent-failed',
      lifecycle: 'failed',
      image: system.config.railway.runtimeImage,
      deployStatus: 'FAILED',
    },
  ])

  const asked = [
    'agent-ok',
    'agent-nobody',
    'agent-crashed',
    'agent-failed-deploy',
    'agent-wrong-key',
    'agent-destroying',
    'agent-creating',
    'agent-failed',
    'agent-nobody-2',
  ]
  const { body, byId } = await batch(t, system, asked)
  t.same(
    body.instances.map((s) => s.instanceId),
    asked.filter((id) => !id.startsWith('agent-nobody')),
    'known instances in the order asked',
  )
  t.same(body.notFound, ['agent-nobody', 'agent-nobody-2'], 'unknown ids listed, not an error')

  const ready = byId.get('agent-ok') as InstanceStatus
  t.match(ready, {
    status: 'healthy',
    lifecycle: 'ready',
    deployStatus: 'SUCCESS',
    health: { ready: true },
    url: `http://${ok?.domain}`,
    image: system.config.railway.runtimeImage,
  })
  t.ok(Number.isInteger(ready.health?.latencyMs), 'with its latency')
  t.match(byId.get('agent-crashed'), { status: 'deploy_failed', deployStatus: 'CRASHED' })
  t.match(byId.get('agent-failed-deploy'), { status: 'deploy_failed', deployStatus: 'FAILED' })
  t.match(byId.get('agent-wrong-key'), {
    status: 'unreachable',
    deployStatus: 'SUCCESS',
    health: { ready: false, latencyMs: null },
  })
  t.match(byId.get('agent-destroying'), { status: 'unreachable', lifecycle: 'destroying', health: null })
  t.match(byId.get('agent-creating'), { status: 'deploying', deployStatus: null, health: null, url: null })
  t.match(byId.get('agent-failed'), { status: 'deploy_failed', deployStatus: 'FAILED', health: null })

  t.equal(await recordedStatus(system, 'agent-ok'), 'SUCCESS', 'observed statuses are recorded')
  t.equal(await recordedStatus(system, 'agent-crashed'), 'CRASHED')
  t.equal(await recordedStatus(system, 'agent-destroying'), null, 'a destroying instance is not read')
})

t.test('the request is checked: pool key, 1..1000 unique ids', async (t) => {
  const system = await startSystem(t)
  const post = (payload: unknown, headers: Record<string, string> = poolAuth()) =>
    request(t, system.app, { method: 'POST', url: '/status/batch', headers, payload: payload as object })
  t.equal((await post({ instanceIds: ['agent-a'] }, {})).statusCode, 401)
  t.equal((await post({ instanceIds: [] })).statusCode, 400)
  t.equal((await post({ instanceIds: ['agent-a', 'agent-a'] })).statusCode, 400)
  const many = Array.from({ length: 1001 }, (_, i) => `agent-${i}`)
  t.equal((await post({ instanceIds: many })).statusCode, 400)
  t.equal((await post({ instanceIds: many.slice(0, 1000) })).statusCode, 200, '1,000 is fine')
})

t.test(
  '1,000 instances, 10% dead: 20 Railway requests cold, 0 warm, answered within the health timeout',
  async (t) => {
    const healthTimeoutMs = 2_000
    const system = await startSystem(t, {
      env: { ...unpaced, HEALTH_TIMEOUT_MS: String(healthTimeoutMs) },
      emulators: { railway: { ...fastDeploys, rateLimit: false } },
    })
    const services = await deployServices(system, 1_000)
    await untilReady(system, services)
    // Every tenth instance is dead: half refuse connections, half accept and never answer.
    const dead = new Set<string>()
    const hung: Awaited<ReturnType<typeof hungRuntime>>[] = []
    const rows = await Promise.all(
      services.map(async (service, i) => {
        const instanceId = `agent-${String(i).padStart(4, '0')}`
        if (i % 10 !== 9) return readyRow(system, instanceId, service)
        dead.add(instanceId)
        if (i % 20 === 9) return readyRow(system, instanceId, service, { url: await refusedUrl() })
        const runtime = await hungRuntime(t)
        hung.push(runtime)
        return readyRow(system, instanceId, service, { url: runtime.url })
      }),
    )
    await insertRows(system, rows)
    const ids = rows.map((row) => row.instanceId)

    let before = railwayRequests(system)
    const started = performance.now()
    const cold = await batch(t, system, ids)
    const elapsed = performance.now() - started
    const coldRequests = railwayRequests(system) - before
    t.equal(coldRequests, 20, 'cold: ⌈1000/50⌉ = 20 Railway requests')
    t.equal(cold.body.instances.length, 1_000)
    const unreachable = cold.body.instances.filter((s) => s.status === 'unreachable')
    t.same(
      unreachable.map((s) => s.instanceId).sort(),
      [...dead].sort(),
      'exactly the dead ones are unreachable',
    )
    t.ok(
      unreachable.every((s) => s.deployStatus === 'SUCCESS' && s.health?.latencyMs === null),
      'deployed, but not answering',
    )
    t.equal(cold.body.instances.filter((s) => s.status === 'healthy').length, 900)
    // The bound, by the hung runtimes' own account rather than a stopwatch: each got its one ping and saw
    // services give up on it. A hung runtime never answers and the checker aborts a ping only when its
    // timeout fires (or at shutdown), so every such ping ended by its timeout, and the answer (which
    // waits for every ping) came after. The close reaches the runtime a moment after the abort: wait for it.
    t.equal(hung.length, 50)
    for (let i = 0; i < 500 && hung.some((runtime) => runtime.seen.abandoned === 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.same(
      hung.map((runtime) => runtime.seen),
      hung.map(() => ({ requests: 1, abandoned: 1 })),
      'every hung runtime was pinged once, and the ping abandoned by its timeout',
    )
    // Kept loose on purpose: the machine is shared, timing belongs in benchmarks.
    t.ok(
      elapsed < 5 * healthTimeoutMs,
      `answered in ${Math.round(elapsed)} ms (health timeout ${healthTimeoutMs} ms)`,
    )
    t.comment(`cold batch of 1,000 (100 dead): ${coldRequests} Railway requests, ${Math.round(elapsed)} ms`)

    before = railwayRequests(system)
    const warmStarted = performance.now()
    const warm = await batch(t, system, ids)
    const warmElapsed = performance.now() - warmStarted
    t.equal(railwayRequests(system) - before, 0, 'warm: every SUCCESS is cached, 0 Railway requests')
    t.equal(warm.body.instances.filter((s) => s.status === 'healthy').length, 900, 'health is pinged afresh')
    t.comment(`warm batch of 1,000: 0 Railway requests, ${Math.round(warmElapsed)} ms`)
  },
)

t.test('two identical batches at once share the Railway reads and the health pings', async (t) => {
  const system = await startSystem(t, {
    env: unpaced,
    emulators: { railway: { ...fastDeploys, rateLimit: false } },
  })
  const services = await deployServices(system, 120)
  await untilReady(system, services)
  const hung = await Promise.all(Array.from({ length: 10 }, () => hungRuntime(t)))
  const rows = services.map((service, i) => {
    const instanceId = `agent-${i}`
    const hang = hung[i]
    return readyRow(system, instanceId, service, hang ? { url: hang.url } : {})
  })
  await insertRows(system, rows)
  const ids = rows.map((row) => row.instanceId)

  const before = railwayRequests(system)
  const [first, second] = await Promise.all([batch(t, system, ids), batch(t, system, ids)])
  t.equal(railwayRequests(system) - before, 3, 'one batch worth of Railway requests (⌈120/50⌉), not two')
  t.ok(
    hung.every((h) => h.seen.requests === 1),
    'each hung runtime was pinged once for both batches',
  )
  t.same(
    first.body.instances.map((s) => s.status),
    second.body.instances.map((s) => s.status),
    'and both got the same answer',
  )
})

t.test('a change to the instance row invalidates its cached deploy status', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 150 }, runtime: { warmupMs: 0 } } },
  })
  const services = await deployServices(system, 3)
  await untilReady(system, services)
  await insertRows(
    system,
    services.map((service, i) => readyRow(system, `agent-${i}`, service)),
  )
  const ids = ['agent-0', 'agent-1', 'agent-2']
  const spent = async (fn: () => Promise<unknown>) => {
    const before = railwayRequests(system)
    await fn()
    return railwayRequests(system) - before
  }

  t.equal(await spent(() => batch(t, system, ids)), 1, 'cold: one request')
  t.equal(await spent(() => batch(t, system, ids)), 0, 'warm: none')

  // A redeploy, as the redeploy operation does it: Railway first, then the row.
  const redeployed = services[1] as DeployedService
  await system.railway.redeploy(redeployed)
  await system.database.db
    .update(instanceInfra)
    .set({ deployStatus: 'QUEUED' })
    .where(eq(instanceInfra.instanceId, 'agent-1'))
  let after: Awaited<ReturnType<typeof batch>> | undefined
  t.equal(
    await spent(async () => {
      after = await batch(t, system, ids)
    }),
    1,
    'the changed row is read again (one request for one service), the others stay cached',
  )
  const status = after?.byId.get('agent-1')
  t.not(status?.deployStatus, 'SUCCESS', `the new deployment is seen (${status?.deployStatus})`)
  t.equal(status?.status, 'healthy', 'the old deployment serves meanwhile')
  t.equal(await recordedStatus(system, 'agent-1'), status?.deployStatus, 'and recorded')

  await system.database.db
    .update(instanceInfra)
    .set({ name: 'renamed' })
    .where(inArray(instanceInfra.instanceId, ['agent-0']))
  t.equal(await spent(() => batch(t, system, ['agent-0', 'agent-2'])), 1, 'any write to the row invalidates')
})

t.test('Railway failing: the last recorded deploy status, fresh health, no 5xx', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: fastDeploys },
    railway: { governor: { retry: { attempts: 1 } } },
  })
  const [service] = await deployServices(system, 1)
  await untilReady(system, [service as DeployedService])
  await insertRows(system, [
    readyRow(system, 'agent-0', service as DeployedService, { deployStatus: 'SUCCESS' }),
  ])

  system.emulators.railway.faults.add({ operation: 'serviceInstance', errorRate: 1, errorStatus: 503 })
  const before = railwayRequests(system)
  const { byId } = await batch(t, system, ['agent-0'])
  t.ok(railwayRequests(system) - before >= 1, 'Railway was asked')
  t.match(byId.get('agent-0'), { status: 'healthy', deployStatus: 'SUCCESS', health: { ready: true } })

  system.emulators.railway.faults.clear()
  const again = railwayRequests(system)
  await batch(t, system, ['agent-0'])
  t.equal(railwayRequests(system) - again, 1, 'the stand-in was not cached: Railway is asked again')
})

t.test('a service deleted behind our back: no deploy status, unreachable, not asked again', async (t) => {
  const system = await startSystem(t, { emulators: { railway: fastDeploys } })
  const services = await deployServices(system, 2)
  await untilReady(system, services)
  await insertRows(system, [
    readyRow(system, 'agent-0', services[0] as DeployedService, { deployStatus: 'SUCCESS' }),
    readyRow(system, 'agent-gone', services[1] as DeployedService, { deployStatus: 'SUCCESS' }),
  ])
  t.equal(await system.railway.deleteService(services[1] as DeployedService), 'deleted')

  let before = railwayRequests(system)
  const { byId } = await batch(t, system, ['agent-0', 'agent-gone'])
  t.equal(railwayRequests(system) - before, 2, 'one request, and one more without the unknown service')
  t.match(byId.get('agent-gone'), { status: 'unreachable', deployStatus: null, health: { ready: false } })
  t.match(byId.get('agent-0'), { status: 'healthy', deployStatus: 'SUCCESS' })
  t.equal(await recordedStatus(system, 'agent-gone'), null, 'recorded as unknown')

  before = railwayRequests(system)
  await batch(t, system, ['agent-0', 'agent-gone'])
  t.equal(railwayRequests(system) - before, 0, 'its absence is cached like a final state')
})
