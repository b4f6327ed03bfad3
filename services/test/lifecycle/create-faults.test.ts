import { request as httpRequest } from 'node:http'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { POOL_KEY, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'

const fast = { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } }

const create = (system: System, payload: object, headers: Record<string, string> = {}) =>
  request(t, system.app, {
    method: 'POST',
    url: '/create-instance',
    headers: { ...poolAuth(), ...headers },
    payload,
  })

const counts = (system: System) => ({
  projects: system.emulators.railway.ledger.all('project').length,
  services: system.emulators.railway.ledger.all('service').length,
  volumes: system.emulators.railway.ledger.all('volume').length,
  domains: system.emulators.railway.ledger.all('domain').length,
  keys: system.emulators.openrouter.ledger.all('key').length,
  inboxes: system.emulators.agentmail.ledger.all('inbox').length,
})

t.test(
  '5xx, resets after the work, and a 429 storm during creations converge without duplicates',
  async (t) => {
    const system = await startSystem(t, {
      emulators: {
        seed: 7,
        railway: {
          ...fast,
          faults: [
            { errorRate: 0.2, errorStatus: 503 },
            // The service is made but the answer is lost: the adapter must find it, not make a second.
            { operation: 'serviceCreate', resetRate: 1, failAfterWork: true, times: 2 },
            { operation: 'projectCreate', rateLimitStorm: { retryAfterSeconds: 1 }, times: 3 },
          ],
        },
        faults: [{ errorRate: 0.2, errorStatus: 502 }],
      },
    })
    const ids = ['agent-f1', 'agent-f2', 'agent-f3', 'agent-f4', 'agent-f5']
    const responses = await Promise.all(
      ids.map((instanceId) => create(system, { instanceId, tools: ['email'] })),
    )
    t.same(
      responses.map((response) => response.statusCode),
      [201, 201, 201, 201, 201],
      responses.map((response) => response.body).join('\n'),
    )
    t.same(counts(system), { projects: 5, services: 5, volumes: 5, domains: 5, keys: 5, inboxes: 5 })
    const railwayStatuses = system.emulators.railway.ledger.requests().map((r) => r.status)
    t.ok(system.emulators.railway.stats().rateLimited >= 3, 'the 429 storm happened')
    t.ok(railwayStatuses.includes(503), 'Railway 5xx happened')
    t.ok(
      system.emulators.openrouter.ledger.requests().some((r) => r.status === 502),
      'OpenRouter 5xx happened',
    )
    const retried = responses.flatMap((response) =>
      response.json().steps.filter((step: { attempts: number }) => step.attempts > 1),
    )
    t.comment(`${retried.length} steps needed more than one attempt`)
  },
)

t.test('a permanent tool failure stops the creation before any Railway request and undoes it', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: fast, faults: [{ operation: 'inboxes_create', errorRate: 1, errorStatus: 403 }] },
  })
  const before = system.emulators.railway.stats().requests
  const failed = await create(system, { instanceId: 'agent-denied', tools: ['email'] })
  t.equal(failed.statusCode, 502)
  t.match(failed.json(), { code: 'CREATION_FAILED', detail: /PROVIDER_UNAUTHORIZED/ })
  await system.app.lifecycle?.ensureCreation('agent-denied')
  t.equal(system.emulators.railway.stats().requests, before, 'no Railway request was spent')
  t.same(counts(system), { projects: 0, services: 0, volumes: 0, domains: 0, keys: 0, inboxes: 0 })
  const view = await request(t, system.app, {
    method: 'GET',
    url: '/instances/agent-denied',
    headers: poolAuth(),
  })
  t.equal(view.statusCode, 200)
  const steps = view.json().steps as Array<{ name: string; state: string; error: unknown }>
  t.match(
    steps.find((step) => step.name === 'tool:email'),
    { state: 'failed', error: { code: 'PROVIDER_UNAUTHORIZED' } },
  )
  t.match(
    steps.find((step) => step.name === 'tool:openrouter'),
    { state: 'compensated' },
    'what was done is marked undone',
  )
})

t.test('the events stream sends each step as it happens, then the instance', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 40 }, runtime: { warmupMs: 0 } } },
  })
  const accepted = await create(system, { instanceId: 'agent-sse' }, { prefer: 'respond-async' })
  t.equal(accepted.statusCode, 202)
  const base = await system.app.listen({ host: '127.0.0.1', port: 0 })
  const response = await fetch(`${base}/instances/agent-sse/events`, {
    headers: { authorization: `Bearer ${POOL_KEY}` },
  })
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/event-stream/)
  t.ok(response.headers.get('x-request-id'), 'the stream carries the request id like every response')
  const text = await response.text()
  const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(([, event, data]) => ({
    event,
    data: JSON.parse(data as string),
  }))
  const last = events.at(-1)
  t.equal(last?.event, 'end', 'the stream ends with `end`')
  t.equal(last?.data.lifecycle, 'ready')
  const stepNames = new Set(events.filter((e) => e.event === 'step').map((e) => e.data.name))
  t.same(
    [...stepNames].sort(),
    ['deploy', 'project', 'service', 'tool:openrouter', 'tool:wallet', 'volume_domain'],
    'every step is streamed',
  )
  t.ok(
    events.some((e) => e.event === 'step' && e.data.name === 'deploy' && e.data.state === 'running'),
    'a step is seen while it runs, not only once done',
  )

  // With nothing in flight, the stream sends `end` at once.
  const idle = await fetch(`${base}/instances/agent-sse/events`, {
    headers: { authorization: `Bearer ${POOL_KEY}` },
  })
  t.match(await idle.text(), /event: end\ndata: \{"instanceId":"agent-sse"/)
  const missing = await fetch(`${base}/instances/agent-none/events`, {
    headers: { authorization: `Bearer ${POOL_KEY}` },
  })
  t.equal(missing.status, 404)
  t.equal(missing.headers.get('content-type'), 'application/problem+json; charset=utf-8')
})

t.test('a deployment that never comes up times out and is undone', async (t) => {
  const system = await startSystem(t, {
    env: { DEPLOY_TIMEOUT_MS: '300' },
    emulators: { railway: { deploy: { stepMs: 10_000 }, runtime: { warmupMs: 0 } } },
  })
  const failed = await create(system, { instanceId: 'agent-slow' })
  t.equal(failed.statusCode, 502)
  t.match(failed.json().detail, /DEPLOY_TIMEOUT/)
  await system.app.lifecycle?.ensureCreation('agent-slow')
  t.same(counts(system), { projects: 0, services: 0, volumes: 0, domains: 0, keys: 0, inboxes: 0 })
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-slow'))
  t.equal(row?.lifecycle, 'failed')
})

/** Polls the instance row until `done` says so (the engine works on after the caller is gone). */
async function untilRow(
  system: System,
  instanceId: string,
  done: (lifecycle: string | undefined) => boolean,
) {
  for (let i = 0; i < 500; i++) {
    const [row] = await system.database.db
      .select({ lifecycle: instanceInfra.lifecycle })
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, instanceId))
    if (done(row?.lifecycle)) return row?.lifecycle
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`instance ${instanceId} did not get there in time`)
}

t.test('a caller that disconnects mid-wait does not cancel the creation', async (t) => {
  // Slow deploys: the request is still waiting for the deployment when its socket goes.
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 150 }, runtime: { warmupMs: 0 } } },
  })
  const base = new URL(await system.app.listen({ host: '127.0.0.1', port: 0 }))
  const body = JSON.stringify({ instanceId: 'agent-gone' })
  const outcome = new Promise<string>((resolve) => {
    const call = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: '/create-instance',
        headers: {
          ...poolAuth(),
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => resolve(`answered ${response.statusCode}`),
    )
    call.on('error', (error) => resolve(`socket ${(error as NodeJS.ErrnoException).code ?? error.message}`))
    call.end(body)
    // Gone once the creation is under way: its row exists and its first steps ran.
    void untilRow(system, 'agent-gone', (lifecycle) => lifecycle === 'creating').then(async () => {
      const steps = async () =>
        (await request(t, system.app, { method: 'GET', url: '/instances/agent-gone', headers: poolAuth() }))
          .json()
          .steps.filter((s: { name: string; state: string }) => s.name === 'deploy' && s.state === 'running')
      while ((await steps()).length === 0) await new Promise((r) => setTimeout(r, 20))
      call.destroy()
    })
  })
  t.match(await outcome, /^socket /, 'the caller hung up before any answer')

  t.equal(await untilRow(system, 'agent-gone', (lifecycle) => lifecycle !== 'creating'), 'ready')
  const view = await request(t, system.app, {
    method: 'GET',
    url: '/instances/agent-gone',
    headers: poolAuth(),
  })
  t.ok(
    view.json().steps.every((step: { state: string }) => step.state === 'done'),
    'every step of the creation done',
  )
  t.match(counts(system), { projects: 1, services: 1, volumes: 1, domains: 1, keys: 1 }, 'made once')
})

t.test(
  'the events stream of a destroy: each destroy step as it happens, then the destroyed instance',
  async (t) => {
    const system = await startSystem(t, { emulators: { railway: fast } })
    t.equal((await create(system, { instanceId: 'agent-bye' })).statusCode, 201)
    // A slow projectDelete keeps the destroy in flight while the stream is opened.
    system.emulators.railway.faults.add({ operation: 'projectDelete', latencyMs: 500 })
    const base = await system.app.listen({ host: '127.0.0.1', port: 0 })
    const destroyed = request(t, system.app, {
      method: 'DELETE',
      url: '/destroy/agent-bye',
      headers: poolAuth(),
    })
    await untilRow(system, 'agent-bye', (lifecycle) => lifecycle === 'destroying')
    const response = await fetch(`${base}/instances/agent-bye/events`, {
      headers: { authorization: `Bearer ${POOL_KEY}` },
    })
    t.equal(response.status, 200)
    const text = await response.text()
    t.equal((await destroyed).statusCode, 200)
    const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(([, event, data]) => ({
      event,
      data: JSON.parse(data as string),
    }))
    const destroySteps = events.filter((e) => e.event === 'step' && e.data.operation === 'destroy')
    t.same(
      [...new Set(destroySteps.map((e) => e.data.name))].sort(),
      ['railway', 'tool:openrouter', 'tool:wallet'],
      'every destroy step is streamed',
    )
    t.ok(
      destroySteps.some((e) => e.data.name === 'railway' && e.data.state === 'running'),
      'the Railway step is seen while it runs',
    )
    t.match(destroySteps.at(-1)?.data, { name: 'railway', state: 'done' }, 'and then done')
    const last = events.at(-1)
    t.equal(last?.event, 'end', 'the stream ends with `end`')
    t.match(last?.data, { instanceId: 'agent-bye', lifecycle: 'destroyed' })
  },
)
