import { setTimeout as sleep } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { hashToken } from '../../src/auth/tokens.js'
import { instanceInfra } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import { createReadyInstance, fastDeploys, insertInstance } from '../lifecycle/instance-fixtures.js'

/** A ready instance made through the real creation path; returns its service id and current token. */
async function createdInstance(t: Test, system: System, instanceId: string) {
  const serviceId = (await createReadyInstance(t, system, instanceId)).railwayServiceId as string
  const token = system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN as string
  return { serviceId, token }
}

const rowOf = async (system: System, instanceId: string) => {
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, instanceId))
  return row
}

const rotate = (t: Test, system: System, instanceId: string) =>
  request(t, system.app, {
    method: 'POST',
    url: `/instances/${instanceId}/rotate-token`,
    headers: poolAuth(),
  })

/** `GET /instances/{id}` with an instance token: an own-instance route, so the token's status code. */
const viewWith = async (t: Test, system: System, instanceId: string, token: string) =>
  (
    await request(t, system.app, {
      method: 'GET',
      url: `/instances/${instanceId}`,
      headers: { authorization: `Bearer ${token}` },
    })
  ).statusCode

function railwayVariables(system: System, serviceId: string): Record<string, string> {
  const service = system.emulators.railway.ledger
    .all<{ id: string; instances: Record<string, { variables: Record<string, string> }> }>('service')
    .find((s) => s.id === serviceId)
  return Object.values(service?.instances ?? {})[0]?.variables ?? {}
}

t.test(
  'rotate: the new token works at once, the old one does not; Railway and the agent have it',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys })
    const { serviceId, token: oldToken } = await createdInstance(t, system, 'agent-1')
    t.equal(await viewWith(t, system, 'agent-1', oldToken), 200, 'the creation token works')

    const response = await rotate(t, system, 'agent-1')
    t.equal(response.statusCode, 200, response.body)
    const result = response.json()
    t.match(result, { instanceId: 'agent-1', rotatedAt: String, livePush: 'delivered' })
    t.same(Object.keys(result).sort(), ['instanceId', 'livePush', 'rotatedAt'], 'nothing else, no token')

    const newToken = system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN as string
    t.match(newToken, /^ist_/, 'the running agent got a token through restart-gateway')
    t.not(newToken, oldToken, 'a new one')
    t.notMatch(response.body, newToken, 'which the response does not carry')
    t.equal(railwayVariables(system, serviceId).INSTANCE_SERVICES_TOKEN, newToken, 'Railway has it too')
    const row = await rowOf(system, 'agent-1')
    t.equal(row?.tokenHash, hashToken(newToken), 'only its hash is stored')
    t.equal(row?.pendingEnv, null, 'nothing left to deliver')

    t.equal(await viewWith(t, system, 'agent-1', newToken), 200, 'the new token opens its own instance')
    t.equal(await viewWith(t, system, 'agent-1', oldToken), 401, 'the old one is refused')
  },
)

t.test('an unreachable instance: rotated anyway, push pending, the reaper delivers it', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const { serviceId, token: oldToken } = await createdInstance(t, system, 'agent-1')
  system.emulators.railway.killRuntime(serviceId)

  const response = await rotate(t, system, 'agent-1')
  t.equal(response.statusCode, 200, response.body)
  t.equal(response.json().livePush, 'pending')
  const newToken = railwayVariables(system, serviceId).INSTANCE_SERVICES_TOKEN as string
  t.not(newToken, oldToken, 'Railway has the new token for the next deploy')
  t.equal(await viewWith(t, system, 'agent-1', newToken), 200, 'which works already')
  t.equal(await viewWith(t, system, 'agent-1', oldToken), 401, 'the old one no longer does')
  t.not((await rowOf(system, 'agent-1'))?.pendingEnv, null, 'queued for the running agent')

  // The runtime comes back (a deploy), then the reaper's push delivers what it missed.
  const redeploy = await request(t, system.app, {
    method: 'POST',
    url: '/redeploy/agent-1',
    headers: poolAuth(),
  })
  t.equal(redeploy.statusCode, 202, redeploy.body)
  for (let i = 0; i < 200 && !system.emulators.railway.runtimeOf(serviceId)?.ready; i++) await sleep(25)
  const restartsBefore = system.emulators.railway.runtimeOf(serviceId)?.restarts ?? 0
  for (const job of system.app.periodicJobs) await job()
  const runtime = system.emulators.railway.runtimeOf(serviceId)
  t.equal(runtime?.restarts, restartsBefore + 1, 'the reaper pushed once')
  t.equal(runtime?.restartEnvs.at(-1)?.INSTANCE_SERVICES_TOKEN, newToken, 'the new token')
  t.equal((await rowOf(system, 'agent-1'))?.pendingEnv, null, 'nothing left to deliver')
})

t.test('what cannot be rotated: 404 unknown or destroyed, 409 not ready', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const db = system.database.db
  await insertInstance(db, {
    instanceId: 'agent-creating',
    lifecycle: 'creating',
    image: 'i',
    tokenHash: 'h1',
  })
  await insertInstance(db, { instanceId: 'agent-failed', lifecycle: 'failed', image: 'i', tokenHash: 'h2' })
  await insertInstance(db, { instanceId: 'agent-gone', lifecycle: 'destroyed', image: 'i' })
  const cases: [string, number, string][] = [
    ['agent-unknown', 404, 'NOT_FOUND'],
    ['agent-gone', 404, 'NOT_FOUND'],
    ['agent-creating', 409, 'CONFLICT'],
    ['agent-failed', 409, 'CONFLICT'],
  ]
  for (const [instanceId, status, code] of cases) {
    const response = await rotate(t, system, instanceId)
    t.equal(response.statusCode, status, `${instanceId} → ${status}`)
    t.equal(response.json().code, code)
  }
  t.equal((await rowOf(system, 'agent-creating'))?.tokenHash, 'h1', 'a refused rotation keeps the token')
})
