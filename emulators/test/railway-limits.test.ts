import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { DOCS, gql, gqlData, startRailway } from './railway-client.js'

const HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

t.test('a burst over perSecond gets 429 with Retry-After; the peak stays within the limit', async (t) => {
  const railway = await startRailway(t, {
    tokens: ['token-a', 'token-b'],
    rateLimit: { perSecond: 5, perHour: 1000 },
  })
  const burst = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      gql(railway, DOCS.projectCreate, { input: { name: `burst-${i}`, workspaceId: railway.workspaceId } }),
    ),
  )
  const ok = burst.filter((r) => r.status === 200)
  const limited = burst.filter((r) => r.status === 429)
  t.equal(ok.length + limited.length, 20, 'every answer is 200 or 429')
  t.ok(limited.length >= 1, `${limited.length} of 20 were rate limited`)
  for (const reply of burst) {
    for (const header of HEADERS)
      t.match(reply.headers.get(header), /^\d+$/, `${header} on a ${reply.status}`)
  }
  t.equal(ok[0]?.headers.get('x-ratelimit-limit'), '1000', 'the limit header is the hourly budget')
  for (const reply of limited) {
    t.ok(Number(reply.headers.get('retry-after')) >= 1, 'Retry-After is a whole number of seconds ≥ 1')
    t.match(reply.body, { data: null, errors: [{ message: String, extensions: { traceId: String } }] })
  }
  const stats = railway.stats()
  t.ok(stats.peakPerSecond <= 5, `peakPerSecond ${stats.peakPerSecond} ≤ 5`)
  t.ok(stats.peakPerSecond >= 1)
  t.equal(stats.rateLimited, limited.length)
  t.equal(stats.requests, 20)
  t.equal(
    (railway.ledger.snapshot().live.project ?? []).length,
    ok.length,
    'a 429 did nothing: one project per accepted request',
  )

  const other = await gql(railway, DOCS.workspace, { workspaceId: railway.workspaceId }, { token: 'token-b' })
  t.equal(other.status, 200, 'another token has its own budget')

  await sleep(Number(limited[0]?.headers.get('retry-after') ?? 1) * 1000 + 50)
  const after = await gql(railway, DOCS.workspace, { workspaceId: railway.workspaceId })
  t.equal(after.status, 200, 'after Retry-After the token is accepted again')
})

t.test('the hourly budget: Remaining counts down, then 429 until the hour rolls', async (t) => {
  const railway = await startRailway(t, { rateLimit: { perSecond: 100, perHour: 3 } })
  const replies = []
  for (let i = 0; i < 4; i++)
    replies.push(await gql(railway, DOCS.workspace, { workspaceId: railway.workspaceId }))
  t.same(
    replies.map((r) => r.status),
    [200, 200, 200, 429],
  )
  t.same(
    replies.map((r) => r.headers.get('x-ratelimit-remaining')),
    ['2', '1', '0', '0'],
  )
  const reset = Number(replies[3]?.headers.get('x-ratelimit-reset'))
  const retryAfter = Number(replies[3]?.headers.get('retry-after'))
  t.ok(retryAfter > 3000 && retryAfter <= 3600, `Retry-After ${retryAfter} s waits for the hour`)
  t.ok(reset > 3000 && reset <= 3600, `X-RateLimit-Reset ${reset} s`)
})

t.test('rateLimit: false sends no rate headers and never 429s', async (t) => {
  const railway = await startRailway(t, { rateLimit: false })
  const replies = await Promise.all(
    Array.from({ length: 60 }, () => gql(railway, DOCS.workspace, { workspaceId: railway.workspaceId })),
  )
  t.ok(replies.every((r) => r.status === 200))
  t.equal(replies[0]?.headers.get('x-ratelimit-limit'), null)
  t.ok(railway.stats().peakPerSecond > 5, 'the peak is still measured')
})

t.test(
  'faults: errorRate scoped to projectCreate, failAfterWork, hang, reset, storms, latency',
  async (t) => {
    const railway = await startRailway(t, { rateLimit: false })
    const create = (name: string, signal?: AbortSignal) =>
      fetch(railway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${railway.token}` },
        body: JSON.stringify({
          query: DOCS.projectCreate,
          variables: { input: { name, workspaceId: railway.workspaceId } },
        }),
        ...(signal ? { signal } : {}),
      })

    railway.faults.set([{ operation: 'projectCreate', errorRate: 1 }])
    const failed = await create('convos-agent-fails')
    t.equal(failed.status, 500)
    t.match(await failed.json(), {
      data: null,
      errors: [{ extensions: { code: 'INTERNAL_SERVER_ERROR', traceId: String } }],
    })
    t.equal(railway.ledger.snapshot().live.project, undefined, 'the error came before the work')
    const other = await gql(railway, DOCS.projects, {})
    t.equal(other.status, 200, 'other operations are untouched')

    railway.faults.set([{ operation: 'projectCreate', errorRate: 1, failAfterWork: true, times: 1 }])
    const timedOut = await create('convos-agent-after-work')
    t.equal(timedOut.status, 500, 'the client sees a failure…')
    const listed = await gqlData(railway, DOCS.projects, { first: 100 })
    t.same(
      listed.projects.edges.map((e: { node: { name: string } }) => e.node.name),
      ['convos-agent-after-work'],
      '…but the project exists and is found by name',
    )

    railway.faults.set([{ operation: 'projectCreate', hangRate: 1, times: 1 }])
    const hung = await create('convos-agent-hang', AbortSignal.timeout(300)).then(
      () => 'answered',
      (error: Error) => error.name,
    )
    t.equal(hung, 'TimeoutError', 'a hang never answers; the client’s timeout decides')

    railway.faults.set([{ operation: 'serviceInstance', resetRate: 1, times: 1 }])
    const reset = await gql(railway, DOCS.serviceInstance, { serviceId: 's', environmentId: 'e' }).then(
      () => 'answered',
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    )
    t.not(reset, 'answered', `the connection was reset (${reset})`)

    railway.faults.set([{ operation: 'projects', rateLimitStorm: { retryAfterSeconds: 7 }, times: 1 }])
    const storm = await gql(railway, DOCS.projects, {})
    t.equal(storm.status, 429)
    t.equal(storm.headers.get('retry-after'), '7')
    t.equal(railway.stats().rateLimited, 1, 'storm 429s count as rate limited')

    railway.faults.set([{ operation: 'workspace', latencyMs: 300 }])
    const started = performance.now()
    await gqlData(railway, DOCS.workspace, { workspaceId: railway.workspaceId })
    t.ok(performance.now() - started >= 250, 'per-operation latency is added')
    railway.faults.clear()
  },
)

t.test('latencyMs is added to every request', async (t) => {
  const railway = await startRailway(t, { latencyMs: 200 })
  const started = performance.now()
  await gqlData(railway, DOCS.workspace, { workspaceId: railway.workspaceId })
  t.ok(performance.now() - started >= 150, 'the request took at least the configured latency')
})
