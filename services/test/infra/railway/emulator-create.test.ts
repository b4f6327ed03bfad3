import { setTimeout } from 'node:timers/promises'
import t from 'tap'
import { request } from 'undici'
import { projectNameFor } from '../../../src/infra/railway/index.js'
import { IMAGE, railwayWithEmulator, requestLog } from './helpers/emulator.js'

interface LedgerProject {
  id: string
  name: string
}
interface LedgerService {
  id: string
  name: string
  instances: Record<
    string,
    { image: string; variables: Record<string, string>; registryUsername: string | null }
  >
}

t.test('a whole creation is 3 Railway requests, and the instance is served at its domain', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {}, { ghcr: true })
  const name = projectNameFor('inst-0001')

  const { projectId, environmentId } = await railway.createProject(name)
  const { serviceId } = await railway.createService({
    projectId,
    environmentId,
    name: 'agent',
    image: IMAGE,
    variables: { INSTANCE_ID: 'inst-0001', PORT: '8080' },
  })
  const { volumeId, domain } = await railway.createVolumeAndDomain({
    projectId,
    environmentId,
    serviceId,
    targetPort: 8080,
  })

  t.same(
    requestLog(emulator).map((r) => `${r.operation} ${r.status}`),
    ['projectCreate 200', 'serviceCreate 200', 'volumeCreate 200'],
    'project (with its environment), service (image + variables + credentials), volume + domain',
  )
  const project = emulator.ledger.get<LedgerProject>('project', projectId)
  t.equal(project?.name, 'agent-inst-0001')
  const service = emulator.ledger.get<LedgerService>('service', serviceId)
  const instance = service?.instances[environmentId]
  t.equal(instance?.image, IMAGE)
  t.same(instance?.variables, { INSTANCE_ID: 'inst-0001', PORT: '8080' })
  t.equal(instance?.registryUsername, 'octocat', 'GHCR credentials were sent with serviceCreate')
  t.ok(emulator.ledger.get('volume', volumeId), 'the volume exists')
  t.match(domain, /^127\.0\.0\.1:\d+$/)

  // The deployment serviceCreate started moves on by itself; poll its status as the pool's tick would.
  let status = (await railway.statusOf([{ serviceId, environmentId }]))[0]
  t.ok(status?.deploymentId, 'the deployment serviceCreate started is visible')
  for (let i = 0; i < 50 && status?.deployStatus !== 'SUCCESS'; i++) {
    await setTimeout(20)
    status = (await railway.statusOf([{ serviceId, environmentId }]))[0]
  }
  t.same(
    {
      exists: status?.exists,
      deployStatus: status?.deployStatus,
      domain: status?.domain,
      image: status?.image,
    },
    { exists: true, deployStatus: 'SUCCESS', domain, image: IMAGE },
  )
  const health = await request(`http://${domain}/pool/health`)
  t.equal(health.statusCode, 200, 'the domain Railway gave is served over HTTP once deployed')
  await health.body.dump()
})

t.test('without GHCR settings no registryCredentials are sent', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t)
  const { projectId, environmentId } = await railway.createProject('agent-public')
  const { serviceId } = await railway.createService({
    projectId,
    environmentId,
    name: 'agent',
    image: IMAGE,
    variables: {},
  })
  t.equal(
    emulator.ledger.get<LedgerService>('service', serviceId)?.instances[environmentId]?.registryUsername,
    null,
  )
})

t.test('projectCreate that happened but whose answer was lost is adopted, not repeated', async (t) => {
  for (const fault of [
    { resetRate: 1, label: 'connection reset after the work' },
    { errorRate: 1, errorStatus: 502, label: '502 after the work' },
  ]) {
    const { label, ...rule } = fault
    const { emulator, railway } = await railwayWithEmulator(t, {
      faults: [{ operation: 'projectCreate', failAfterWork: true, times: 1, ...rule }],
    })
    const name = projectNameFor(`lost-${fault.errorStatus ?? 'reset'}`)
    const created = await railway.createProject(name)
    const projects = emulator.ledger.all<LedgerProject>('project')
    t.same(
      projects.map((p) => p.name),
      [name],
      `${label}: exactly one project in the ledger`,
    )
    t.equal(created.projectId, projects[0]?.id, `${label}: the adopted project is the one Railway made`)
    t.ok(emulator.ledger.get('environment', created.environmentId), `${label}: with its environment`)
    t.equal(emulator.ledger.snapshot().created.project, 1, `${label}: Railway was asked to create it once`)
    t.same(
      requestLog(emulator)
        .filter((r) => r.status === 200)
        .map((r) => r.operation),
      ['projects', 'project'],
      `${label}: then found by name and its environment read`,
    )
  }
})

t.test('projectCreate that provably did not happen is simply created (once)', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {
    faults: [{ operation: 'projectCreate', errorRate: 1, errorStatus: 503, times: 1 }],
  })
  const name = projectNameFor('not-done')
  await railway.createProject(name)
  t.same(
    emulator.ledger.all<LedgerProject>('project').map((p) => p.name),
    [name],
  )
  t.same(
    requestLog(emulator).map((r) => `${r.operation} ${r.status}`),
    ['projectCreate 503', 'projects 200', 'projectCreate 200'],
    'a 503 may have happened, so it is looked up first; not there, so created again',
  )
})

t.test('serviceCreate with a lost answer is adopted by name', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {
    faults: [{ operation: 'serviceCreate', failAfterWork: true, resetRate: 1, times: 1 }],
  })
  const { projectId, environmentId } = await railway.createProject('agent-svc')
  const { serviceId } = await railway.createService({
    projectId,
    environmentId,
    name: 'agent',
    image: IMAGE,
    variables: {},
  })
  const services = emulator.ledger.all<LedgerService>('service')
  t.same(
    services.map((s) => s.id),
    [serviceId],
    'one service, the one adopted',
  )
  t.equal(emulator.ledger.snapshot().created.service, 1, 'created once')
})

t.test('volume + domain: a lost answer is looked up, and only what is missing is created', async (t) => {
  await t.test('both were made: adopt both', async (t) => {
    const { emulator, railway } = await railwayWithEmulator(t, {
      faults: [{ operation: 'volumeCreate', failAfterWork: true, resetRate: 1, times: 1 }],
    })
    const { projectId, environmentId } = await railway.createProject('agent-vd1')
    const { serviceId } = await railway.createService({
      projectId,
      environmentId,
      name: 'agent',
      image: IMAGE,
      variables: {},
    })
    const result = await railway.createVolumeAndDomain({
      projectId,
      environmentId,
      serviceId,
      targetPort: 8080,
    })
    t.equal(emulator.ledger.all('volume').length, 1)
    t.equal(emulator.ledger.all('domain').length, 1)
    t.same(result.volumeId, emulator.ledger.all<{ id: string }>('volume')[0]?.id)
    const { created } = emulator.ledger.snapshot()
    t.same([created.volume, created.domain], [1, 1], 'neither was created twice')
    t.same(
      requestLog(emulator)
        .filter((r) => r.status === 200)
        .map((r) => r.operation)
        .slice(2),
      ['project'],
      'one lookup (project volumes + service domains in one request)',
    )
  })

  await t.test('nothing was made (a 500 before the work): create both, one each', async (t) => {
    const { emulator, railway } = await railwayWithEmulator(t, {
      faults: [{ operation: 'volumeCreate', errorRate: 1, errorStatus: 500, times: 1 }],
    })
    const { projectId, environmentId } = await railway.createProject('agent-vd2')
    const { serviceId } = await railway.createService({
      projectId,
      environmentId,
      name: 'agent',
      image: IMAGE,
      variables: {},
    })
    const result = await railway.createVolumeAndDomain({
      projectId,
      environmentId,
      serviceId,
      targetPort: 8080,
    })
    t.equal(emulator.ledger.all('volume').length, 1)
    t.equal(emulator.ledger.all('domain').length, 1)
    t.match(result.domain, /^127\.0\.0\.1:\d+$/)
    t.same(
      requestLog(emulator)
        .slice(2)
        .map((r) => `${r.operation} ${r.status}`),
      ['volumeCreate 500', 'project 200', 'volumeCreate 200', 'serviceDomainCreate 200'],
    )
  })
})

t.test('the creation slots hold creations to the limit the emulator observes', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {}, { governor: { maxConcurrentCreations: 3 } })
  await Promise.all(
    Array.from({ length: 9 }, (_, i) =>
      railway.withCreationSlot(async () => {
        const { projectId, environmentId } = await railway.createProject(projectNameFor(`slot-${i}`))
        const { serviceId } = await railway.createService({
          projectId,
          environmentId,
          name: 'agent',
          image: IMAGE,
          variables: {},
        })
        await railway.createVolumeAndDomain({ projectId, environmentId, serviceId, targetPort: 8080 })
      }),
    ),
  )
  t.equal(emulator.ledger.all('project').length, 9)
  t.ok(emulator.stats().peakConcurrentCreations <= 3, `peak ${emulator.stats().peakConcurrentCreations} ≤ 3`)
  t.equal(emulator.stats().inFlightCreations, 0)
})
