import t from 'tap'
import {
  callRuntime,
  connectionError,
  createInstance,
  DOCS,
  gqlData,
  IMAGE,
  latestStatus,
  startRailway,
  waitFor,
} from './railway-client.js'

const settled = (status: string | undefined) => ['SUCCESS', 'FAILED', 'CRASHED'].includes(status ?? '')

t.test('before any deployment succeeds the domain answers like Railway’s edge: 404', async (t) => {
  const railway = await startRailway(t)
  const { projectCreate } = await gqlData(railway, DOCS.projectCreate, {
    input: { name: 'convos-agent-edge', workspaceId: railway.workspaceId },
  })
  const environmentId = projectCreate.environments.edges[0].node.id
  const { serviceCreate } = await gqlData(railway, DOCS.serviceCreate, {
    input: { projectId: projectCreate.id, environmentId, name: 'runtime' },
  })
  t.equal(railway.stats().inFlightCreations, 1, 'a creation is in flight until the domain exists')
  const { serviceDomainCreate } = await gqlData(
    railway,
    'mutation d($input: ServiceDomainCreateInput!) { serviceDomainCreate(input: $input) { domain } }',
    { input: { serviceId: serviceCreate.id, environmentId } },
  )
  t.equal(railway.stats().inFlightCreations, 0)
  const url = `http://${serviceDomainCreate.domain}`
  t.equal(await latestStatus(railway, serviceCreate.id, environmentId), null, 'no source, no deployment')
  const edge = await callRuntime(url, 'GET', '/pool/health')
  t.equal(edge.status, 404)
  t.match(edge.body, { status: 'error', code: 404, message: 'Application not found' })

  await gqlData(railway, DOCS.serviceInstanceUpdate, {
    serviceId: serviceCreate.id,
    environmentId,
    input: { source: { image: IMAGE } },
  })
  t.equal(
    await latestStatus(railway, serviceCreate.id, environmentId),
    null,
    'serviceInstanceUpdate did not deploy',
  )
  t.equal((await callRuntime(url, 'GET', '/pool/health')).status, 404)
  await gqlData(railway, DOCS.serviceInstanceDeployV2, { serviceId: serviceCreate.id, environmentId })
  await waitFor(
    () => callRuntime(url, 'GET', '/pool/health'),
    (r) => r.status === 200,
  )
  t.pass('after the deployment succeeded the runtime answers')
})

t.test(
  'setDeployOutcome: FAILED keeps the previous deployment live, CRASHED takes the app down',
  async (t) => {
    const railway = await startRailway(t)
    const c = await createInstance(railway, 'convos-agent-outcomes')
    const good = await waitFor(
      () => latestStatus(railway, c.serviceId, c.environmentId),
      (d) => d?.status === 'SUCCESS',
    )
    await waitFor(
      () => callRuntime(c.url, 'GET', '/pool/health'),
      (r) => r.status === 200,
    )

    railway.setDeployOutcome('FAILED')
    await gqlData(railway, DOCS.serviceInstanceRedeploy, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
    })
    const failed = await waitFor(
      () => latestStatus(railway, c.serviceId, c.environmentId),
      (d) => d?.id !== good?.id && settled(d?.status),
    )
    t.equal(failed?.status, 'FAILED')
    t.equal(
      (await gqlData(railway, DOCS.deployment, { id: good?.id })).deployment.status,
      'SUCCESS',
      'the old one stays',
    )
    t.equal((await callRuntime(c.url, 'GET', '/pool/health')).status, 200, 'and keeps serving')

    railway.setDeployOutcome('CRASHED')
    await gqlData(railway, DOCS.serviceInstanceRedeploy, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
    })
    const crashed = await waitFor(
      () => latestStatus(railway, c.serviceId, c.environmentId),
      (d) => d?.id !== failed?.id && settled(d?.status),
    )
    t.equal(crashed?.status, 'CRASHED')
    t.equal((await gqlData(railway, DOCS.deployment, { id: good?.id })).deployment.status, 'REMOVED')
    const down = await callRuntime(c.url, 'GET', '/pool/health')
    t.equal(down.status, 502)
    t.match(down.body, { status: 'error', code: 502, message: 'Application failed to respond' })

    railway.setDeployOutcome('SUCCESS')
    await gqlData(railway, DOCS.serviceInstanceRedeploy, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
    })
    await waitFor(
      () => callRuntime(c.url, 'GET', '/pool/health'),
      (r) => r.status === 200,
    )
    t.pass('a successful redeploy brings it back')
  },
)

t.test('killRuntime: connections refused and the deployment CRASHED until a redeploy succeeds', async (t) => {
  const railway = await startRailway(t)
  const c = await createInstance(railway, 'convos-agent-kill', { POOL_API_KEY: 'k' })
  const live = await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.status === 'SUCCESS',
  )
  await waitFor(
    () => callRuntime(c.url, 'GET', '/pool/health', { key: 'k' }),
    (r) => r.status === 200,
  )

  railway.killRuntime(c.serviceId)
  t.equal(await connectionError(c.url), 'ECONNREFUSED')
  t.equal((await latestStatus(railway, c.serviceId, c.environmentId))?.status, 'CRASHED')
  t.equal(railway.runtimeOf(c.serviceId)?.state, 'killed')

  await gqlData(railway, DOCS.serviceInstanceRedeploy, {
    serviceId: c.serviceId,
    environmentId: c.environmentId,
  })
  await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.id !== live?.id && d?.status === 'SUCCESS',
  )
  const back = await waitFor(
    () =>
      callRuntime(c.url, 'GET', '/pool/health', { key: 'k' }).catch(() => ({ status: 0, body: undefined })),
    (r) => r.status === 200,
  )
  t.same(back.body, { ready: back.body?.ready }, 'the same URL answers again')
  t.equal(railway.runtimeOf(c.serviceId)?.starts, 2)
})
