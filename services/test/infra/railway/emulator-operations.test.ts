import t from 'tap'
import { createRailway, projectNameFor, RailwayError } from '../../../src/infra/railway/index.js'
import { createAgent, IMAGE, railwayWithEmulator, requestLog } from './helpers/emulator.js'

interface LedgerService {
  instances: Record<string, { image: string; variables: Record<string, string> }>
}

t.test('a fleet of 120: status in 3 requests, projects listed and found across pages', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const refs = await Promise.all(
    Array.from({ length: 120 }, (_, i) =>
      createAgent(railway, projectNameFor(`fleet-${String(i).padStart(3, '0')}`)),
    ),
  )
  const before = requestLog(emulator).length

  const statuses = await railway.statusOf(refs)
  const statusRequests = requestLog(emulator).slice(before)
  t.equal(statusRequests.length, 3, '⌈120/50⌉ = 3 requests')
  t.ok(statusRequests.every((r) => r.operation === 'serviceInstance' && r.status === 200))
  t.same(
    statuses.map((s) => s.serviceId),
    refs.map((r) => r.serviceId),
    'results in the order asked',
  )
  t.ok(
    statuses.every((s) => s.exists && s.image === IMAGE && s.deploymentId),
    'each with its deployment and image',
  )

  const listed = await railway.listProjects()
  t.equal(listed.length, 120, 'all 120 projects, past the first page of 100')
  const last = projectNameFor('fleet-119')
  const found = await railway.findProjectByName(last)
  t.equal(found?.id, refs[119]?.projectId, 'found by name on the second page')
  t.equal(await railway.findProjectByName('agent-nobody'), undefined)
})

t.test('status of a deleted service: reported as gone, the others still read', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const a = await createAgent(railway, 'agent-a')
  const b = await createAgent(railway, 'agent-b')
  const c = await createAgent(railway, 'agent-c')
  t.equal(await railway.deleteProject(b.projectId), 'deleted')
  const before = requestLog(emulator).length
  const [sa, sb, sc] = await railway.statusOf([a, b, c])
  t.same([sa?.exists, sb?.exists, sc?.exists], [true, false, true])
  t.equal(sb?.deploymentId, null)
  t.equal(requestLog(emulator).length - before, 2, 'one request, and one more without the missing service')
})

t.test('redeploy: the same image again, or a new image, each returns the new deployment', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {}, { ghcr: true })
  const ref = await createAgent(railway, 'agent-redeploy')
  const [first] = await railway.statusOf([ref])

  const again = await railway.redeploy(ref)
  t.not(again.deploymentId, first?.deploymentId, 'a new deployment')
  const [afterAgain] = await railway.statusOf([ref])
  t.equal(afterAgain?.deploymentId, again.deploymentId, 'and it is the latest')

  const newImage = 'ghcr.io/xmtplabs/convos-runtime:sha-abc1234'
  const changed = await railway.redeploy(ref, newImage)
  const [afterChange] = await railway.statusOf([ref])
  t.equal(afterChange?.deploymentId, changed.deploymentId)
  t.equal(afterChange?.image, newImage)
  const log = requestLog(emulator).map((r) => r.operation)
  t.same(
    log.slice(-4),
    ['serviceInstanceDeployV2', 'serviceInstance', 'serviceInstanceUpdate', 'serviceInstance'],
    'a plain redeploy is one request; an image change is one request too (update + deploy)',
  )
})

t.test('variables: upsert with skipDeploys, delete several (one already gone)', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const ref = await createAgent(railway, 'agent-vars', { KEEP: '1', OLD: 'x' })
  const target = { projectId: ref.projectId, environmentId: ref.environmentId, serviceId: ref.serviceId }
  const deployments = () => emulator.ledger.snapshot().created.deployment ?? 0
  const deploysBefore = deployments()

  await railway.upsertVariables(target, { NEW: '2', OLD: 'y' }, { skipDeploys: true })
  const variables = () =>
    emulator.ledger.get<LedgerService>('service', ref.serviceId)?.instances[ref.environmentId]?.variables
  t.same(variables(), { KEEP: '1', OLD: 'y', NEW: '2' })
  t.equal(deployments(), deploysBefore, 'skipDeploys: no deployment')

  await railway.deleteVariables(target, ['OLD', 'NEW', 'NEVER_SET'])
  t.same(variables(), { KEEP: '1' })
})

t.test('deletes: done once, "gone" after; shared-project service and volume too', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const ref = await createAgent(railway, 'agent-del')
  const { volumeId } = await railway.createVolumeAndDomain({ ...ref, targetPort: 8080 })

  t.equal(await railway.deleteVolume(volumeId), 'deleted')
  t.equal(await railway.deleteVolume(volumeId), 'gone')
  t.equal(await railway.deleteService(ref), 'deleted')
  t.equal(await railway.deleteService(ref), 'gone')
  t.ok(await railway.getProject(ref.projectId), 'the shared project itself stays')
  t.equal(await railway.deleteProject(ref.projectId), 'deleted')
  t.equal(await railway.deleteProject(ref.projectId), 'gone', 'a second destroy is harmless')
  t.equal(await railway.getProject(ref.projectId), undefined)
  t.same(emulator.ledger.snapshot().live.project ?? [], [], 'nothing left')
})

t.test('a projectDelete whose answer was lost is retried and ends "gone"', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const ref = await createAgent(railway, 'agent-del-lost')
  emulator.faults.add({ operation: 'projectDelete', failAfterWork: true, resetRate: 1, times: 1 })
  t.equal(await railway.deleteProject(ref.projectId), 'gone')
  t.equal(emulator.ledger.all('project').length, 0)
})

t.test('the start-up check: the token must see the workspace, said in plain words', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  t.same(await railway.checkWorkspace(), {
    id: emulator.workspaceId,
    name: (await railway.checkWorkspace()).name,
  })

  for (const [label, railwayConfig] of [
    ['another workspace', { apiToken: emulator.token, workspaceId: 'ws-somebody-else' }],
    ['a wrong token', { apiToken: 'not-a-railway-token', workspaceId: emulator.workspaceId }],
  ] as const) {
    const other = createRailway({ railway: { apiUrl: emulator.url, runtimeImage: IMAGE, ...railwayConfig } })
    t.teardown(() => other.close())
    const error = await other.checkWorkspace().catch((e: unknown) => e)
    t.ok(error instanceof RailwayError, label)
    t.equal((error as RailwayError).code, 'PROVIDER_UNAUTHORIZED', `${label}: unauthorized`)
    t.match(
      (error as RailwayError).message,
      /cannot see the workspace RAILWAY_WORKSPACE_ID=/,
      `${label}: says which setting`,
    )
    t.match(
      (error as RailwayError).message,
      /project token cannot create projects/,
      `${label}: and why a project token will not do`,
    )
    t.notMatch((error as RailwayError).message, /not-a-railway-token/, 'the token is never in the message')
  }
  t.throws(
    () => createRailway({ railway: { apiUrl: emulator.url, runtimeImage: IMAGE } }),
    /set RAILWAY_API_TOKEN and RAILWAY_WORKSPACE_ID/,
  )
})

t.test('a document Railway rejects (400) is a bug on our side: never retried', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  // A project id of the wrong type cannot be sent through the typed client; a bad document can only
  // come from a hand-made call, which is what the governor must refuse to repeat.
  const error = await railway.getProject(undefined as unknown as string).catch((e: unknown) => e)
  t.equal((error as RailwayError).code, 'PROVIDER_REJECTED')
  t.same(
    requestLog(emulator).map((r) => r.status),
    [400],
    'one attempt',
  )
})

t.test(
  "volumesOf: the volumes mounted in one service, paged, never another's or a detached one",
  async (t) => {
    const { emulator, railway } = await railwayWithEmulator(t, { serviceDeleteVolumes: 'detach' })
    const ref = await createAgent(railway, 'shared-volumes')
    const target = { ...ref }
    const { volumeId } = await railway.createVolumeAndDomain({ ...target, targetPort: 8080 })
    // 110 neighbours with a volume each: the target's is on the second page of 100.
    const neighbours = await Promise.all(
      Array.from({ length: 110 }, async (_, i) => {
        const { serviceId } = await railway.createService({
          projectId: ref.projectId,
          environmentId: ref.environmentId,
          name: `neighbour-${i}`,
          image: IMAGE,
          variables: {},
        })
        return { ...ref, serviceId }
      }),
    )
    for (const neighbour of neighbours)
      await railway.createVolumeAndDomain({ ...neighbour, targetPort: 8080 })
    const second = await railway.createVolumeAndDomain({ ...target, targetPort: 8080, resume: false })

    const before = emulator.stats().requests
    const found = await railway.volumesOf(target)
    t.same(found.sort(), [volumeId, second.volumeId].sort(), 'both of its volumes, past the first page')
    t.equal(emulator.stats().requests - before, 2, '⌈112/100⌉ = 2 requests')

    const [gone] = neighbours
    if (!gone) throw new Error('there are neighbours')
    await railway.deleteService(gone)
    t.same(await railway.volumesOf(gone), [], 'a detached volume belongs to no service')
    t.same(
      await railway.volumesOf({ ...target, environmentId: '00000000-0000-4000-8000-000000000000' }),
      [],
      'none in an environment that is gone',
    )
  },
)
