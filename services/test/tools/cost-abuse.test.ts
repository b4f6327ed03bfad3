import { eq } from 'drizzle-orm'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { startSystem } from '../helpers/system.js'

const fastDeploys = { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } }

t.test(
  'a looping instance: one resource per tool, then 429 with Retry-After; the pool is not limited',
  async (t) => {
    const system = await startSystem(t, {
      emulators: fastDeploys,
      env: { INSTANCE_RATE_LIMIT_PER_MINUTE: '10', SELF_PROVISION_TOOLS: 'email,crypto,sms' },
    })
    const created = await request(t, system.app, {
      method: 'POST',
      url: '/create-instance',
      headers: poolAuth(),
      payload: { instanceId: 'agent-loop' },
    })
    t.equal(created.statusCode, 201, created.body)
    const [row] = await system.database.db
      .select()
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, 'agent-loop'))
    const token = system.emulators.railway.runtimeOf(row?.railwayServiceId as string)?.env
      .INSTANCE_SERVICES_TOKEN
    const own = { authorization: `Bearer ${token}` }

    const statuses: number[] = []
    let limited: { headers: Record<string, unknown>; json(): { code: string } } | undefined
    for (let i = 0; i < 25; i++) {
      const response = await request(t, system.app, {
        method: 'POST',
        url: '/provision/agent-loop/sms',
        headers: own,
      })
      statuses.push(response.statusCode)
      if (response.statusCode === 429) limited ??= response
    }
    t.same(
      statuses.slice(0, 10),
      [201, ...Array(9).fill(200)],
      'the first ten: one number, then the same one',
    )
    t.same(new Set(statuses.slice(10)), new Set([429]), 'the rest are refused')
    t.equal(limited?.json().code, 'RATE_LIMITED')
    t.match(limited?.headers['retry-after'], /^\d+$/)
    t.equal(system.emulators.telnyx.ledger.all('number').length, 1, 'it could not buy a second number')

    for (let i = 0; i < 15; i++) {
      const pool = await request(t, system.app, {
        method: 'GET',
        url: '/instances/agent-loop',
        headers: poolAuth(),
      })
      t.equal(pool.statusCode, 200, 'the pool key is not counted against the instance')
    }
  },
)
