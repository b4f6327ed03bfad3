import t from 'tap'
import { createAgent, railwayWithEmulator, requestLog } from './helpers/emulator.js'

t.test('300 calls fired at once: no 429, never above 50 in any second', async (t) => {
  // The emulator enforces Railway Pro's limits: 50/s and 10,000/h per token.
  const { emulator, railway } = await railwayWithEmulator(t, {
    rateLimit: { perSecond: 50, perHour: 10_000 },
  })
  const { serviceId, environmentId } = await createAgent(railway, 'agent-burst')
  const before = emulator.stats().requests

  const started = performance.now()
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0
        ? railway.statusOf([{ serviceId, environmentId }])
        : i % 3 === 1
          ? railway.checkWorkspace()
          : railway.getProject('missing-project'),
    ),
  )
  const wallMs = Math.round(performance.now() - started)
  const stats = emulator.stats()
  t.equal(results.length, 300)
  t.equal(stats.requests - before, 300, 'one request per call, none repeated')
  t.equal(stats.rateLimited, 0, 'no 429')
  t.ok(stats.peakPerSecond <= 50, `peak ${stats.peakPerSecond}/s ≤ 50`)
  t.ok(wallMs >= 6_000, `paced, not bursted: ${wallMs} ms for 300 calls (45/s → about 6.6 s)`)
  t.equal(railway.stats().rateLimited, 0)
  t.comment(`HEADLINE: 300 calls at once → peak ${stats.peakPerSecond}/s, 0 × 429, wall time ${wallMs} ms`)
})

t.test('forced 429s with Retry-After: 1 are waited out and the call succeeds', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {
    faults: [{ operation: 'workspace', rateLimitStorm: { retryAfterSeconds: 1 }, times: 2 }],
  })
  const workspace = await railway.checkWorkspace()
  t.equal(workspace.id, emulator.workspaceId)
  const log = requestLog(emulator)
  t.same(
    log.map((r) => r.status),
    [429, 429, 200],
  )
  for (let i = 1; i < log.length; i++) {
    const gap = (log[i]?.at ?? 0) - (log[i - 1]?.at ?? 0)
    t.ok(gap >= 900, `attempt ${i + 1} came ${gap} ms after a 429 asking for 1 s`)
  }
  t.equal(railway.stats().rateLimited, 2)
})

t.test('a 429 pauses every queued caller, not only the one that got it', async (t) => {
  const { emulator, railway } = await railwayWithEmulator(t, {
    faults: [{ operation: 'workspace', rateLimitStorm: { retryAfterSeconds: 1 }, times: 1 }],
  })
  // The workspace check goes first (token on hand) and gets the 429; the reads queue behind it.
  const calls = [railway.checkWorkspace(), ...Array.from({ length: 5 }, () => railway.listProjects())]
  await Promise.all(calls)
  const log = requestLog(emulator)
  const limitedAt = log.find((r) => r.status === 429)?.at ?? 0
  const reads = log.filter((r) => r.operation === 'projects')
  const early = reads.filter((r) => r.at - limitedAt < 900)
  // One read may already be on the wire when the 429 comes back (pacing is 22 ms); the rest must wait.
  t.ok(early.length <= 1, `${early.length} read(s) within the pause, ${reads.length - early.length} after it`)
  t.equal(reads.length, 5)
  t.equal(emulator.stats().rateLimited, 1)
})

t.test(
  'a 5xx on a query is retried (mutations: see emulator-create.test.ts, they are looked up)',
  async (t) => {
    const { emulator, railway } = await railwayWithEmulator(t, {
      faults: [{ operation: 'project', errorRate: 1, errorStatus: 503, times: 2 }],
    })
    const { projectId } = await railway.createProject('agent-5xx')
    const project = await railway.getProject(projectId)
    t.equal(project?.name, 'agent-5xx', 'the query succeeded on the third attempt')
    t.same(
      requestLog(emulator)
        .filter((r) => r.operation === 'project')
        .map((r) => r.status),
      [503, 503, 200],
    )
    t.equal(railway.stats().retries, 2)
  },
)
