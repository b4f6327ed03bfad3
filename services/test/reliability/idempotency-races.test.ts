import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { hashToken } from '../../src/auth/tokens.js'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import { createReadyInstance, fastDeploys } from '../lifecycle/instance-fixtures.js'

/**
 * Twenty identical requests at once, for each mutating operation not already raced in its own test
 * (create-instance: create-destroy.test.ts; provision: provision.test.ts; configure: configure.test.ts;
 * adopt: adopt.test.ts): exactly one effect at the providers, and every answer a documented one.
 */
const RACERS = 20

const rowOf = async (system: System, instanceId: string) => {
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, instanceId))
  return row as NonNullable<typeof row>
}

const race = (t: Test, system: System, method: 'POST' | 'DELETE', url: string, payload?: object) =>
  Promise.all(
    Array.from({ length: RACERS }, () =>
      request(t, system.app, {
        method,
        url,
        headers: poolAuth(),
        ...(payload ? { payload } : {}),
      }),
    ),
  )

const statuses = (responses: Array<{ statusCode: number }>) =>
  [...new Set(responses.map((r) => r.statusCode))].sort()

/** Railway requests of one GraphQL operation so far, from the emulator's request log. */
const railwayCalls = (system: System, operation: string) =>
  system.emulators.railway.ledger.requests().filter((r) => r.operation === operation).length

t.test('destroy-instance × 20: one project deletion, every tool released once', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await createReadyInstance(t, system, 'agent-1', ['email'])
  const responses = await race(t, system, 'DELETE', '/destroy/agent-1')
  t.same(statuses(responses), [200], 'every caller is told it is destroyed')
  t.equal(railwayCalls(system, 'projectDelete'), 1, 'one projectDelete')
  t.equal(system.emulators.railway.ledger.all('project').length, 0)
  t.equal(system.emulators.agentmail.ledger.all('inbox').length, 0)
  t.equal(system.emulators.openrouter.ledger.all('key').length, 0)
  const deletes = system.emulators.agentmail.ledger.requests().filter((r) => r.operation === 'inboxes_delete')
  t.equal(deletes.length, 1, 'the inbox was deleted once')
})

t.test('destroy-tool × 20: one release at the provider', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await createReadyInstance(t, system, 'agent-1', ['email'])
  const [inbox] = await system.database.db
    .select()
    .from(instanceServices)
    .where(eq(instanceServices.toolId, 'email'))
  const responses = await race(
    t,
    system,
    'DELETE',
    `/destroy/agent-1/email/${encodeURIComponent(inbox?.resourceId as string)}`,
  )
  t.same(statuses(responses), [200])
  const deletes = system.emulators.agentmail.ledger.requests().filter((r) => r.operation === 'inboxes_delete')
  t.equal(deletes.length, 1, 'the inbox was deleted once')
  t.equal(system.emulators.agentmail.ledger.all('inbox').length, 0)
})

t.test('redeploy × 20: concurrent identical redeploys share one deployment', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await createReadyInstance(t, system, 'agent-1')
  const before = railwayCalls(system, 'serviceInstanceDeployV2')
  const responses = await race(t, system, 'POST', '/redeploy/agent-1', {})
  t.same(statuses(responses), [202])
  const ids = new Set(responses.map((r) => r.json().deploymentId))
  t.equal(ids.size, 1, 'one deployment id for all')
  const after = railwayCalls(system, 'serviceInstanceDeployV2')
  t.equal(after - before, 1, 'one Railway redeploy request')
})

t.test(
  'rotate-token × 20: one token valid at the end, and Railway and the agent hold that one',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys })
    const row = await createReadyInstance(t, system, 'agent-1')
    const serviceId = row.railwayServiceId as string
    const responses = await race(t, system, 'POST', '/instances/agent-1/rotate-token')
    t.same(statuses(responses), [200])
    const { tokenHash } = await rowOf(system, 'agent-1')
    const live = system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN as string
    t.equal(hashToken(live), tokenHash, 'the running agent holds the one valid token')
    const service = system.emulators.railway.ledger
      .all<{ id: string; instances: Record<string, { variables: Record<string, string> }> }>('service')
      .find((s) => s.id === serviceId)
    const onRailway = Object.values(service?.instances ?? {})[0]?.variables.INSTANCE_SERVICES_TOKEN as string
    t.equal(hashToken(onRailway), tokenHash, 'Railway holds it too, for the next deploy')
    const own = await request(t, system.app, {
      method: 'GET',
      url: '/instances/agent-1',
      headers: { authorization: `Bearer ${live}` },
    })
    t.equal(own.statusCode, 200, 'and it works')
  },
)

t.test('reconcile apply × 20: each orphan deleted once', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await system.railway.createProject('agent-ghost')
  const responses = await race(t, system, 'POST', '/admin/reconcile', { apply: true })
  t.same(statuses(responses), [200])
  t.equal(system.emulators.railway.ledger.all('project').length, 0, 'the orphan is gone')
  t.ok(railwayCalls(system, 'projectDelete') >= 1)
  const outcomes = responses.flatMap((r) => r.json().orphans.map((o: { outcome: string }) => o.outcome))
  t.equal(
    outcomes.filter((o) => o === 'deleted').length,
    1,
    'one caller deleted it; the others found it gone or not at all',
  )
})
