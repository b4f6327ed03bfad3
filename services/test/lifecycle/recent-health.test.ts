import t from 'tap'
import type { HealthChecker, HealthResult } from '../../src/lifecycle/health-checker.js'
import { RecentHealth } from '../../src/lifecycle/recent-health.js'

/** A checker whose pings end when the test says so; counts pings and credentials opened. */
function fakeChecker() {
  const pending: Array<{ url: string; resolve: (r: HealthResult) => void }> = []
  const checker: HealthChecker = {
    check: (url) => new Promise((resolve) => pending.push({ url, resolve })),
    close: async () => {},
  }
  const answer = (ready: boolean, at = new Date()) => {
    for (const p of pending.splice(0))
      p.resolve({ ready, answered: ready, latencyMs: ready ? 3 : null, checkedAt: at })
  }
  return { checker, pending, answer }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('a first check waits for its ping, however long', async (t) => {
  const { checker, pending, answer } = fakeChecker()
  const recent = new RecentHealth(checker, { answerWithinMs: 10 })
  const result = recent.checkAll([{ key: 'a', url: 'http://a', credential: () => 'k' }])
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(pending.length, 1, 'pinged')
  answer(true)
  t.match(await result, [{ ready: true }], 'the ping, past the deadline: nothing older to answer with')
})

t.test('a result of the last moment is reused; then pinged again', async (t) => {
  let now = 1_000_000
  const { checker, pending, answer } = fakeChecker()
  const recent = new RecentHealth(checker, { reuseMs: 1_000, now: () => now })
  let opened = 0
  const target = {
    key: 'a',
    url: 'http://a',
    credential: () => {
      opened += 1
      return 'k'
    },
  }
  const first = recent.checkAll([target])
  await tick()
  answer(true, new Date(now))
  await first
  now += 999
  t.match(await recent.checkAll([target]), [{ ready: true }])
  t.equal(pending.length, 0, 'within reuseMs: no ping')
  t.equal(opened, 1, 'and the credential was not even opened')
  now += 1
  const again = recent.checkAll([target])
  await tick()
  t.equal(pending.length, 1, 'older: pinged again')
  answer(false, new Date(now))
  t.match(await again, [{ ready: false }], 'a fresh answer within the deadline is the one returned')
})

t.test('a hung ping: the last result at the deadline, the ping updates it later', async (t) => {
  let now = 1_000_000
  const { checker, pending, answer } = fakeChecker()
  const recent = new RecentHealth(checker, { reuseMs: 1_000, answerWithinMs: 20, now: () => now })
  const target = { key: 'a', url: 'http://a', credential: () => 'k' }
  const first = recent.checkAll([target])
  await tick()
  const oldAt = new Date(now)
  answer(true, oldAt)
  await first

  now += 5_000
  const started = Date.now()
  const [stale] = await recent.checkAll([target])
  t.ok(Date.now() - started < 1_000, 'answered at the deadline')
  t.same(stale?.checkedAt, oldAt, 'with the last result, which says how old it is')
  t.equal(pending.length, 1, 'the ping goes on')
  answer(false, new Date(now + 1_500))
  await tick()
  now += 1_600
  t.match(await recent.checkAll([target]), [{ ready: false }], 'and its result is the one remembered')
})

t.test('a changed URL is a new instance for health', async (t) => {
  let now = 1_000_000
  const { checker, pending, answer } = fakeChecker()
  const recent = new RecentHealth(checker, { now: () => now })
  const first = recent.checkAll([{ key: 'a', url: 'http://old', credential: () => 'k' }])
  await tick()
  answer(true, new Date(now))
  await first
  now += 10
  const moved = recent.checkAll([{ key: 'a', url: 'http://new', credential: () => 'k' }])
  await tick()
  t.equal(pending[0]?.url, 'http://new', 'pinged at its new URL, not reused')
  answer(false, new Date(now))
  t.match(await moved, [{ ready: false }])
})
