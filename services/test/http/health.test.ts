import t from 'tap'
import { build } from '../helpers/build.js'
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
