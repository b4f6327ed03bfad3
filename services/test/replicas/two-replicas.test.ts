import t from 'tap'
import { startEmulators } from '../../../emulators/src/start-emulators.js'
import { instanceInfra } from '../../src/db/schema.js'
import { createRailway } from '../../src/infra/railway/index.js'
import { build, poolAuth, testConfig } from '../helpers/build.js'
import { createTestDatabase } from '../helpers/database.js'
import { FAST_TUNING } from '../helpers/system.js'

/**
 * Two replicas in one process (two apps, each with its own Railway adapter) on one Postgres: the same
 * creations asked of both at once run once each, thanks to the instance leases.
 */
t.test('the same creations asked of two replicas at once: each instance made once', async (t) => {
  const emulators = await startEmulators({ railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } })
  t.teardown(() => emulators.close())
  const database = await createTestDatabase(t)
  const env = { ...emulators.env, REPLICA_COORDINATION: 'postgres', DATABASE_URL: database.url }
  const replica = async () => {
    const railway = createRailway(testConfig(env))
    t.teardown(() => railway.close())
    return (await build(t, { env, railway, database, tuning: FAST_TUNING })).app
  }
  const replicas = [await replica(), await replica()]
  const ids = Array.from({ length: 6 }, (_, i) => `twin-${i}`)
  const answers = await Promise.all(
    ids.flatMap((instanceId) =>
      replicas.map((app) =>
        app.inject({ method: 'POST', url: '/create-instance', headers: poolAuth(), payload: { instanceId } }),
      ),
    ),
  )
  t.same(
    answers.map((answer) => answer.statusCode),
    answers.map(() => 201),
    'both replicas answer 201: one ran the creation, the other waited for it',
  )
  const rows = await database.db.select().from(instanceInfra)
  t.same(
    rows.map((row) => row.lifecycle).sort(),
    ids.map(() => 'ready'),
  )
  t.same(
    rows.map((row) => row.leaseOwner),
    ids.map(() => null),
    'every lease is released',
  )
  t.equal(emulators.railway.ledger.snapshot().created.project, ids.length, 'one project per instance')
  t.equal(emulators.openrouter.ledger.snapshot().created.key, ids.length, 'one key per instance')
})
