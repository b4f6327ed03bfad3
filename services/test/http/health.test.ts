import t from 'tap'
import { startRailwayEmulator } from '../../../emulators/src/railway/index.js'
import { createRailway } from '../../src/infra/railway/index.js'
import { cachedCheck } from '../../src/routes/cached-check.js'
import { build, testConfig } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { createTestDatabase, createTestPglite } from '../helpers/database.js'

t.test('/healthz and /readyz need no credential and answer while the database is up', async (t) => {
  const { app } = await build(t)
  const live = await request(t, app, { method: 'GET', url: '/healthz' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await request(t, app, { method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { database: 'ok' } })
})

t.test('/readyz fails with 503 NOT_READY while the database is unreachable; /healthz stays up', async (t) => {
  const database = await createTestDatabase(t)
  const { app } = await build(t, { database })
  await database.close()
  const ready = await request(t, app, { method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.equal(ready.json().code, 'NOT_READY')
  t.equal(ready.headers['retry-after'], '5')
  const live = await request(t, app, { method: 'GET', url: '/healthz' })
  t.equal(live.statusCode, 200)
})

t.test('the same app runs on embedded PGlite', async (t) => {
  const database = await createTestPglite(t)
  const { app } = await build(t, { database })
  const ready = await request(t, app, { method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
})

t.test(
  '/readyz checks that the Railway token sees its workspace, without spending the budget on every probe',
  async (t) => {
    const emulator = await startRailwayEmulator()
    t.teardown(() => emulator.close())
    const env = {
      RAILWAY_API_URL: emulator.url,
      RAILWAY_API_TOKEN: emulator.token,
      RAILWAY_WORKSPACE_ID: emulator.workspaceId,
    }
    const railway = createRailway(testConfig(env))
    t.teardown(() => railway.close())
    const { app } = await build(t, { env, railway })
    for (let i = 0; i < 5; i++) {
      const ready = await request(t, app, { method: 'GET', url: '/readyz' })
      t.same(ready.json(), { status: 'ok', checks: { database: 'ok', railway: 'ok', recovery: 'pending' } })
    }
    t.equal(emulator.stats().requests, 1, 'five probes, one Railway request (cached)')
    await app.lifecycle?.reap()
    const recovered = await request(t, app, { method: 'GET', url: '/readyz' })
    t.equal(recovered.json().checks.recovery, 'done', 'after the first reaper pass: recovery done')

    const wrongToken = createRailway(testConfig({ ...env, RAILWAY_API_TOKEN: 'not-the-token' }))
    t.teardown(() => wrongToken.close())
    const { app: refused } = await build(t, { env, railway: wrongToken })
    const notReady = await request(t, refused, { method: 'GET', url: '/readyz' })
    t.equal(notReady.statusCode, 503)
    t.match(notReady.json(), { code: 'NOT_READY', detail: /Railway/ })
  },
)

t.test('cachedCheck shares one call, keeps successes longer than failures', async (t) => {
  let now = 0
  let calls = 0
  let fail = false
  const check = cachedCheck(
    async () => {
      calls += 1
      if (fail) throw new Error('down')
    },
    { okMs: 100, failedMs: 10 },
    () => now,
  )
  await Promise.all([check(), check(), check()])
  t.equal(calls, 1, 'concurrent callers share one call')
  now = 99
  await check()
  t.equal(calls, 1, 'a success is reused within its TTL')
  now = 100
  fail = true
  await t.rejects(check())
  t.equal(calls, 2)
  now = 105
  await t.rejects(check())
  t.equal(calls, 2, 'a failure is reused within its shorter TTL')
  now = 111
  fail = false
  await check()
  t.equal(calls, 3, 'and recovery shows once it expires')
})
