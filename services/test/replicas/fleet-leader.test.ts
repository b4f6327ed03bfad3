import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createFleetLeader, onlyOnLeader } from '../../src/replicas/fleet-leader.js'
import { createTestDatabase } from '../helpers/database.js'

const { db } = await createTestDatabase(t)

t.test('one leader; it renews by asking; a lapsed or resigned leader is replaced', async (t) => {
  const a = createFleetLeader(db, 'jobs', 'replica-a', 400)
  const b = createFleetLeader(db, 'jobs', 'replica-b', 400)
  t.ok(await a.leads(), 'the first to ask leads')
  t.notOk(await b.leads(), 'the second does not')
  await sleep(250)
  t.ok(await a.leads(), 'asking again renews')
  await sleep(250)
  t.notOk(await b.leads(), 'a renewed term has not lapsed')
  await sleep(500)
  t.ok(await b.leads(), 'a leader that stopped asking (died) is replaced after its term')
  t.notOk(await a.leads(), 'and the old one no longer leads')
  await a.resign()
  t.notOk(await a.leads(), 'resigning a lease one lost leaves the new leader alone')
  await b.resign()
  t.ok(await a.leads(), 'after a resignation another leads at once')
  const other = createFleetLeader(db, 'other-job', 'replica-b', 400)
  t.ok(await other.leads(), 'each named job has its own leader')
})

t.test('onlyOnLeader runs each job on the leader only', async (t) => {
  const runs: string[] = []
  const job = (name: string) => async () => {
    runs.push(name)
  }
  const a = onlyOnLeader(createFleetLeader(db, 'pass', 'replica-a', 5_000), [job('a1'), job('a2')])
  const b = onlyOnLeader(createFleetLeader(db, 'pass', 'replica-b', 5_000), [job('b1'), job('b2')])
  for (const run of [...a, ...b, ...b, ...a]) await run()
  t.same(runs, ['a1', 'a2', 'a1', 'a2'])
})
