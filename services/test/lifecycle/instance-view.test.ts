import { sql } from 'drizzle-orm'
import t from 'tap'
import { generateToken, hashToken } from '../../src/auth/tokens.js'
import { INSTANCE_LIFECYCLES, instanceServices, instanceSteps } from '../../src/db/schema.js'
import { decodeCursor, encodeCursor } from '../../src/lifecycle/instance-cursor.js'
import { build, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { queryRows } from '../helpers/database.js'
import { insertInstance } from './instance-fixtures.js'

type Tap = Parameters<typeof request>[0]

const IMAGE = 'ghcr.io/xmtplabs/convos-runtime:latest'

t.test('cursors: what we encode decodes; anything else is a 400 on `cursor`', async (t) => {
  const cursor = { createdAt: '2026-12-03T10:00:00.123456Z', instanceId: 'agent-1' }
  const encoded = encodeCursor(cursor)
  t.match(encoded, /^[A-Za-z0-9_-]+$/, 'fits the contract pattern')
  t.same(decodeCursor(encoded), cursor)

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const bad: [string, string][] = [
    ['not base64 JSON', 'abc'],
    ['an object', b64({ createdAt: cursor.createdAt, instanceId: 'agent-1' })],
    ['three entries', b64([cursor.createdAt, 'agent-1', 'x'])],
    ['millisecond timestamp', b64(['2026-12-03T10:00:00.123Z', 'agent-1'])],
    ['impossible date', b64(['2026-13-45T10:00:00.123456Z', 'agent-1'])],
    ['bad instance id', b64([cursor.createdAt, '-agent'])],
    ['number id', b64([cursor.createdAt, 7])],
  ]
  for (const [what, value] of bad) {
    t.throws(() => decodeCursor(value), { statusCode: 400, code: 'VALIDATION_FAILED' }, what)
  }
})

t.test(
  'GET /instances pages 25 instances by 10, filters by lifecycle, refuses foreign cursors',
  async (t) => {
    const { app, database } = await build(t)
    const ids: string[] = []
    for (let i = 0; i < 25; i++) {
      const instanceId = `agent-${String(i).padStart(2, '0')}`
      ids.push(instanceId)
      await insertInstance(database.db, {
        instanceId,
        name: i % 2 === 0 ? `Agent ${i}` : null,
        lifecycle: INSTANCE_LIFECYCLES[i % INSTANCE_LIFECYCLES.length] ?? 'ready',
        legacy: i === 3,
        image: IMAGE,
        url: `https://agent-${i}.up.railway.app`,
      })
    }
    // agent-09 ends the first page; two more rows share its created_at to the microsecond, so the next
    // page must start by the instance id, neither skipping nor repeating them.
    await database.db.execute(
      sql`update instance_infra set created_at = (select created_at from instance_infra where instance_id = 'agent-09') where instance_id in ('agent-10', 'agent-11')`,
    )
    const expected = (
      await queryRows<{ instance_id: string }>(
        database,
        sql`select instance_id from instance_infra order by created_at, instance_id`,
      )
    ).map((r) => r.instance_id)
    t.equal(expected.length, 25)

    const list = (t: Tap, query: string) =>
      request(t, app, { method: 'GET', url: `/instances${query}`, headers: poolAuth() })

    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    do {
      const response = await list(t, `?limit=10${cursor ? `&cursor=${cursor}` : ''}`)
      t.equal(response.statusCode, 200, response.body)
      const page = response.json()
      sizes.push(page.items.length)
      seen.push(...page.items.map((item: { instanceId: string }) => item.instanceId))
      cursor = page.nextCursor
    } while (cursor && sizes.length < 10)
    t.same(sizes, [10, 10, 5], 'three pages; the last has no nextCursor')
    t.same(seen, expected, 'every instance once, in a stable order')

    const exact = await list(t, '?limit=25')
    t.equal(exact.json().items.length, 25)
    t.equal(exact.json().nextCursor, null, 'a page that ends exactly at the last row has no next cursor')

    const all = await list(t, '')
    t.equal(all.json().items.length, 25, 'default limit 100')
    t.match(all.json().items[0], {
      instanceId: String,
      lifecycle: String,
      legacy: Boolean,
      createdAt: String,
    })
    t.notOk('image' in all.json().items[0], 'a summary, not the whole instance')

    for (const lifecycle of INSTANCE_LIFECYCLES) {
      const wanted = expected.filter((id) => INSTANCE_LIFECYCLES[Number(id.slice(-2)) % 5] === lifecycle)
      const got: string[] = []
      let next: string | null = null
      do {
        const response = await list(t, `?lifecycle=${lifecycle}&limit=2${next ? `&cursor=${next}` : ''}`)
        const page = response.json()
        t.ok(
          page.items.every((item: { lifecycle: string }) => item.lifecycle === lifecycle),
          `${lifecycle} only`,
        )
        got.push(...page.items.map((item: { instanceId: string }) => item.instanceId))
        next = page.nextCursor
      } while (next && got.length <= 25)
      t.same(got, wanted, `lifecycle=${lifecycle}: all ${wanted.length}, in order`)
    }

    const foreign = await list(t, `?cursor=${Buffer.from('{"offset":10}').toString('base64url')}`)
    t.equal(foreign.statusCode, 400)
    t.match(foreign.json(), {
      code: 'VALIDATION_FAILED',
      errors: [{ in: 'querystring', pointer: '/cursor' }],
    })
    for (const query of ['?limit=0', '?limit=501', '?cursor=not%20base64', '?lifecycle=sleeping']) {
      t.equal((await list(t, query)).statusCode, 400, `${query}: 400`)
    }

    const token = generateToken('ist_')
    await insertInstance(database.db, {
      instanceId: 'self',
      lifecycle: 'ready',
      image: IMAGE,
      tokenHash: hashToken(token),
    })
    const byInstance = await request(t, app, {
      method: 'GET',
      url: '/instances',
      headers: { authorization: `Bearer ${token}` },
    })
    t.equal(byInstance.statusCode, 403, 'an instance token may not list instances')
  },
)

t.test('GET /instances/{id}: steps, live tools, error; no secret; own token only', async (t) => {
  const { app, database } = await build(t)
  const token = generateToken('ist_')
  const otherToken = generateToken('ist_')
  const started = new Date('2026-12-03T10:00:00.000Z')
  const finished = new Date('2026-12-03T10:00:01.200Z')
  await insertInstance(database.db, {
    instanceId: 'agent-1',
    name: 'Support agent',
    lifecycle: 'destroying',
    image: IMAGE,
    url: 'https://agent-1.up.railway.app',
    railwayProjectId: 'proj-1',
    railwayEnvironmentId: 'env-1',
    railwayServiceId: 'svc-1',
    railwayVolumeId: 'vol-1',
    railwayDomain: 'agent-1.up.railway.app',
    deployStatus: 'SUCCESS',
    tokenHash: hashToken(token),
    runtimeCredential: 'sealed-runtime-credential',
    requestHash: 'request-hash-value',
    createRequest: { instanceId: 'agent-1' },
    errorCode: 'PROVIDER_UNAVAILABLE',
    errorMessage: 'AgentMail deleteInbox failed',
  })
  await insertInstance(database.db, {
    instanceId: 'agent-2',
    lifecycle: 'ready',
    image: IMAGE,
    tokenHash: hashToken(otherToken),
  })
  await database.db.insert(instanceSteps).values([
    {
      instanceId: 'agent-1',
      operation: 'destroy',
      name: 'tool:email',
      position: 0,
      state: 'failed',
      attempts: 3,
      startedAt: started,
      errorCode: 'PROVIDER_UNAVAILABLE',
      errorMessage: 'AgentMail deleteInbox failed',
    },
    {
      instanceId: 'agent-1',
      operation: 'create',
      name: 'service',
      position: 1,
      state: 'done',
      attempts: 1,
      startedAt: started,
      finishedAt: finished,
    },
    { instanceId: 'agent-1', operation: 'destroy', name: 'railway', position: 1 },
    {
      instanceId: 'agent-1',
      operation: 'create',
      name: 'project',
      position: 0,
      state: 'done',
      attempts: 2,
      startedAt: started,
      finishedAt: finished,
    },
  ])
  await database.db.insert(instanceServices).values([
    {
      instanceId: 'agent-1',
      toolId: 'email',
      mode: 'pool',
      status: 'releasing',
      resourceId: 'agent-1@agentmail.to',
      idempotencyKey: 'agent-1:email',
      config: { inboxId: 'agent-1@agentmail.to', nested: { no: 1 }, list: [1] },
      secret: 'sealed-email-secret',
    },
    {
      instanceId: 'agent-1',
      toolId: 'openrouter',
      mode: 'pool',
      status: 'destroyed',
      resourceId: 'key-hash-old',
      idempotencyKey: 'agent-1:openrouter:old',
      config: {},
    },
    {
      instanceId: 'agent-1',
      toolId: 'wallet',
      mode: 'pool',
      status: 'provisioning',
      idempotencyKey: 'agent-1:wallet',
    },
    {
      instanceId: 'agent-1',
      toolId: 'sms',
      mode: 'user',
      status: 'active',
      resourceId: '+15550100',
      idempotencyKey: 'agent-1:sms',
      config: { phoneNumber: '+15550100', limit: 5, verified: true, profile: null },
    },
  ])

  const get = (t: Tap, instanceId: string, authorization = poolAuth().authorization) =>
    request(t, app, { method: 'GET', url: `/instances/${instanceId}`, headers: { authorization } })

  const response = await get(t, 'agent-1')
  t.equal(response.statusCode, 200, response.body)
  const instance = response.json()
  t.match(instance, {
    instanceId: 'agent-1',
    name: 'Support agent',
    lifecycle: 'destroying',
    legacy: false,
    deployStatus: 'SUCCESS',
    railway: {
      projectId: 'proj-1',
      environmentId: 'env-1',
      serviceId: 'svc-1',
      volumeId: 'vol-1',
      domain: 'agent-1.up.railway.app',
    },
    error: { code: 'PROVIDER_UNAVAILABLE', message: 'AgentMail deleteInbox failed' },
  })
  t.same(
    instance.steps.map((s: { name: string }) => s.name),
    ['project', 'service', 'tool:email', 'railway'],
    'creation steps, then destroy steps, each in planned order',
  )
  t.same(instance.steps[0], {
    operation: 'create',
    name: 'project',
    state: 'done',
    attempts: 2,
    startedAt: '2026-12-03T10:00:00.000Z',
    finishedAt: '2026-12-03T10:00:01.200Z',
    error: null,
  })
  t.same(instance.steps[2].error, { code: 'PROVIDER_UNAVAILABLE', message: 'AgentMail deleteInbox failed' })
  t.same(instance.steps[3], {
    operation: 'destroy',
    name: 'railway',
    state: 'pending',
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    error: null,
  })
  t.same(
    instance.tools,
    [
      {
        toolId: 'email',
        resourceId: 'agent-1@agentmail.to',
        mode: 'pool',
        status: 'releasing',
        config: { inboxId: 'agent-1@agentmail.to' },
        livePush: 'not_applicable',
      },
      {
        toolId: 'sms',
        resourceId: '+15550100',
        mode: 'user',
        status: 'active',
        config: { phoneNumber: '+15550100', limit: 5, verified: true, profile: null },
        livePush: 'not_applicable',
      },
    ],
    'live resources with a provider id; only scalar config',
  )
  for (const secret of ['sealed', hashToken(token), 'request-hash-value', token]) {
    t.notOk(response.body.includes(secret), `the view never carries ${secret.slice(0, 12)}…`)
  }

  t.equal((await get(t, 'agent-1', `Bearer ${token}`)).statusCode, 200, 'its own token reads its view')
  const foreign = await get(t, 'agent-1', `Bearer ${otherToken}`)
  t.equal(foreign.statusCode, 403, "another instance's token: 403")
  t.equal((await get(t, 'agent-1', 'Bearer ist_unknown_token_value')).statusCode, 401)
  const missing = await get(t, 'agent-404')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'NOT_FOUND')
  t.equal((await get(t, 'bad.id')).statusCode, 400)
})
