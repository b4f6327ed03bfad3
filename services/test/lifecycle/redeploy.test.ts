import { setTimeout } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import t from 'tap'
import type { DeploymentRecord } from '../../../emulators/src/railway/store.js'
import { instanceInfra } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import {
  adoptBody,
  fastDeploys,
  LEGACY_IMAGE,
  legacyEnv,
  NEW_IMAGE,
  ownProjectInstance,
  railwayRequests,
  sharedProject,
} from './instance-fixtures.js'

type Tap = Parameters<typeof request>[0]

const redeploy = (t: Tap, system: System, instanceId: string, payload?: object) =>
  request(t, system.app, {
    method: 'POST',
    url: `/redeploy/${instanceId}`,
    headers: poolAuth(),
    ...(payload ? { payload } : {}),
  })

const rowOf = async (system: System, instanceId: string) => {
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, instanceId))
  return row
}

const deploymentOf = (system: System, id: string) =>
  system.emulators.railway.ledger.get<DeploymentRecord>('deployment', id)

/** Waits (bounded) until Railway reports `image` live for the service; returns the last status seen. */
async function statusWhenDeployed(system: System, serviceId: string, environmentId: string, image: string) {
  let status = (await system.railway.statusOf([{ serviceId, environmentId }]))[0]
  for (let i = 0; i < 100 && !(status?.deployStatus === 'SUCCESS' && status.image === image); i++) {
    await setTimeout(20)
    status = (await system.railway.statusOf([{ serviceId, environmentId }]))[0]
  }
  return status
}

t.test('redeploy a created instance: same image, then a new one', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const created = await ownProjectInstance(system, 'agent-1')
  const { railwayServiceId: serviceId, railwayEnvironmentId: environmentId } = created
  if (!serviceId || !environmentId) throw new Error('the fixture sets the Railway ids')

  const before = railwayRequests(system)
  const same = await redeploy(t, system, 'agent-1')
  t.equal(same.statusCode, 202, same.body)
  t.equal(railwayRequests(system) - before, 1, 'a redeploy is one Railway request')
  const result = same.json()
  t.match(result, { instanceId: 'agent-1', image: created.image, deploymentId: String })
  const deployment = deploymentOf(system, result.deploymentId)
  t.match(deployment, { serviceId, environmentId, image: created.image }, 'Railway has the new deployment')
  const afterSame = await rowOf(system, 'agent-1')
  t.equal(afterSame?.deployStatus, 'QUEUED', 'the row says a deployment is queued')
  t.ok(
    (afterSame?.updatedAt.getTime() ?? 0) > created.updatedAt.getTime(),
    'updated_at moved (status cached from the previous deployment is stale)',
  )

  const beforeSwitch = railwayRequests(system)
  const switched = await redeploy(t, system, 'agent-1', { image: NEW_IMAGE })
  t.equal(switched.statusCode, 202, switched.body)
  t.equal(railwayRequests(system) - beforeSwitch, 1, 'image switch and deploy: still one request')
  t.equal(switched.json().image, NEW_IMAGE)
  t.not(switched.json().deploymentId, result.deploymentId, 'another deployment')
  t.equal(deploymentOf(system, switched.json().deploymentId)?.image, NEW_IMAGE)
  t.equal((await rowOf(system, 'agent-1'))?.image, NEW_IMAGE, 'the row has the new image')
  const status = await statusWhenDeployed(system, serviceId, environmentId, NEW_IMAGE)
  t.match(status, { deployStatus: 'SUCCESS', image: NEW_IMAGE }, 'Railway runs the new image')

  const view = await request(t, system.app, { method: 'GET', url: '/instances/agent-1', headers: poolAuth() })
  t.match(view.json(), { image: NEW_IMAGE, deployStatus: 'QUEUED' })
})

t.test('redeploy a legacy instance: only its service changes', async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway)
  const [target, ...others] = shared.services
  if (!target) throw new Error('the shared project has services')
  const adopted = await request(t, system.app, {
    method: 'POST',
    url: '/adopt-instance',
    headers: poolAuth(),
    payload: adoptBody(shared, target),
  })
  t.equal(adopted.statusCode, 201, adopted.body)

  const before = railwayRequests(system)
  const response = await redeploy(t, system, 'legacy-1', { image: NEW_IMAGE })
  t.equal(response.statusCode, 202, response.body)
  t.equal(railwayRequests(system) - before, 1, 'one Railway request')
  t.comment(`Railway requests per redeploy: ${railwayRequests(system) - before}`)
  t.equal(deploymentOf(system, response.json().deploymentId)?.serviceId, target.serviceId)

  const status = await statusWhenDeployed(system, target.serviceId, shared.environmentId, NEW_IMAGE)
  t.match(status, { deployStatus: 'SUCCESS', image: NEW_IMAGE }, 'the adopted service runs the new image')
  const rest = await system.railway.statusOf(
    others.map(({ serviceId }) => ({ serviceId, environmentId: shared.environmentId })),
  )
  t.same(
    rest.map((s) => s.image),
    others.map(() => LEGACY_IMAGE),
    'the shared project’s other services keep their image',
  )
  t.same(
    system.emulators.railway.ledger
      .all<DeploymentRecord>('deployment')
      .filter((d) => d.serviceId !== target.serviceId)
      .map((d) => d.reason),
    others.map(() => 'deploy'),
    'and were not redeployed',
  )
  t.match(await rowOf(system, 'legacy-1'), { image: NEW_IMAGE, deployStatus: 'QUEUED', legacy: true })
})

t.test('what cannot be redeployed: 404 and 409, without a Railway request', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  for (const lifecycle of ['creating', 'destroying', 'failed', 'destroyed'] as const) {
    await ownProjectInstance(system, `agent-${lifecycle}`, { lifecycle })
  }
  const before = railwayRequests(system)
  const cases: [string, number][] = [
    ['agent-unknown', 404],
    ['agent-destroyed', 404],
    ['agent-creating', 409],
    ['agent-destroying', 409],
    ['agent-failed', 409],
  ]
  for (const [instanceId, status] of cases) {
    const response = await redeploy(t, system, instanceId)
    t.equal(response.statusCode, status, `${instanceId}: ${status}`)
    t.equal(response.json().code, status === 404 ? 'NOT_FOUND' : 'CONFLICT')
  }
  t.equal(railwayRequests(system), before, 'none of them reached Railway')

  const invalid = await redeploy(t, system, 'agent-creating', { image: 'Not An Image' })
  t.equal(invalid.statusCode, 400, 'an invalid image is refused by the contract')
  const extra = await redeploy(t, system, 'agent-creating', { image: NEW_IMAGE, force: true })
  t.equal(extra.statusCode, 400, 'unknown body fields are refused')
})

t.test('a service deleted behind our back: a provider problem, the row unchanged', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const created = await ownProjectInstance(system, 'agent-1')
  await system.railway.deleteProject(created.railwayProjectId as string)
  const response = await redeploy(t, system, 'agent-1', { image: NEW_IMAGE })
  t.equal(response.statusCode, 502, response.body)
  t.equal(response.json().code, 'PROVIDER_FAILED')
  t.match(response.json().detail, /PROVIDER_NOT_FOUND/)
  t.match(await rowOf(system, 'agent-1'), { image: created.image, deployStatus: 'SUCCESS' })
})
