import t from 'tap'
import {
  callRuntime,
  connectionError,
  createInstance,
  DOCS,
  gql,
  gqlData,
  IMAGE,
  latestStatus,
  startRailway,
  waitFor,
} from './railway-client.js'

t.test('serviceInstance with 50 aliases in one request', async (t) => {
  const railway = await startRailway(t, { rateLimit: false })
  const live = await createInstance(railway, 'convos-agent-batch')
  const services = [live.serviceId]
  for (let i = 0; i < 49; i++) {
    const { serviceCreate } = await gqlData(railway, DOCS.serviceCreate, {
      input: { projectId: live.projectId, environmentId: live.environmentId, name: `svc-${i}` },
    })
    services.push(serviceCreate.id)
  }
  const fields = services.map(
    (_, i) => `s${i}: serviceInstance(serviceId: $s${i}, environmentId: $env) {
      latestDeployment { id status } domains { serviceDomains { domain } customDomains { domain } } source { image }
    }`,
  )
  const query = `query batch($env: String!, ${services.map((_, i) => `$s${i}: String!`).join(', ')}) {
    ${fields.join('\n')}
  }`
  const variables = Object.fromEntries([
    ['env', live.environmentId],
    ...services.map((id, i) => [`s${i}`, id]),
  ])
  const before = railway.stats().requests
  const reply = await gql(railway, query, variables)
  t.equal(railway.stats().requests - before, 1, 'one request')
  t.equal(reply.status, 200)
  t.notOk(reply.body.errors)
  t.equal(Object.keys(reply.body.data).length, 50)
  t.same(reply.body.data.s0.domains.serviceDomains, [{ domain: live.domain }])
  t.same(reply.body.data.s0.source, { image: IMAGE })
  t.ok(reply.body.data.s0.latestDeployment.id, 'the deployed service has a deployment')
  t.same(reply.body.data.s7, {
    latestDeployment: null,
    domains: { serviceDomains: [], customDomains: [] },
    source: null,
  })

  // One unknown id fails the whole batch: serviceInstance is non-null, so `data` becomes null.
  const broken = await gql(railway, query, { ...variables, s3: 'no-such-service' })
  t.equal(broken.status, 200)
  t.equal(broken.body.data, null)
  t.match(broken.body.errors, [
    { message: 'ServiceInstance not found', path: ['s3'], extensions: { code: 'BAD_USER_INPUT' } },
  ])
})

t.test('projects: Relay paging, default page size, finding one by name', async (t) => {
  const railway = await startRailway(t, { rateLimit: false })
  const names = Array.from({ length: 45 }, (_, i) => `convos-agent-${String(i).padStart(2, '0')}`)
  for (const name of names) {
    await gqlData(railway, DOCS.projectCreate, { input: { name, workspaceId: railway.workspaceId } })
  }

  const firstPage = await gqlData(railway, DOCS.projects, { workspaceId: railway.workspaceId })
  t.equal(firstPage.projects.edges.length, 20, 'without `first`, a page holds 20')
  t.equal(firstPage.projects.pageInfo.hasNextPage, true)

  const seen: string[] = []
  let after: string | null = null
  let pages = 0
  do {
    const page: {
      projects: { edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } }
    } = await gqlData(railway, DOCS.projects, { workspaceId: railway.workspaceId, first: 20, after })
    pages += 1
    seen.push(...page.projects.edges.map((e) => e.node.name))
    after = page.projects.pageInfo.hasNextPage ? page.projects.pageInfo.endCursor : null
    // A project deleted while paging must not make the next page skip one.
    if (pages === 1) {
      const victim = (await gqlData(railway, DOCS.projects, { first: 1 })).projects.edges[0].node
      await gqlData(railway, DOCS.projectDelete, { id: victim.id })
    }
  } while (after)
  t.equal(pages, 3)
  t.same(seen, names, 'every project once, oldest first')

  const capped = await gqlData(railway, DOCS.projects, { first: 500 })
  t.equal(capped.projects.edges.length, 44, 'a `first` above the cap of 100 still answers')
  t.ok(seen.includes('convos-agent-33'), 'a project is found by paging and matching its name')

  const bad = await gql(railway, DOCS.projects, { after: 'not-a-cursor' })
  t.match(bad.body.errors, [{ message: 'Invalid cursor', extensions: { code: 'BAD_USER_INPUT' } }])

  const workspace = await gqlData(railway, DOCS.workspace, { workspaceId: railway.workspaceId })
  t.same(workspace.workspace, { id: railway.workspaceId, name: 'Emulated workspace' })
})

t.test('projectDelete removes the project with everything in it and stops its runtime', async (t) => {
  const railway = await startRailway(t)
  const keep = await createInstance(railway, 'convos-agent-keep')
  const gone = await createInstance(railway, 'convos-agent-gone')
  await waitFor(
    () => latestStatus(railway, gone.serviceId, gone.environmentId),
    (d) => d?.status === 'SUCCESS',
  )
  await waitFor(
    () => callRuntime(gone.url, 'GET', '/pool/health'),
    (r) => r.status === 200,
  )

  t.same(await gqlData(railway, DOCS.projectDelete, { id: gone.projectId }), { projectDelete: true })
  t.equal(await connectionError(gone.url), 'ECONNREFUSED', 'the runtime no longer accepts connections')
  const live = railway.ledger.snapshot().live as Record<string, { projectId?: string; id: string }[]>
  for (const kind of ['environment', 'service', 'volume', 'domain', 'deployment']) {
    t.notOk(
      live[kind]?.some((r) => r.projectId === gone.projectId),
      `no ${kind} of the deleted project is left`,
    )
    t.ok(
      live[kind]?.some((r) => r.projectId === keep.projectId),
      `the other project still has its ${kind}`,
    )
  }
  t.same(
    live.project?.map((p) => p.id),
    [keep.projectId],
  )
  t.equal(railway.runtimeOf(gone.serviceId), undefined)

  const again = await gql(railway, DOCS.projectDelete, { id: gone.projectId })
  t.equal(again.status, 200)
  t.match(again.body, {
    data: null,
    errors: [{ message: 'Project not found', extensions: { code: 'BAD_USER_INPUT', traceId: String } }],
  })
  const environments = await gql(railway, DOCS.environments, { projectId: gone.projectId })
  t.match(environments.body.errors, [{ message: 'Project not found' }])
})

t.test('serviceDelete removes one service and leaves the project’s other services alone', async (t) => {
  const railway = await startRailway(t)
  const first = await createInstance(railway, 'convos-agent-two-services')
  const { serviceCreate: second } = await gqlData(railway, DOCS.serviceCreate, {
    input: {
      projectId: first.projectId,
      environmentId: first.environmentId,
      name: 'second',
      source: { image: IMAGE },
    },
  })
  const { serviceDomainCreate } = await gqlData(
    railway,
    `mutation d($input: ServiceDomainCreateInput!) { serviceDomainCreate(input: $input) { domain } }`,
    { input: { serviceId: second.id, environmentId: first.environmentId } },
  )
  const secondUrl = `http://${serviceDomainCreate.domain}`
  for (const [serviceId, url] of [
    [first.serviceId, first.url],
    [second.id, secondUrl],
  ] as const) {
    await waitFor(
      () => latestStatus(railway, serviceId, first.environmentId),
      (d) => d?.status === 'SUCCESS',
    )
    await waitFor(
      () => callRuntime(url, 'GET', '/pool/health'),
      (r) => r.status === 200,
    )
  }

  t.same(await gqlData(railway, DOCS.serviceDelete, { id: second.id, environmentId: first.environmentId }), {
    serviceDelete: true,
  })
  t.equal(await connectionError(secondUrl), 'ECONNREFUSED', 'the deleted service’s runtime is gone')
  t.equal((await callRuntime(first.url, 'GET', '/pool/health')).status, 200, 'the other one still answers')
  const project = await gqlData(railway, DOCS.project, { id: first.projectId })
  t.same(
    project.project.services.edges.map((e: { node: { id: string } }) => e.node.id),
    [first.serviceId],
  )
  t.same(
    (railway.ledger.snapshot().live.domain as { serviceId: string }[]).map((d) => d.serviceId),
    [first.serviceId],
  )
  t.equal((await latestStatus(railway, first.serviceId, first.environmentId))?.status, 'SUCCESS')

  t.same(await gqlData(railway, DOCS.volumeDelete, { volumeId: first.volumeId }), { volumeDelete: true })
  t.equal(railway.ledger.snapshot().live.volume?.length ?? 0, 0)
  const missing = await gql(railway, DOCS.volumeDelete, { volumeId: first.volumeId })
  t.match(missing.body.errors, [{ message: 'Volume not found', extensions: { code: 'BAD_USER_INPUT' } }])
})

t.test('environment.volumeInstances: each volume with the service it is mounted in', async (t) => {
  const railway = await startRailway(t)
  const first = await createInstance(railway, 'convos-agent-volumes')
  const { serviceCreate: second } = await gqlData(railway, DOCS.serviceCreate, {
    input: { projectId: first.projectId, environmentId: first.environmentId, name: 'second' },
  })
  const { volumeCreate } = await gqlData(
    railway,
    `mutation v($input: VolumeCreateInput!) { volumeCreate(input: $input) { id } }`,
    { input: { projectId: first.projectId, serviceId: second.id, mountPath: '/data' } },
  )
  const instances = async (args: object = {}) =>
    (await gqlData(railway, DOCS.volumeInstances, { id: first.environmentId, ...args })).environment
      .volumeInstances

  const all = await instances({ projectId: first.projectId })
  t.match(all.edges, [
    {
      node: {
        volumeId: first.volumeId,
        serviceId: first.serviceId,
        environmentId: first.environmentId,
        mountPath: '/data',
        isPendingDeletion: false,
        deletedAt: null,
        state: 'READY',
        volume: { id: first.volumeId },
      },
    },
    { node: { volumeId: volumeCreate.id, serviceId: second.id } },
  ])
  const ids = all.edges.map((e: { node: { id: string } }) => e.node.id)
  t.same(
    (await instances()).edges.map((e: { node: { id: string } }) => e.node.id),
    ids,
    'a stable id',
  )
  const page = await instances({ first: 1 })
  t.equal(page.edges.length, 1)
  t.equal(page.pageInfo.hasNextPage, true)
  const next = await instances({ first: 1, after: page.pageInfo.endCursor })
  t.same(
    next.edges.map((e: { node: { volumeId: string } }) => e.node.volumeId),
    [volumeCreate.id],
    'paged',
  )
  const otherProject = await createInstance(railway, 'convos-agent-other')
  const foreign = await gql(railway, DOCS.volumeInstances, {
    id: first.environmentId,
    projectId: otherProject.projectId,
  })
  t.match(foreign.body.errors, [{ message: 'Environment not found' }], 'not through another project')
})

t.test(
  'serviceDeleteVolumes: delete (default) removes the volume; detach leaves it unattached',
  async (t) => {
    for (const mode of ['delete', 'detach'] as const) {
      const railway = await startRailway(t, { serviceDeleteVolumes: mode })
      const instance = await createInstance(railway, `convos-agent-${mode}`)
      await gqlData(railway, DOCS.serviceDelete, { id: instance.serviceId })
      const volumes = (railway.ledger.snapshot().live.volume ?? []) as {
        id: string
        serviceId: string | null
      }[]
      if (mode === 'delete') t.same(volumes, [], 'delete: the volume went with its service')
      else
        t.match(volumes, [{ id: instance.volumeId, serviceId: null }], 'detach: the volume stays, unattached')
    }
  },
)
