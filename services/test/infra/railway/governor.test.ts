import t from 'tap'
import type { GraphqlDocument } from '../../../src/infra/railway/documents.js'
import { createGovernor, type GovernorOptions, type Priority } from '../../../src/infra/railway/governor.js'
import { HourlyBudget } from '../../../src/infra/railway/hourly-budget.js'
import { RailwayError, type RailwayErrorOptions } from '../../../src/infra/railway/railway-error.js'
import type { RateLimitInfo } from '../../../src/infra/railway/rate-limit-headers.js'
import { Semaphore } from '../../../src/infra/railway/semaphore.js'
import type { RailwaySender, TransportResult } from '../../../src/infra/railway/transport.js'
import { FakeClock, flush, peakInWindow } from './helpers/fake-clock.js'

const query = (name: string): GraphqlDocument<{ tag: string }, { ok: string }> => ({
  kind: 'query',
  operationName: name,
  source: `query ${name} { ok }`,
})
const mutation = (name: string): GraphqlDocument<{ tag: string }, { ok: string }> => ({
  kind: 'mutation',
  operationName: name,
  source: `mutation ${name} { ok }`,
})

interface Sent {
  at: number
  operation: string
  tag: string
}

/**
 * A sender that records what went out and when (by the governor's clock) and answers with `reply`
 * (default: success). Stands in for the transport: the governor is what is under test.
 */
function recordingSender(
  clock: { now(): number },
  reply: (
    sent: Sent,
    index: number,
  ) => Promise<TransportResult<unknown>> | TransportResult<unknown> = () => ({
    data: { ok: 'yes' },
    rateLimit: undefined,
  }),
) {
  const sent: Sent[] = []
  const sender: RailwaySender = {
    async send(document, variables) {
      const entry = {
        at: clock.now(),
        operation: document.operationName,
        tag: (variables as { tag: string }).tag,
      }
      sent.push(entry)
      return (await reply(entry, sent.length - 1)) as never
    },
  }
  return { sender, sent }
}

const railwayError = (options: Partial<RailwayErrorOptions> & Pick<RailwayErrorOptions, 'code'>) =>
  new RailwayError({ operation: 'x', message: 'test', mayHaveHappened: false, ...options })

function setup(
  t: { teardown(fn: () => unknown): void },
  options: GovernorOptions = {},
  reply?: Parameters<typeof recordingSender>[1],
) {
  const clock = new FakeClock()
  const { sender, sent } = recordingSender(clock, reply)
  const governor = createGovernor(sender, { clock, ...options })
  t.teardown(() => governor.close())
  return { clock, sent, governor }
}

t.test('the rate is never exceeded in any 1-second window, and there are no bursts', async (t) => {
  const { clock, sent, governor } = setup(t)
  let done = 0
  for (let i = 0; i < 300; i++) {
    void governor.request(query('Status'), { tag: String(i) }, { priority: 'status' }).then(() => done++)
  }
  const elapsed = await clock.runUntil(() => done === 300, 60_000)
  t.equal(done, 300, 'all 300 went out')
  const peak = peakInWindow(sent.map((s) => s.at))
  t.ok(peak <= 46, `peak ${peak} in any 1 s window ≤ 46 (45/s paced + the one token on hand), under 50`)
  t.ok(peak >= 44, `and the budget is used (peak ${peak})`)
  t.equal(
    peakInWindow(
      sent.map((s) => s.at),
      100,
    ),
    5,
    'smooth: at most 5 in any 100 ms (no burst)',
  )
  t.ok(elapsed >= 6_600 && elapsed <= 6_800, `300 requests at 45/s take ${elapsed} ms of (fake) time`)
  t.equal(governor.stats().sent, 300)
  t.same(governor.stats().requests, { Status: { ok: 300 } })
  t.ok(governor.stats().waits.maxMs >= 6_500, 'the last one waited its turn')
})

t.test('the rate is configurable (another plan, or a share per replica)', async (t) => {
  const { clock, sent, governor } = setup(t, { perSecond: 10, safetyMargin: 0 })
  let done = 0
  for (let i = 0; i < 40; i++)
    void governor.request(query('Q'), { tag: '' }, { priority: 'status' }).then(() => done++)
  await clock.runUntil(() => done === 40, 60_000)
  t.ok(peakInWindow(sent.map((s) => s.at)) <= 11, 'at most 1 + 10 in any second')
  t.equal(governor.stats().ratePerSecond, 10)
})

t.test('priorities: destroy before create before status, FIFO within each', async (t) => {
  const { clock, sent, governor } = setup(t)
  const all: Promise<unknown>[] = []
  const fire = (priority: Priority, tag: string) =>
    all.push(governor.request(query(priority), { tag }, { priority }))
  fire('status', 'first') // takes the token on hand at once
  for (let i = 0; i < 4; i++) fire('status', `s${i}`)
  for (let i = 0; i < 4; i++) fire('create', `c${i}`)
  for (let i = 0; i < 4; i++) fire('destroy', `d${i}`)
  const queued = governor.stats().queued
  t.same(queued, { destroy: 4, create: 4, status: 4 })
  await clock.runUntil(() => sent.length === 13, 10_000)
  await Promise.all(all)
  t.same(
    sent.map((s) => s.tag),
    ['first', 'd0', 'd1', 'd2', 'd3', 'c0', 'c1', 'c2', 'c3', 's0', 's1', 's2', 's3'],
  )
})

t.test('a destroy is never starved by a flood of status reads', async (t) => {
  const { clock, sent, governor } = setup(t)
  for (let i = 0; i < 200; i++) {
    // Still queued when the test ends; close() rejects them.
    governor.request(query('Status'), { tag: `s${i}` }, { priority: 'status' }).catch(() => {})
  }
  await clock.advance(500)
  const sentBefore = sent.length
  const destroyed = governor.request(mutation('DeleteProject'), { tag: 'destroy' }, { priority: 'destroy' })
  await clock.advance(100)
  await destroyed
  t.equal(
    sent.findIndex((s) => s.tag === 'destroy'),
    sentBefore,
    `the destroy went out next, ahead of ${200 - sentBefore} queued reads`,
  )
})

t.test('at most N creations at once', async (t) => {
  const { governor } = setup(t, { maxConcurrentCreations: 3 })
  let running = 0
  let peak = 0
  const releases: (() => void)[] = []
  const all = Array.from({ length: 10 }, () =>
    governor.withCreationSlot(async () => {
      running += 1
      peak = Math.max(peak, running)
      await new Promise<void>((resolve) => releases.push(resolve))
      running -= 1
    }),
  )
  await flush()
  t.equal(running, 3, 'three run')
  t.same(governor.stats().creations, { running: 3, waiting: 7, max: 3 })
  while (releases.length > 0) {
    releases.shift()?.()
    await flush()
  }
  await Promise.all(all)
  t.equal(peak, 3, 'never more than three')
  t.same(governor.stats().creations, { running: 0, waiting: 0, max: 3 })
  t.equal(createGovernor(recordingSender(new FakeClock()).sender).stats().creations.max, 8, 'default 8')
})

t.test('a semaphore slot goes to the longest waiter, and is freed on failure', async (t) => {
  const semaphore = new Semaphore(1)
  const order: number[] = []
  await Promise.allSettled([
    semaphore.run(async () => {
      order.push(0)
      throw new Error('boom')
    }),
    semaphore.run(async () => order.push(1)),
    semaphore.run(async () => order.push(2)),
  ])
  t.same(order, [0, 1, 2])
  t.equal(semaphore.running, 0)
  t.throws(() => new Semaphore(0), RangeError)
})

t.test('a 429 pauses the whole bucket for Retry-After: every queued caller waits', async (t) => {
  let first = true
  const { clock, sent, governor } = setup(t, { retry: { attempts: 1 } }, () => {
    if (first) {
      first = false
      throw railwayError({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryAfterMs: 2_000 })
    }
    return { data: { ok: 'yes' }, rateLimit: undefined }
  })
  const limited = governor.request(query('Q'), { tag: 'limited' }, { priority: 'status' })
  const rejected = t.rejects(limited, { code: 'PROVIDER_RATE_LIMITED' })
  await flush()
  const start = clock.now()
  let done = 0
  for (let i = 0; i < 5; i++) {
    void governor
      .request(query('Q'), { tag: `w${i}` }, { priority: i === 0 ? 'destroy' : 'status' })
      .then(() => done++)
  }
  await clock.advance(1_990)
  t.equal(sent.length, 1, 'nothing else went out during the pause, not even a destroy')
  t.ok(governor.stats().pausedUntil, 'the pause is visible in the stats')
  await clock.runUntil(() => done === 5, 5_000)
  t.ok((sent[1]?.at ?? 0) - start >= 2_000, 'the next request went out after Retry-After')
  t.equal(governor.stats().rateLimited, 1)
  await rejected
})

t.test('a 429 without Retry-After pauses 1 s', async (t) => {
  let first = true
  const { clock, sent, governor } = setup(t, { retry: { attempts: 1 } }, () => {
    if (first) {
      first = false
      throw railwayError({ code: 'PROVIDER_RATE_LIMITED', status: 429 })
    }
    return { data: { ok: 'yes' }, rateLimit: undefined }
  })
  const rejected = t.rejects(governor.request(query('Q'), { tag: 'a' }, { priority: 'status' }))
  await flush()
  const start = clock.now()
  const next = governor.request(query('Q'), { tag: 'b' }, { priority: 'status' })
  await clock.advance(1_500)
  await next
  t.equal((sent[1]?.at ?? 0) - start, 1_000)
  await rejected
})

t.test('the hourly budget: spread over the time left once low, destroys only in the reserve', async (t) => {
  let budget: RateLimitInfo | undefined
  const { clock, sent, governor } = setup(t, {}, () => ({ data: { ok: 'yes' }, rateLimit: budget }))
  const start = clock.now()
  // 100 of 1,000 left (below the 20% low-water mark), reset in 100 s: 1 request per second.
  budget = { limit: 1_000, remaining: 100, resetAt: start + 100_000 }
  await governor.request(query('Q'), { tag: 'probe' }, { priority: 'status' })
  budget = undefined
  t.ok(Math.abs(governor.stats().ratePerSecond - 1) < 0.02, `paced at ${governor.stats().ratePerSecond}/s`)
  let done = 0
  for (let i = 0; i < 5; i++)
    void governor.request(query('Q'), { tag: `q${i}` }, { priority: 'status' }).then(() => done++)
  await clock.runUntil(() => done === 5, 20_000)
  const gaps = sent.slice(2).map((s, i) => s.at - (sent[i + 1] as Sent).at)
  t.ok(
    gaps.every((gap) => gap >= 990),
    `about a second apart when the budget is low: ${gaps.join(', ')} ms`,
  )

  // 8 left (≤ 1% of 1,000): only destroys go; the read waits for the reset.
  const resetAt = clock.now() + 30_000
  budget = { limit: 1_000, remaining: 8, resetAt }
  await clock.advance(2_000)
  const probe = governor.request(query('Q'), { tag: 'probe2' }, { priority: 'status' })
  await clock.advance(2_000)
  await probe
  budget = undefined
  let readDone = false
  let destroyDone = false
  void governor.request(query('Q'), { tag: 'read' }, { priority: 'status' }).then(() => {
    readDone = true
  })
  void governor.request(mutation('DeleteProject'), { tag: 'destroy' }, { priority: 'destroy' }).then(() => {
    destroyDone = true
  })
  await clock.runUntil(() => destroyDone, 10_000)
  t.ok(destroyDone, 'the destroy went out')
  t.notOk(readDone, 'the read is held back in the reserve')
  await clock.runUntil(() => readDone, 40_000)
  t.ok(readDone, 'and goes out after the reset')
  t.ok((sent.at(-1)?.at ?? 0) >= resetAt, 'only once the window reset')
  t.equal(sent.at(-1)?.tag, 'read')
})

t.test('hourly budget arithmetic', async (t) => {
  const budget = new HourlyBudget()
  const now = 0
  t.equal(budget.ratePerSecond(now), Number.POSITIVE_INFINITY, 'nothing known: no limit')
  budget.observe({ limit: 10_000, remaining: 5_000, resetAt: 1_800_000 }, now)
  t.equal(budget.ratePerSecond(now), Number.POSITIVE_INFINITY, 'half left: full speed')
  budget.observe({ limit: 10_000, remaining: 1_800, resetAt: 1_800_000 }, now)
  t.equal(budget.ratePerSecond(now), 1, '1,800 left for 1,800 s: 1/s')
  budget.spend(now)
  t.equal(budget.snapshot(now).remaining, 1_799, 'each request is counted down between headers')
  budget.observe({ limit: 10_000, remaining: 1_850, resetAt: 1_800_000 }, now)
  t.equal(budget.snapshot(now).remaining, 1_799, 'a stale header does not raise the count within a window')
  t.equal(budget.admits(false, now), true)
  budget.observe({ limit: 10_000, remaining: 100, resetAt: 1_800_000 }, now)
  t.equal(budget.admits(false, now), false, 'the last 1% is for destroys')
  t.equal(budget.admits(true, now), true)
  t.equal(budget.ratePerSecond(1_800_000), Number.POSITIVE_INFINITY, 'after the reset: full speed again')
  budget.observe({ limit: 10_000, remaining: 9_999, resetAt: 5_400_000 }, 1_800_000)
  t.equal(budget.snapshot(1_800_000).remaining, 9_999, 'a new window takes the header')
})

t.test(
  'retries: queries and idempotent mutations yes; other mutations only when provably not done',
  async (t) => {
    const failWith = (error: RailwayError) => {
      const { sender, sent } = recordingSender({ now: Date.now }, (_s, index) => {
        if (index === 0) throw error
        return { data: { ok: 'yes' }, rateLimit: undefined }
      })
      const governor = createGovernor(sender, { retry: { baseDelayMs: 1, maxDelayMs: 2 } })
      t.teardown(() => governor.close())
      return { governor, sent }
    }
    const ambiguous = () => railwayError({ code: 'PROVIDER_TIMEOUT', mayHaveHappened: true })
    const table: [string, RailwayError, GraphqlDocument<{ tag: string }, { ok: string }>, boolean, number][] =
      [
        [
          'query after a 5xx',
          railwayError({ code: 'PROVIDER_UNAVAILABLE', status: 502, mayHaveHappened: true }),
          query('Q'),
          false,
          2,
        ],
        ['query after a timeout', ambiguous(), query('Q'), false, 2],
        ['mutation after a timeout: NOT retried', ambiguous(), mutation('M'), false, 1],
        [
          'mutation after a 5xx: NOT retried',
          railwayError({ code: 'PROVIDER_UNAVAILABLE', status: 500, mayHaveHappened: true }),
          mutation('M'),
          false,
          1,
        ],
        [
          'mutation after a 429',
          railwayError({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryAfterMs: 5 }),
          mutation('M'),
          false,
          2,
        ],
        [
          'mutation refused before sending',
          railwayError({ code: 'PROVIDER_UNAVAILABLE' }),
          mutation('M'),
          false,
          2,
        ],
        ['idempotent mutation after a timeout', ambiguous(), mutation('M'), true, 2],
        [
          'a 400 validation failure: never',
          railwayError({ code: 'PROVIDER_REJECTED', status: 400 }),
          query('Q'),
          false,
          1,
        ],
        ['unauthorized: never', railwayError({ code: 'PROVIDER_UNAUTHORIZED' }), query('Q'), false, 1],
        [
          'a 429 asking for an hour: not waited out in the call',
          railwayError({ code: 'PROVIDER_RATE_LIMITED', retryAfterMs: 3_600_000 }),
          query('Q'),
          false,
          1,
        ],
      ]
    for (const [name, error, document, idempotent, attempts] of table) {
      const { governor, sent } = failWith(error)
      const outcome = await governor
        .request(document, { tag: name }, { priority: 'create', idempotent })
        .then(
          () => 'ok',
          (e: RailwayError) => e.code,
        )
      t.equal(sent.length, attempts, `${name}: ${attempts} attempt(s)`)
      t.equal(outcome, attempts === 2 ? 'ok' : error.code, `${name}: outcome`)
      if (attempts === 2) t.equal(governor.stats().retries, 1)
    }
  },
)

t.test('stats count by operation and outcome; close rejects the queue', async (t) => {
  const { clock, governor } = setup(t, { retry: { attempts: 1 } }, (s) => {
    if (s.tag === 'bad') throw railwayError({ code: 'PROVIDER_REJECTED', status: 400 })
    return { data: { ok: 'yes' }, rateLimit: undefined }
  })
  await governor.request(query('A'), { tag: 'ok' }, { priority: 'status' })
  const bad = t.rejects(governor.request(query('A'), { tag: 'bad' }, { priority: 'status' }))
  await clock.advance(50)
  await bad
  t.same(governor.stats().requests, { A: { ok: 1, PROVIDER_REJECTED: 1 } })
  t.ok(governor.stats().tokens >= 0 && governor.stats().tokens <= 1, 'tokens are visible')
  // The first takes the token on hand; the other two are still queued when the governor closes.
  const calls = [1, 2, 3].map(() => governor.request(query('A'), { tag: 'late' }, { priority: 'status' }))
  governor.close()
  const outcomes = await Promise.allSettled(calls)
  t.same(
    outcomes.map((o) => (o.status === 'rejected' ? String(o.reason.message) : 'sent')),
    ['sent', 'the Railway governor is closed', 'the Railway governor is closed'],
  )
  await t.rejects(governor.request(query('A'), { tag: 'after' }, { priority: 'status' }), /closed/)
})
