import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { createInstancesRepository } from '../../src/db/instances-repository.js'
import { build, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { createTestDatabase } from '../helpers/database.js'
import { startSystem } from '../helpers/system.js'

const METRICS_TOKEN = 'mt_test_scraper_0123456789abcdef0123456789'
const fastDeploys = { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } }

type Assert = Parameters<typeof request>[0]

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition (`name{a="b",...} value` lines; comments skipped). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (!match) throw new Error(`not a sample line: ${line}`)
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
          m[1],
          m[2],
        ]),
      )
      return { name: match[1] as string, labels, value: Number(match[3]) }
    })
}

/** The value of the one sample named `name` whose labels include `labels`, or undefined. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value
}

async function scrape(t: Assert, app: FastifyInstance, headers = poolAuth()): Promise<Sample[]> {
  const response = await request(t, app, { method: 'GET', url: '/metrics', headers })
  t.same(response.statusCode, 200, 'scraped')
  return parse(response.body)
}

t.test('/metrics needs the pool key or, when set, METRICS_TOKEN', async (t) => {
  const get = (app: FastifyInstance, authorization?: string) =>
    request(t, app, { method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} })

  t.test('METRICS_TOKEN unset: only the pool key', async (t) => {
    const { app } = await build(t)
    t.equal((await get(app)).statusCode, 401, 'no credential')
    t.equal((await get(app, `Bearer ${METRICS_TOKEN}`)).statusCode, 401, 'a would-be metrics token')
    const response = await get(app, poolAuth().authorization)
    t.equal(response.statusCode, 200, 'the pool key')
    t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    t.match(response.body, /^# HELP services_instances /m, 'the exposition format')
  })

  t.test('METRICS_TOKEN set: the token opens /metrics and nothing else', async (t) => {
    const { app } = await build(t, { env: { METRICS_TOKEN } })
    t.equal((await get(app, `Bearer ${METRICS_TOKEN}`)).statusCode, 200, 'the metrics token')
    t.equal((await get(app, poolAuth().authorization)).statusCode, 200, 'the pool key still')
    const wrong = await get(app, `Bearer ${METRICS_TOKEN.replace(/.$/, 'x')}`)
    t.equal(wrong.statusCode, 401, 'a wrong token')
    t.equal(wrong.json().code, 'UNAUTHORIZED')
    const registry = await request(t, app, {
      method: 'GET',
      url: '/registry',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    t.equal(registry.statusCode, 403, 'the metrics token on a pool operation')
  })
})

t.test('after a creation through the emulators, /metrics shows what it did', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const { app } = system

  const created = await request(t, app, {
    method: 'POST',
    url: '/create-instance',
    headers: poolAuth(),
    payload: { instanceId: 'agent-m1', tools: ['email'] },
  })
  t.equal(created.statusCode, 201, created.body)
  const view = await request(t, app, { method: 'GET', url: '/instances/agent-m1', headers: poolAuth() })
  t.equal(view.statusCode, 200)

  const samples = await scrape(t, app)

  for (const operation of ['CreateProject', 'CreateService', 'CreateVolumeAndDomain']) {
    t.equal(
      sampleValue(samples, 'services_railway_requests_total', { operation, outcome: 'ok' }),
      1,
      `one ${operation} request to Railway`,
    )
  }
  t.equal(sampleValue(samples, 'services_railway_rate_limited_total'), undefined, 'no 429s')
  t.ok(
    (sampleValue(samples, 'services_railway_queue_wait_seconds_count', { priority: 'create' }) ?? 0) >= 3,
    'queue waits of the creation requests',
  )
  const remaining = sampleValue(samples, 'services_railway_hourly_budget_remaining')
  const limit = sampleValue(samples, 'services_railway_hourly_budget_limit') as number
  t.ok(
    remaining !== undefined && remaining > 0 && remaining < limit,
    `budget reported (${remaining}/${limit})`,
  )

  t.equal(sampleValue(samples, 'services_railway_creation_slots', { state: 'max' }), 8, 'creation slots')
  t.equal(sampleValue(samples, 'services_railway_creation_slots', { state: 'running' }), 0)
  t.equal(sampleValue(samples, 'services_railway_queued', { priority: 'create' }), 0, 'nothing queued')
  t.ok((sampleValue(samples, 'services_railway_bucket_tokens') ?? -1) >= 0, 'bucket tokens reported')
  t.equal(sampleValue(samples, 'services_database_connections', { state: 'max' }), 10, 'pool size')
  t.ok(
    (sampleValue(samples, 'services_database_connections', { state: 'active' }) ?? 0) >= 1,
    'the scrape itself holds an active connection of this pool',
  )

  for (const step of [
    'tool:openrouter',
    'tool:wallet',
    'tool:email',
    'project',
    'service',
    'volume_domain',
    'deploy',
  ]) {
    t.equal(
      sampleValue(samples, 'services_lifecycle_step_duration_seconds_count', {
        operation: 'create',
        step,
        outcome: 'done',
      }),
      1,
      `step ${step} timed once`,
    )
  }
  t.equal(sampleValue(samples, 'services_lifecycle_runs_total', { operation: 'create', outcome: 'ready' }), 1)
  t.equal(
    sampleValue(samples, 'services_lifecycle_in_flight', { operation: 'create' }),
    0,
    'nothing in flight',
  )

  t.equal(
    sampleValue(samples, 'services_http_request_duration_seconds_count', {
      route: '/create-instance',
      method: 'POST',
      status: '201',
    }),
    1,
    'the create-instance route',
  )
  t.equal(
    sampleValue(samples, 'services_http_request_duration_seconds_count', {
      route: '/instances/:instanceId',
      method: 'GET',
    }),
    1,
    'a parameterised route is labelled by its pattern',
  )
  t.notOk(
    samples.some((sample) => Object.values(sample.labels).some((value) => value.includes('agent-m1'))),
    'no instance id in any label',
  )

  t.equal(sampleValue(samples, 'services_instances', { lifecycle: 'ready' }), 1, 'one ready instance')
  t.equal(sampleValue(samples, 'services_instances', { lifecycle: 'failed' }), 0, 'absent states show 0')
  for (const tool of ['openrouter', 'wallet', 'email']) {
    t.equal(sampleValue(samples, 'services_tool_resources', { tool, status: 'active' }), 1, `${tool} active`)
  }
  t.equal(sampleValue(samples, 'services_tool_resources', { tool: 'sms', status: 'active' }), 0)
})

t.test('the reaper backlog is what its last pass found', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  // A failed creation whose release never ran: the reaper's to finish (it holds nothing, so no provider call).
  await createInstancesRepository(system.database.db).insert({
    instanceId: 'agent-left',
    lifecycle: 'failed',
    image: 'img',
  })
  t.equal(sampleValue(await scrape(t, system.app), 'services_reaper_backlog'), 0, 'no pass yet')
  await system.app.lifecycle?.reap()
  t.equal(sampleValue(await scrape(t, system.app), 'services_reaper_backlog'), 1, 'the failed instance')
})

t.test('an unmatched URL is labelled as such, not by its path', async (t) => {
  const { app } = await build(t)
  const missing = await request(t, app, { method: 'GET', url: '/no/such/path-123', headers: poolAuth() })
  t.equal(missing.statusCode, 404)
  const samples = await scrape(t, app)
  t.equal(
    sampleValue(samples, 'services_http_request_duration_seconds_count', {
      route: 'unmatched',
      status: '404',
    }),
    1,
  )
  t.notOk(samples.some((sample) => sample.labels.route?.includes('path-123')))
})

t.test(
  'with REPLICA_COORDINATION=postgres, the fleet creation slots and bucket errors are reported',
  async (t) => {
    const database = await createTestDatabase(t)
    const system = await startSystem(t, {
      emulators: fastDeploys,
      database,
      env: { REPLICA_COORDINATION: 'postgres', DATABASE_URL: database.url },
    })
    const created = await request(t, system.app, {
      method: 'POST',
      url: '/create-instance',
      headers: poolAuth(),
      payload: { instanceId: 'agent-f1' },
    })
    t.equal(created.statusCode, 201, created.body)
    const samples = await scrape(t, system.app)
    t.equal(sampleValue(samples, 'services_railway_fleet_creation_slots', { state: 'max' }), 8)
    t.equal(
      sampleValue(samples, 'services_railway_fleet_creation_slots', { state: 'taken' }),
      0,
      'a ready instance holds no slot',
    )
    t.equal(sampleValue(samples, 'services_railway_fleet_bucket_errors'), 0)
  },
)
