import { eq } from 'drizzle-orm'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { isAllowedHost } from '../../src/lifecycle/adopt-instance.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import {
  adoptBody,
  fastDeploys,
  LEGACY_IMAGE,
  legacyEnv,
  ownProjectInstance,
  railwayRequests,
  sharedProject,
} from './instance-fixtures.js'

type Tap = Parameters<typeof request>[0]

const adopt = (t: Tap, system: System, payload: object) =>
  request(t, system.app, { method: 'POST', url: '/adopt-instance', headers: poolAuth(), payload })

t.test('the URL host must end in an allowed suffix, on a label boundary', async (t) => {
  const suffixes = ['up.railway.app', '127.0.0.1']
  const cases: [string, boolean][] = [
    ['https://agent-1.up.railway.app', true],
    ['https://agent-1.up.railway.app/', true],
    ['https://AGENT-1.UP.RAILWAY.APP', true],
    ['https://agent-1.up.railway.app.', true],
    ['https://up.railway.app', true],
    ['https://127.0.0.1:4123', true],
    ['https://evilup.railway.app', false],
    ['https://up.railway.app.evil.com', false],
    ['https://agent-1.up.railway.app@evil.com', false],
    ['https://user:pw@agent-1.up.railway.app', false],
    ['https://railway.app', false],
    ['https://1127.0.0.1', false],
    ['not a url', false],
  ]
  for (const [url, allowed] of cases) t.equal(isAllowedHost(url, suffixes), allowed, url)
})

t.test('adopt a service of the shared project; repeat; conflicts', async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway)
  const [first, second] = shared.services
  if (!first || !second) throw new Error('the shared project has 3 services')
  const body = { ...adoptBody(shared, first), name: 'Old agent' }

  const before = railwayRequests(system)
  const adopted = await adopt(t, system, body)
  t.equal(adopted.statusCode, 201, adopted.body)
  const adoptRequests = railwayRequests(system) - before
  t.ok(adoptRequests <= 3, `adopt used ${adoptRequests} Railway requests (≤ 3)`)
  t.comment(`Railway requests per adopt: ${adoptRequests}`)
  const instance = adopted.json()
  t.match(instance, {
    instanceId: 'legacy-1',
    name: 'Old agent',
    lifecycle: 'ready',
    legacy: true,
    image: LEGACY_IMAGE,
    url: body.url,
    railway: {
      projectId: shared.projectId,
      environmentId: shared.environmentId,
      serviceId: first.serviceId,
      volumeId: null,
      domain: first.domain,
    },
    tools: [],
    steps: [],
    error: null,
  })
  t.ok(
    ['QUEUED', 'BUILDING', 'DEPLOYING', 'SUCCESS'].includes(instance.deployStatus),
    `deploy status from Railway: ${instance.deployStatus}`,
  )

  const viewed = await request(t, system.app, {
    method: 'GET',
    url: '/instances/legacy-1',
    headers: poolAuth(),
  })
  t.same(viewed.json(), instance, 'the instance view shows what adopt answered')

  const beforeRepeat = railwayRequests(system)
  const repeated = await adopt(t, system, body)
  t.equal(repeated.statusCode, 200, 'the same adopt again: 200')
  t.same(repeated.json(), instance)
  t.equal(railwayRequests(system), beforeRepeat, 'a repeat does not ask Railway again')

  for (const [what, change] of [
    ['another url', { url: `https://${second.domain}` }],
    ['another name', { name: 'Renamed' }],
    ['no name', { name: undefined }],
    ['another service', { railwayServiceId: second.serviceId }],
  ] as const) {
    const conflicting = await adopt(t, system, { ...body, ...change })
    t.equal(conflicting.statusCode, 409, `${what}: 409`)
    t.equal(conflicting.json().code, 'CONFLICT')
  }

  const twice = await adopt(t, system, { ...body, instanceId: 'legacy-again' })
  t.equal(twice.statusCode, 409, 'the same Railway service under a second id: 409')
  t.match(twice.json().detail, /already adopted as instance legacy-1/)

  await ownProjectInstance(system, 'created-1')
  const overCreated = await adopt(t, system, { ...body, instanceId: 'created-1' })
  t.equal(overCreated.statusCode, 409, 'the id of a created instance: 409')
  t.match(overCreated.json().detail, /not legacy/)

  const rows = await system.database.db.select().from(instanceInfra)
  t.same(rows.map((r) => r.instanceId).sort(), ['created-1', 'legacy-1'], 'no row written by a refused adopt')
})

t.test('Railway must confirm the service, in that project and environment', async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway, 1)
  const other = await sharedProject(system.railway, 1)
  const service = shared.services[0]
  const foreign = other.services[0]
  if (!service || !foreign) throw new Error('each project has a service')
  const body = adoptBody(shared, service)

  const cases: [string, object, RegExp][] = [
    ['unknown service', { railwayServiceId: '00000000-0000-4000-8000-000000000000' }, /not in project/],
    ['a service of another project', { railwayServiceId: foreign.serviceId }, /not in project/],
    ['unknown project', { railwayProjectId: '00000000-0000-4000-8000-000000000001' }, /does not exist/],
    ['an environment of another project', { railwayEnvironmentId: other.environmentId }, /environment/],
  ]
  for (const [what, change, detail] of cases) {
    const before = railwayRequests(system)
    const refused = await adopt(t, system, { ...body, ...change })
    t.equal(refused.statusCode, 422, `${what}: 422`)
    t.equal(refused.json().code, 'UNPROCESSABLE')
    t.match(refused.json().detail, detail, `${what}: ${refused.json().detail}`)
    t.ok(railwayRequests(system) - before <= 3, `${what}: at most 3 Railway requests`)
  }

  const beforeSuffix = railwayRequests(system)
  for (const url of [
    'https://evilup.railway.app',
    'https://agent.example.com',
    'https://u:p@x.up.railway.app',
  ]) {
    const refused = await adopt(t, system, { ...body, url })
    t.equal(refused.statusCode, 422, `${url}: 422`)
    t.match(refused.json().detail, /allowed domain \(up\.railway\.app, 127\.0\.0\.1\)/)
  }
  t.equal(railwayRequests(system), beforeSuffix, 'a refused domain costs no Railway request')

  const plainHttp = await adopt(t, system, { ...body, url: `http://${service.domain}` })
  t.equal(plainHttp.statusCode, 400, 'the contract requires https')
  t.equal(plainHttp.json().code, 'VALIDATION_FAILED')

  const rows = await system.database.db.select().from(instanceInfra)
  t.same(rows, [], 'nothing adopted')
})

t.test(
  'a service past the first 100 of a big shared project is adopted (its own project is asked)',
  async (t) => {
    const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
    const { projectId, environmentId } = await system.railway.createProject('legacy-big')
    for (let i = 0; i < 100; i++) {
      await system.railway.createService({
        projectId,
        environmentId,
        name: `old-${i}`,
        image: LEGACY_IMAGE,
        variables: {},
      })
    }
    const { serviceId } = await system.railway.createService({
      projectId,
      environmentId,
      name: 'old-100',
      image: LEGACY_IMAGE,
      variables: {},
    })
    const { volumeId, domain } = await system.railway.createVolumeAndDomain({
      projectId,
      environmentId,
      serviceId,
      targetPort: 8080,
    })
    const adopted = await adopt(
      t,
      system,
      adoptBody({ projectId, environmentId }, { serviceId, volumeId, domain }),
    )
    t.equal(adopted.statusCode, 201, adopted.body)
  },
)

t.test('ten identical adopts at once: one row, one 201, the rest 200', async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway, 1)
  const service = shared.services[0]
  if (!service) throw new Error('the shared project has a service')
  const body = adoptBody(shared, service)
  const responses = await Promise.all(Array.from({ length: 10 }, () => adopt(t, system, body)))
  t.same(responses.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(responses.map((r) => r.json().createdAt)).size, 1, 'all answer the same instance')
  const rows = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.railwayServiceId, service.serviceId))
  t.equal(rows.length, 1)

  // Two ids racing for one service: exactly one wins.
  const other = await sharedProject(system.railway, 1)
  const contested = other.services[0]
  if (!contested) throw new Error('the second project has a service')
  const race = await Promise.all(
    ['race-a', 'race-b', 'race-c'].map((instanceId) =>
      adopt(t, system, adoptBody(other, contested, instanceId)),
    ),
  )
  t.same(race.map((r) => r.statusCode).sort(), [201, 409, 409], 'one id gets the service')
})

t.test('without Railway the server answers 503', async (t) => {
  const { build } = await import('../helpers/build.js')
  const { app } = await build(t, { env: legacyEnv })
  const response = await request(t, app, {
    method: 'POST',
    url: '/adopt-instance',
    headers: poolAuth(),
    payload: {
      instanceId: 'legacy-1',
      railwayProjectId: 'p',
      railwayEnvironmentId: 'e',
      railwayServiceId: 's',
      url: 'https://a.up.railway.app',
    },
  })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'RAILWAY_NOT_CONFIGURED')
})

t.test("the legacy runtime's key is stored sealed and never shown", async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway)
  const [first] = shared.services
  if (!first) throw new Error('the shared project has 3 services')
  const runtimeApiKey = 'legacy-runtime-key-0123456789'
  const adopted = await adopt(t, system, { ...adoptBody(shared, first), runtimeApiKey })
  t.equal(adopted.statusCode, 201, adopted.body)
  t.notMatch(adopted.body, runtimeApiKey, 'the answer does not carry the key')
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, adopted.json().instanceId))
  t.ok(row?.runtimeCredential, 'a sealed key is stored')
  t.notMatch(row?.runtimeCredential ?? '', runtimeApiKey, 'not in plaintext')
  const { runtimeCredentialOf } = await import('../../src/lifecycle/instance-env.js')
  const { createSecretBox } = await import('../../src/secrets/secret-box.js')
  t.equal(runtimeCredentialOf(createSecretBox(system.config.encryptionKeys), row as never), runtimeApiKey)
})

interface Owned {
  id: string
  projectId: string
  serviceId?: string | null
  environmentId?: string | null
}

/** The Railway emulator's live resources of one kind that belong to `projectId`. */
const liveIn = (system: System, kind: 'environment' | 'service' | 'volume' | 'domain', projectId: string) =>
  system.emulators.railway.ledger.all<Owned>(kind).filter((r) => r.projectId === projectId)

const destroy = (t: Tap, system: System, instanceId: string) =>
  request(t, system.app, { method: 'DELETE', url: `/destroy/${instanceId}`, headers: poolAuth() })

t.test(
  'destroying a legacy instance deletes its service and its volume, never the shared project or its other services',
  async (t) => {
    // Railway does not promise that serviceDelete removes a service's volumes: here it leaves them
    // detached, so the volume is gone only if services deletes it itself.
    const system = await startSystem(t, {
      env: legacyEnv,
      emulators: { railway: { ...fastDeploys.railway, serviceDeleteVolumes: 'detach' } },
    })
    const shared = await sharedProject(system.railway)
    const [target, ...others] = shared.services
    if (!target || others.length !== 2) throw new Error('the shared project has 3 services')
    for (const [i, service] of shared.services.entries()) {
      const adopted = await adopt(t, system, adoptBody(shared, service, `legacy-${i + 1}`))
      t.equal(adopted.statusCode, 201, adopted.body)
    }
    await ownProjectInstance(system, 'created-1')
    const othersBefore = (await system.database.db.select().from(instanceInfra)).filter(
      (row) => row.instanceId !== 'legacy-1',
    )
    const otherDomains = liveIn(system, 'domain', shared.projectId).filter(
      (d) => d.serviceId !== target.serviceId,
    )

    // The first attempt stops between the volume and the service (Railway keeps failing serviceDelete);
    // the retry looks the volumes up again and finishes.
    system.emulators.railway.faults.add({ operation: 'serviceDelete', errorRate: 1, errorStatus: 503 })
    const pending = await destroy(t, system, 'legacy-1')
    t.equal(pending.statusCode, 202, pending.body)
    t.match(pending.json(), {
      lifecycle: 'destroying',
      remaining: [{ toolId: 'railway', resourceId: target.serviceId }],
    })
    t.notOk(
      system.emulators.railway.ledger.get('volume', target.volumeId),
      'its volume is deleted before its service',
    )
    t.ok(system.emulators.railway.ledger.get('service', target.serviceId), 'the service is still there')
    system.emulators.railway.faults.clear()

    const destroyed = await destroy(t, system, 'legacy-1')
    t.equal(destroyed.statusCode, 200, destroyed.body)
    t.same(destroyed.json(), { instanceId: 'legacy-1', lifecycle: 'destroyed', remaining: [] })

    const { ledger } = system.emulators.railway
    t.ok(ledger.get('project', shared.projectId), 'the shared project still exists')
    t.same(
      liveIn(system, 'environment', shared.projectId).map((e) => e.id),
      [shared.environmentId],
      'with its environment',
    )
    t.same(
      liveIn(system, 'service', shared.projectId)
        .map((s) => s.id)
        .sort(),
      others.map((s) => s.serviceId).sort(),
      'and exactly its other two services',
    )
    t.same(
      liveIn(system, 'volume', shared.projectId)
        .map((v) => [v.id, v.serviceId])
        .sort(),
      others.map((s) => [s.volumeId, s.serviceId]).sort(),
      'their volumes, still mounted in them, and no other volume (none left detached)',
    )
    t.same(
      liveIn(system, 'domain', shared.projectId).map((d) => d.id),
      otherDomains.map((d) => d.id),
      'their domains',
    )
    for (const other of others) {
      t.equal(
        (
          await system.railway.statusOf([{ serviceId: other.serviceId, environmentId: shared.environmentId }])
        )[0]?.exists,
        true,
        `service ${other.serviceId} is still deployed`,
      )
    }

    const othersAfter = (await system.database.db.select().from(instanceInfra)).filter(
      (row) => row.instanceId !== 'legacy-1',
    )
    t.same(othersAfter, othersBefore, 'the other instances’ rows are untouched')
    const [row] = await system.database.db
      .select()
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, 'legacy-1'))
    t.match(row, { lifecycle: 'destroyed', legacy: true, railwayProjectId: shared.projectId })
  },
)

t.test('/status/batch reports an adopted instance like any other: deploy status and health', async (t) => {
  const system = await startSystem(t, { env: legacyEnv, emulators: fastDeploys })
  const shared = await sharedProject(system.railway, 2)
  for (const [i, service] of shared.services.entries()) {
    const adopted = await adopt(t, system, adoptBody(shared, service, `legacy-${i + 1}`))
    t.equal(adopted.statusCode, 201, adopted.body)
    // The contract wants https; the emulator's runtimes speak plain HTTP on 127.0.0.1, so the ping goes
    // there without TLS (what is tested is the batch, not the handshake).
    await system.database.db
      .update(instanceInfra)
      .set({ url: `http://${service.domain}` })
      .where(eq(instanceInfra.instanceId, `legacy-${i + 1}`))
  }
  await ownProjectInstance(system, 'created-1')
  const ids = ['legacy-1', 'legacy-2', 'created-1']
  const batch = async () => {
    const response = await request(t, system.app, {
      method: 'POST',
      url: '/status/batch',
      headers: poolAuth(),
      payload: { instanceIds: ids },
    })
    t.equal(response.statusCode, 200, response.body)
    return response.json() as { instances: { instanceId: string; status: string }[]; notFound: string[] }
  }

  let answer = await batch()
  for (let i = 0; i < 100 && !answer.instances.every((s) => s.status === 'healthy'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    answer = await batch()
  }
  const healthy = {
    status: 'healthy',
    lifecycle: 'ready',
    deployStatus: 'SUCCESS',
    health: { ready: true, latencyMs: Number },
    error: null,
  }
  t.match(answer, {
    instances: [
      { instanceId: 'legacy-1', image: LEGACY_IMAGE, ...healthy },
      { instanceId: 'legacy-2', image: LEGACY_IMAGE, ...healthy },
      { instanceId: 'created-1', ...healthy },
    ],
    notFound: [],
  })

  const [, dying] = shared.services
  if (!dying) throw new Error('the shared project has 2 services')
  system.emulators.railway.killRuntime(dying.serviceId)
  // A health result is shared for up to a second: the next batches see the dead runtime within it.
  const before = railwayRequests(system)
  let after = await batch()
  t.ok(railwayRequests(system) - before <= 1, 'at most one Railway request for the three')
  for (let i = 0; i < 60 && after.instances[1]?.status !== 'unreachable'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await batch()
  }
  t.match(after.instances, [
    { instanceId: 'legacy-1', status: 'healthy' },
    { instanceId: 'legacy-2', status: 'unreachable', health: { ready: false, latencyMs: null } },
    { instanceId: 'created-1', status: 'healthy' },
  ])
})
