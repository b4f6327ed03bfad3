import t from 'tap'
import {
  callRuntime,
  createInstance,
  DOCS,
  gqlData,
  IMAGE,
  latestStatus,
  startRailway,
  waitFor,
} from './railway-client.js'

const ORDER = ['QUEUED', 'INITIALIZING', 'BUILDING', 'DEPLOYING', 'SUCCESS']

t.test('the creation flow takes three requests and deploys the image with its variables', async (t) => {
  // Slow steps, so the progression can be watched.
  const railway = await startRailway(t, { deploy: { stepMs: 200 } })
  const created = await createInstance(railway, 'convos-agent-flow', {
    POOL_API_KEY: 'pool-key',
    INSTANCE_ID: 'i-1',
  })

  t.equal(railway.stats().requests, 3, 'projectCreate, serviceCreate, volumeCreate + serviceDomainCreate')
  t.same(
    railway.ledger.requests().map((r) => r.operation),
    ['projectCreate', 'serviceCreate', 'volumeCreate'],
    'the operation of a request is its first root field',
  )
  t.match(created.domain, /^127\.0\.0\.1:\d+$/, 'the domain is the runtime emulator’s address')
  t.equal(railway.stats().inFlightCreations, 0, 'the creation ended with the domain')
  t.equal(railway.stats().peakConcurrentCreations, 1)

  const seen: string[] = []
  await waitFor(
    () => latestStatus(railway, created.serviceId, created.environmentId),
    (deployment) => {
      const status = deployment?.status ?? 'none'
      if (seen.at(-1) !== status) seen.push(status)
      return status === 'SUCCESS'
    },
  )
  t.ok(seen.length >= 2, `more than one status was seen: ${seen.join(' → ')}`)
  t.same(
    seen.map((s) => ORDER.indexOf(s)),
    seen.map((s) => ORDER.indexOf(s)).sort((a, b) => a - b),
    'statuses only move forward, QUEUED → … → SUCCESS',
  )
  t.notOk(seen.includes('none'), 'serviceCreate with an image started a deployment at once')

  const runtime = railway.runtimeOf(created.serviceId)
  t.equal(runtime?.url, created.url)
  t.equal(runtime?.env.POOL_API_KEY, 'pool-key', 'the runtime runs with the serviceCreate variables')
  t.equal(runtime?.env.INSTANCE_ID, 'i-1')
  t.equal(runtime?.env.RAILWAY_SERVICE_ID, created.serviceId, 'plus what Railway injects')

  const data = await gqlData(railway, DOCS.serviceInstance, {
    serviceId: created.serviceId,
    environmentId: created.environmentId,
  })
  t.same(data.serviceInstance.domains, { serviceDomains: [{ domain: created.domain }], customDomains: [] })
  t.same(data.serviceInstance.source, { image: IMAGE })
  const project = await gqlData(railway, DOCS.project, { id: created.projectId })
  t.same(
    project.project.environments.edges.map((e: { node: { name: string } }) => e.node.name),
    ['production'],
    'one environment, named production',
  )
  t.equal(project.project.volumes.edges[0].node.id, created.volumeId)
})

t.test('the runtime: warm-up, auth, provision 503 → 200 and 400, restart-gateway', async (t) => {
  const railway = await startRailway(t, { runtime: { warmupMs: 2000 } })
  const created = await createInstance(railway, 'convos-agent-runtime', { POOL_API_KEY: 'k1' })
  await waitFor(
    () => latestStatus(railway, created.serviceId, created.environmentId),
    (d) => d?.status === 'SUCCESS',
  )
  const url = created.url
  const key = 'k1'

  t.same(await callRuntime(url, 'GET', '/pool/health'), { status: 401, body: { error: 'Unauthorized' } })
  t.same(await callRuntime(url, 'GET', '/pool/health', { key: 'wrong' }), {
    status: 401,
    body: { error: 'Unauthorized' },
  })
  t.same(
    await callRuntime(url, 'GET', '/pool/health', { key }),
    { status: 200, body: { ready: false } },
    'warming up',
  )
  t.same(
    await callRuntime(url, 'POST', '/pool/provision', { key, body: { agentName: 'a', instructions: 'b' } }),
    { status: 503, body: { error: 'Gateway not ready yet' } },
  )
  await waitFor(
    () => callRuntime(url, 'GET', '/pool/health', { key }),
    (r) => r.body?.ready === true,
  )

  for (const body of [{ agentName: 'Ada' }, { agentName: '', instructions: 'x' }, { instructions: 'x' }]) {
    const reply = await callRuntime(url, 'POST', '/pool/provision', { key, body })
    t.equal(reply.status, 400, `400 for ${JSON.stringify(body)}`)
  }
  const fresh = await callRuntime(url, 'POST', '/pool/provision', {
    key,
    body: { agentName: 'Ada', instructions: 'Be helpful' },
  })
  t.equal(fresh.status, 200)
  t.match(fresh.body, { ok: true, joined: false, inviteUrl: String, conversationId: String })
  const joined = await callRuntime(url, 'POST', '/pool/provision', {
    key,
    body: { agentName: 'Ada', instructions: 'Be helpful', joinUrl: 'https://convos.org/v2?i=abc' },
  })
  t.match(joined.body, { ok: true, joined: true, inviteUrl: 'https://convos.org/v2?i=abc' })
  t.same(
    railway.runtimeOf(created.serviceId)?.provisions.map((p) => [p.agentName, p.joined]),
    [
      ['Ada', false],
      ['Ada', true],
    ],
    'the runtime recorded what it was asked to provision',
  )

  t.same(await callRuntime(url, 'GET', '/pool/health?probe=1', { key }), {
    status: 502,
    body: { error: 'Gateway unavailable' },
  })
  t.equal(
    (await callRuntime(url, 'GET', '/pool/provision', { key })).status,
    502,
    'routes match the method too',
  )

  t.same(await callRuntime(url, 'POST', '/pool/restart-gateway', { key, body: '{not json' }), {
    status: 400,
    body: { error: 'Invalid JSON body' },
  })
  t.same(
    await callRuntime(url, 'POST', '/pool/restart-gateway', {
      key,
      body: { env: { OPENROUTER_API_KEY: 'or-1' } },
    }),
    { status: 200, body: { ok: true } },
  )
  const runtime = railway.runtimeOf(created.serviceId)
  t.equal(runtime?.restarts, 1)
  t.same(runtime?.restartEnvs, [{ OPENROUTER_API_KEY: 'or-1' }])
  t.equal(runtime?.env.OPENROUTER_API_KEY, 'or-1', 'merged into the process env')
  t.equal(runtime?.env.POOL_API_KEY, 'k1', 'the rest of the env stays')
  t.same(
    await callRuntime(url, 'GET', '/pool/health', { key }),
    { status: 200, body: { ready: false } },
    'restarting',
  )
})

t.test('variables: skipDeploys stages, a redeploy restarts the runtime with them', async (t) => {
  const railway = await startRailway(t)
  const c = await createInstance(railway, 'convos-agent-vars', { POOL_API_KEY: 'k1', MODEL: 'a' })
  const ids = { projectId: c.projectId, environmentId: c.environmentId, serviceId: c.serviceId }
  const first = await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.status === 'SUCCESS',
  )
  t.equal(railway.runtimeOf(c.serviceId)?.starts, 1)

  await gqlData(railway, DOCS.variableCollectionUpsert, {
    input: { ...ids, variables: { MODEL: 'b' }, skipDeploys: true },
  })
  t.equal(
    (await latestStatus(railway, c.serviceId, c.environmentId))?.id,
    first?.id,
    'skipDeploys: no deployment',
  )
  t.same((await gqlData(railway, DOCS.variables, ids)).variables, { POOL_API_KEY: 'k1', MODEL: 'b' })
  t.equal(railway.runtimeOf(c.serviceId)?.env.MODEL, 'a', 'the running app keeps its variables')

  await gqlData(railway, DOCS.serviceInstanceRedeploy, {
    serviceId: c.serviceId,
    environmentId: c.environmentId,
  })
  const second = await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.id !== first?.id && d?.status === 'SUCCESS',
  )
  await waitFor(
    () => railway.runtimeOf(c.serviceId)?.starts,
    (starts) => starts === 2,
  )
  t.equal(
    railway.runtimeOf(c.serviceId)?.env.MODEL,
    'b',
    'the redeploy restarted the runtime with the new value',
  )
  t.equal(
    (await gqlData(railway, DOCS.deployment, { id: first?.id })).deployment.status,
    'REMOVED',
    'the new deployment removed the previous one',
  )

  await gqlData(railway, DOCS.variableCollectionUpsert, {
    input: { ...ids, variables: { POOL_API_KEY: 'k2' } },
  })
  const third = await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.id !== second?.id && d?.status === 'SUCCESS',
  )
  t.ok(third, 'an upsert without skipDeploys redeploys')
  await waitFor(
    () => railway.runtimeOf(c.serviceId)?.env.POOL_API_KEY,
    (value) => value === 'k2',
  )
  t.equal(
    (await callRuntime(c.url, 'GET', '/pool/health', { key: 'k1' })).status,
    401,
    'the old key is refused',
  )
  t.equal((await callRuntime(c.url, 'GET', '/pool/health', { key: 'k2' })).status, 200, 'the new key works')

  await gqlData(railway, DOCS.variableCollectionUpsert, {
    input: { ...ids, variables: { ONLY: '1' }, replace: true, skipDeploys: true },
  })
  t.same((await gqlData(railway, DOCS.variables, ids)).variables, { ONLY: '1' }, 'replace drops the others')
  await gqlData(railway, DOCS.variableDelete, { input: { ...ids, name: 'ONLY' } })
  t.same((await gqlData(railway, DOCS.variables, ids)).variables, {})
  const afterDelete = await latestStatus(railway, c.serviceId, c.environmentId)
  t.not(afterDelete?.id, third?.id, 'variableDelete redeploys')
})

t.test(
  'serviceInstanceUpdate stages an image; serviceInstanceDeployV2 and deploymentRedeploy deploy',
  async (t) => {
    const railway = await startRailway(t)
    const c = await createInstance(railway, 'convos-agent-image')
    const first = await waitFor(
      () => latestStatus(railway, c.serviceId, c.environmentId),
      (d) => d?.status === 'SUCCESS',
    )
    const nextImage = 'ghcr.io/xmtplabs/convos-runtime:sha-def5678'
    await gqlData(railway, DOCS.serviceInstanceUpdate, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
      input: { source: { image: nextImage }, registryCredentials: { username: 'u', password: 'p' } },
    })
    t.equal(
      (await latestStatus(railway, c.serviceId, c.environmentId))?.id,
      first?.id,
      'the update deployed nothing',
    )
    const { serviceInstanceDeployV2: id } = await gqlData(railway, DOCS.serviceInstanceDeployV2, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
    })
    t.equal(
      (await latestStatus(railway, c.serviceId, c.environmentId))?.id,
      id,
      'DeployV2 returns the new deployment id',
    )
    const data = await gqlData(railway, DOCS.serviceInstance, {
      serviceId: c.serviceId,
      environmentId: c.environmentId,
    })
    t.same(data.serviceInstance.source, { image: nextImage })
    const deployed = railway.ledger.snapshot().live.deployment as { id: string; image: string }[]
    t.equal(deployed.find((d) => d.id === id)?.image, nextImage, 'the new deployment runs the new image')

    const { deploymentRedeploy } = await gqlData(railway, DOCS.deploymentRedeploy, { id })
    t.equal(deploymentRedeploy.status, 'QUEUED')
    t.not(deploymentRedeploy.id, id)
    const listed = await gqlData(railway, DOCS.deployments, { input: { serviceId: c.serviceId }, first: 10 })
    t.equal(listed.deployments.edges[0].node.id, deploymentRedeploy.id, 'deployments are listed newest first')
    t.equal(listed.deployments.edges.length, 3)
    const superseded = listed.deployments.edges[1].node
    t.equal(superseded.id, id)
    t.ok(['REMOVED', 'SUCCESS'].includes(superseded.status), `the previous one is ${superseded.status}`)
  },
)

t.test('the ledger shows the live resources of a flow, and no registry password', async (t) => {
  const railway = await startRailway(t)
  const c = await createInstance(railway, 'convos-agent-ledger', { POOL_API_KEY: 'k' })
  await waitFor(
    () => latestStatus(railway, c.serviceId, c.environmentId),
    (d) => d?.status === 'SUCCESS',
  )
  const snapshot = railway.ledger.snapshot()
  const ids = (kind: string) => ((snapshot.live[kind] ?? []) as { id: string }[]).map((r) => r.id)
  t.same(ids('project'), [c.projectId])
  t.same(ids('environment'), [c.environmentId])
  t.same(ids('service'), [c.serviceId])
  t.same(ids('volume'), [c.volumeId])
  t.equal(ids('domain').length, 1)
  t.equal(ids('deployment').length, 1)
  t.match(snapshot.live.volume, [
    { mountPath: '/data', serviceId: c.serviceId, environmentId: c.environmentId },
  ])
  t.match(snapshot.live.domain, [{ domain: c.domain, serviceId: c.serviceId }])
  t.same(snapshot.created, { project: 1, environment: 1, service: 1, deployment: 1, volume: 1, domain: 1 })
  t.notOk(JSON.stringify(snapshot).includes('ghp_example'), 'the registry password is not kept')
})

t.test(
  'creations in flight: from projectCreate until a domain exists or the project is deleted',
  async (t) => {
    const railway = await startRailway(t)
    const projects = []
    for (const name of ['a', 'b', 'c']) {
      const { projectCreate } = await gqlData(railway, DOCS.projectCreate, {
        input: { name: `convos-agent-${name}`, workspaceId: railway.workspaceId },
      })
      projects.push(projectCreate)
    }
    t.match(railway.stats(), { inFlightCreations: 3, peakConcurrentCreations: 3 })
    await gqlData(railway, DOCS.projectDelete, { id: projects[0].id })
    t.match(
      railway.stats(),
      { inFlightCreations: 2, peakConcurrentCreations: 3 },
      'a deleted project ends its creation',
    )
    const environmentId = projects[1].environments.edges[0].node.id
    const { serviceCreate } = await gqlData(railway, DOCS.serviceCreate, {
      input: { projectId: projects[1].id, environmentId, source: { image: IMAGE } },
    })
    t.equal(serviceCreate.name, 'convos-runtime', 'a service without a name is named after its image')
    t.equal(railway.stats().inFlightCreations, 2, 'a service alone does not end it')
    await gqlData(railway, DOCS.volumeAndDomain, {
      volume: { projectId: projects[1].id, serviceId: serviceCreate.id, environmentId, mountPath: '/data' },
      domain: { serviceId: serviceCreate.id, environmentId },
    })
    t.match(railway.stats(), { inFlightCreations: 1, peakConcurrentCreations: 3 }, 'the domain ends it')
  },
)
