import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { createInstanceLeases } from '../../src/replicas/instance-leases.js'
import { createTestDatabase } from '../helpers/database.js'

const database = await createTestDatabase(t)
const { db } = database
await db.insert(instanceInfra).values({ instanceId: 'i-1', lifecycle: 'creating', image: 'img' })
const a = createInstanceLeases(db, 'replica-a', 500)
const b = createInstanceLeases(db, 'replica-b', 500)

t.test('one replica at a time; a lapsed lease passes to another', async (t) => {
  t.ok(await a.claim('i-1'), 'a claims the free lease')
  t.ok(await a.claim('i-1'), 'a claiming again keeps it')
  t.notOk(await b.claim('i-1'), 'b cannot while a holds it')
  t.ok(await a.renew('i-1'), 'a renews')
  await sleep(300)
  t.ok(await a.renew('i-1'), 'a renews before the term ends')
  await sleep(300)
  t.notOk(await b.claim('i-1'), 'a renewed lease has not lapsed')

  await sleep(600)
  t.ok(await a.holds('i-1'), 'a lapsed lease nobody took is still a’s')
  t.ok(await b.claim('i-1'), 'b takes the lapsed lease (a died)')
  t.notOk(await a.holds('i-1'), 'a sees it lost the lease (its guard stops the work)')
  t.notOk(await a.renew('i-1'), 'and cannot renew it')
  await a.release('i-1')
  t.ok(await b.holds('i-1'), 'a releasing a lease it lost leaves b’s alone')

  await b.release('i-1')
  t.ok(await a.claim('i-1'), 'a released lease is free at once')
  await a.release('i-1')
})

t.test('claiming leaves updated_at alone (the reaper orders by it)', async (t) => {
  const before = (await db.select().from(instanceInfra))[0]?.updatedAt
  await a.claim('i-1')
  await a.release('i-1')
  t.same((await db.select().from(instanceInfra))[0]?.updatedAt, before)
})

t.test('no lease on an unknown instance', async (t) => {
  t.notOk(await a.claim('nope'))
})
