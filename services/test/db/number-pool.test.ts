import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { createNumberPoolRepository, type PoolNumber } from '../../src/db/number-pool-repository.js'
import type { DatabaseHandle } from '../../src/db/open-database.js'
import { phoneNumberPool } from '../../src/db/schema.js'
import { createTestDatabase, createTestPglite, rejectionCode } from '../helpers/database.js'

const number = (n: number): PoolNumber => ({
  phoneNumber: `+1312555${String(n).padStart(4, '0')}`,
  telnyxNumberId: String(1_293_384_261_075_731_000 + n),
  messagingProfileId: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
})

/** Puts numbers in the pool with distinct, increasing release times (oldest first). */
async function seedIdle(handle: DatabaseHandle, numbers: PoolNumber[]) {
  const base = Date.now() - 60 * 60_000
  await handle.db
    .insert(phoneNumberPool)
    .values(numbers.map((n, i) => ({ ...n, claimedBy: null, releasedAt: new Date(base + i * 1000) })))
}

async function behaviour(t: Test, handle: DatabaseHandle) {
  const pool = createNumberPoolRepository(handle.db)

  await t.test('an empty pool has nothing to take', async (t) => {
    t.equal(await pool.take('inst-a:sms'), undefined)
    t.equal(await pool.claimedBy('inst-a:sms'), undefined)
  })

  await t.test('take claims the longest-idle number, once', async (t) => {
    await seedIdle(handle, [number(1), number(2)])
    const taken = await pool.take('inst-a:sms')
    t.match(taken, { ...number(1), claimedBy: 'inst-a:sms', releasedAt: null })
    t.same(await pool.claimedBy('inst-a:sms'), taken, 'the claimant finds its number again')
    const next = await pool.take('inst-b:sms')
    t.equal(next?.phoneNumber, number(2).phoneNumber, 'the next take gets the next number')
    t.equal(await pool.take('inst-c:sms'), undefined, 'then the pool is empty')
  })

  await t.test('a claimant cannot hold two numbers', async (t) => {
    await pool.put(number(3))
    t.equal(await rejectionCode(pool.take('inst-a:sms')), '23505', 'unique claimed_by')
    t.equal((await pool.get(number(3).phoneNumber))?.claimedBy, null, 'the number stays idle')
  })

  await t.test('release returns a number only for the claimant that holds it', async (t) => {
    t.notOk(await pool.release(number(1).phoneNumber, 'inst-b:sms'), 'not the holder')
    t.ok(await pool.release(number(1).phoneNumber, 'inst-a:sms'), 'the holder')
    t.notOk(await pool.release(number(1).phoneNumber, 'inst-a:sms'), 'a second release is a no-op')
    const row = await pool.get(number(1).phoneNumber)
    t.equal(row?.claimedBy, null)
    t.ok(row?.releasedAt instanceof Date, 'released_at set')

    // inst-d takes it; a stale repeat of inst-a's release must not hand it back while inst-d uses it.
    const taken = await pool.take('inst-d:sms', { phoneNumber: number(1).phoneNumber })
    t.equal(taken?.claimedBy, 'inst-d:sms')
    t.notOk(await pool.release(number(1).phoneNumber, 'inst-a:sms'), 'stale release ignored')
    t.equal((await pool.get(number(1).phoneNumber))?.claimedBy, 'inst-d:sms', 'still inst-d’s')
  })

  await t.test('claim records a bought number; idempotent for its claimant only', async (t) => {
    t.ok(await pool.claim(number(4), 'inst-e:sms'))
    t.ok(await pool.claim(number(4), 'inst-e:sms'), 'again for the same claimant')
    t.notOk(await pool.claim(number(4), 'inst-f:sms'), 'not for another claimant')
    t.notOk(await pool.claim(number(3), 'inst-f:sms'), 'not over an idle record')
    t.equal((await pool.get(number(3).phoneNumber))?.claimedBy, null)
    const moved = { ...number(4), messagingProfileId: 'b0c1d2e3-0000-4000-8000-000000000000' }
    t.ok(await pool.claim(moved, 'inst-e:sms'), 'the holder updates its record')
    t.equal((await pool.get(number(4).phoneNumber))?.messagingProfileId, moved.messagingProfileId)
    t.notOk(await pool.claim({ ...moved, messagingProfileId: 'x' }, 'inst-f:sms'))
    t.equal(
      (await pool.get(number(4).phoneNumber))?.messagingProfileId,
      moved.messagingProfileId,
      'unchanged',
    )
  })

  await t.test('put adds an unknown number as idle and never overrides a record', async (t) => {
    t.ok(await pool.put(number(5)))
    t.notOk(await pool.put(number(5)), 'already recorded')
    t.notOk(await pool.put(number(4)), 'held by inst-e: put changes nothing')
    t.equal((await pool.get(number(4).phoneNumber))?.claimedBy, 'inst-e:sms')
  })

  await t.test(
    'expired lists idle numbers older than the cutoff; take can claim exactly those',
    async (t) => {
      const old = new Date(Date.now() - 2 * 60 * 60_000)
      await handle.db.insert(phoneNumberPool).values({ ...number(6), claimedBy: null, releasedAt: old })
      const expired = await pool.expired(60 * 60_000)
      t.same(
        expired.map((row) => row.phoneNumber),
        [number(6).phoneNumber],
        'only the one idle for two hours',
      )
      t.same(
        (await pool.expired(0)).map((row) => row.phoneNumber).sort(),
        [number(3), number(5), number(6)].map((n) => n.phoneNumber).sort(),
        'every idle number with a zero cutoff; held ones never',
      )
      const cutoff = new Date(Date.now() - 60 * 60_000)
      const reserved = await pool.take('release:cleanup', { releasedBefore: cutoff })
      t.equal(reserved?.phoneNumber, number(6).phoneNumber)
      t.equal(await pool.take('release:cleanup-2', { releasedBefore: cutoff }), undefined, 'none left')
    },
  )

  await t.test('claimedWithPrefix finds holders by key prefix, LIKE wildcards taken literally', async (t) => {
    t.same(
      (await pool.claimedWithPrefix('release:')).map((row) => row.phoneNumber),
      [number(6).phoneNumber],
    )
    t.same(await pool.claimedWithPrefix('release_'), [], '_ is not a wildcard')
    t.same(await pool.claimedWithPrefix('%'), [], '% is not a wildcard')
    t.equal((await pool.claimedWithPrefix('inst-')).length, 3, 'inst-d, inst-e and inst-b')
  })

  await t.test('remove forgets a number only while the claimant holds it', async (t) => {
    t.notOk(await pool.remove(number(6).phoneNumber, 'someone-else'))
    t.ok(await pool.remove(number(6).phoneNumber, 'release:cleanup'))
    t.equal(await pool.get(number(6).phoneNumber), undefined)
  })

  await t.test('the table refuses malformed rows', async (t) => {
    const bad = { ...number(7), phoneNumber: '13125550007' }
    t.equal(await rejectionCode(pool.put(bad)), '23514', 'not E.164')
    t.equal(
      await rejectionCode(
        handle.db.insert(phoneNumberPool).values({ ...number(8), claimedBy: null, releasedAt: null }),
      ),
      '23514',
      'neither held nor idle',
    )
    t.equal(
      await rejectionCode(
        handle.db.insert(phoneNumberPool).values({ ...number(9), claimedBy: 'x', releasedAt: new Date() }),
      ),
      '23514',
      'both held and idle',
    )
  })
}

/** Many concurrent takes over real connections: each idle number goes to exactly one claimant. */
async function concurrentTakes(t: Test, handle: DatabaseHandle) {
  const pool = createNumberPoolRepository(handle.db)
  const idle = Array.from({ length: 12 }, (_, i) => number(100 + i))
  await seedIdle(handle, idle)
  const claimants = Array.from({ length: 30 }, (_, i) => `race-${i}:sms`)
  const results = await Promise.all(claimants.map((claimant) => pool.take(claimant)))
  const won = results.filter((row) => row !== undefined)
  t.equal(won.length, idle.length, 'every idle number was taken')
  t.equal(new Set(won.map((row) => row.phoneNumber)).size, idle.length, 'no number was taken twice')
  for (const row of won) {
    t.equal((await pool.get(row.phoneNumber))?.claimedBy, row.claimedBy, `${row.phoneNumber} has one holder`)
  }
}

t.test('number pool on postgres', async (t) => {
  const handle = await createTestDatabase(t)
  await behaviour(t, handle)

  await t.test('concurrent takes never share a number', async (t) => {
    const fresh = await createTestDatabase(t)
    await concurrentTakes(t, fresh)
  })

  await t.test('take skips a row another transaction has locked instead of waiting', async (t) => {
    const fresh = await createTestDatabase(t)
    const pool = createNumberPoolRepository(fresh.db)
    await seedIdle(fresh, [number(200), number(201)])
    let take: ReturnType<typeof pool.take> = Promise.resolve(undefined)
    const outcome = await fresh.db.transaction(async (tx) => {
      await tx.execute(
        sql`select 1 from phone_number_pool where phone_number = ${number(200).phoneNumber} for update`,
      )
      take = pool.take('skipper:sms')
      // With SKIP LOCKED the take answers while the lock is held; without it, it waits for this
      // transaction (given 10 s here) and then returns the locked number, failing both assertions.
      return Promise.race([
        take.then(() => 'answered'),
        new Promise((resolve) => setTimeout(resolve, 10_000, 'waited')),
      ])
    })
    t.equal(outcome, 'answered', 'take did not wait for the lock')
    const taken = await take
    t.equal(taken?.phoneNumber, number(201).phoneNumber, 'it took the unlocked number')
  })
})

t.test('number pool on PGlite', async (t) => {
  const handle = await createTestPglite(t)
  await behaviour(t, handle)
  await t.test('concurrent takes never share a number', async (t) => {
    const fresh = await createTestPglite(t)
    await concurrentTakes(t, fresh)
  })
})
