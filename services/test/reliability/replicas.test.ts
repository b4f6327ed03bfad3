import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { POOL_KEY } from '../helpers/build.js'
import { queryRows } from '../helpers/database.js'
import { startProcessWorld } from '../helpers/process-world.js'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'

/**
 * Three replicas (server processes) on one Postgres with REPLICA_COORDINATION=postgres: `REPLICA_CREATIONS`
 * creations are spread over them, and one replica is SIGKILLed while it holds work. The others take its
 * work over once its leases lapse. Then every instance is ready and made exactly once, every ledger
 * matches the database (no orphans), and the Railway emulator never saw more than 50 requests in a
 * second or more than 8 creations at once.
 *
 * Then a replica stopped with SIGTERM mid-creation hands its work over at once (it releases its leases),
 * and the last one finishes it.
 *
 * make test: 100 creations (about 30 s here); REPLICA_CREATIONS changes it.
 */
const CREATIONS = Number(process.env.REPLICA_CREATIONS ?? 100)
t.setTimeout(300_000)

const { emulators, database, env, audit } = await startProcessWorld(t, {
  deployStepMs: 40,
  env: {
    REPLICA_COORDINATION: 'postgres',
    REPLICA_LEASE_MS: '2000',
    REAPER_INTERVAL_MS: '250',
    CREATE_WAIT_MS: '0',
  },
})

const replicas: ServerProcess[] = []
t.teardown(() => Promise.all(replicas.map((replica) => replica.kill())))

/** Asks `replica` for a creation; false when the request failed (the replica is dead). */
const create = (replica: ServerProcess, instanceId: string) =>
  fetch(`${replica.url}/create-instance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${POOL_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ instanceId }),
  }).then(
    async (answer) => {
      await answer.body?.cancel()
      return answer.status === 202 || answer.status === 201
    },
    () => false,
  )

const rows = () => database.db.select().from(instanceInfra)

t.test(`${CREATIONS} creations over three replicas, one SIGKILLed mid-run`, async (t) => {
  replicas.push(...(await Promise.all([0, 1, 2].map(() => startServerProcess(env)))))
  const [victim, ...survivors] = replicas as [ServerProcess, ServerProcess, ServerProcess]
  const started = Date.now()
  const ids = Array.from({ length: CREATIONS }, (_, i) => `replica-${i}`)
  const asked = ids.map((id, i) => create(replicas[i % 3] as ServerProcess, id))

  // Kill the victim while it holds work: once a quarter of the instances are ready.
  while ((await rows()).filter((row) => row.lifecycle === 'ready').length < CREATIONS / 4) await sleep(50)
  const held = await queryRows<{ leases: number; slots: number }>(
    database,
    sql`select (select count(*) from instance_infra where lease_owner like ${`%/${victim.child.pid}/%`})::int as leases,
               (select count(*) from railway_creation_slots where owner like ${`%/${victim.child.pid}/%`}
                  and instance_id is not null)::int as slots`,
  )
  await victim.kill()
  const killedAt = Date.now() - started
  t.ok((held[0]?.leases ?? 0) > 0, `the victim was killed holding ${held[0]?.leases} leases`)

  // A pool would retry what the dead replica did not answer, on another replica.
  const answered = await Promise.all(asked)
  const retried = ids.filter((_, i) => !answered[i])
  for (const [i, id] of retried.entries()) {
    t.ok(await create(survivors[i % 2] as ServerProcess, id), `${id} asked again`)
  }

  const settled = async () => {
    const all = await rows()
    return (
      all.length === CREATIONS && all.every((row) => row.lifecycle === 'ready' || row.lifecycle === 'failed')
    )
  }
  while (Date.now() - started < 180_000 && !(await settled())) await sleep(250)
  const seconds = (Date.now() - started) / 1000
  const all = await rows()
  const stats = emulators.railway.stats()
  t.comment(
    `killed at ${(killedAt / 1000).toFixed(1)} s holding ${held[0]?.leases} leases and ${held[0]?.slots} creation slots; ` +
      `${retried.length} creations asked again; all settled in ${seconds.toFixed(1)} s; Railway saw ${stats.requests} requests, ` +
      `peak ${stats.peakPerSecond}/s, peak ${stats.peakConcurrentCreations} concurrent creations, ${stats.rateLimited} × 429`,
  )
  t.same(
    all.filter((row) => row.lifecycle !== 'ready').map((row) => `${row.instanceId}: ${row.lifecycle}`),
    [],
    'every instance is ready',
  )
  t.equal(
    emulators.railway.ledger.snapshot().created.project,
    CREATIONS,
    'each made exactly once: one project each',
  )
  t.equal(emulators.openrouter.ledger.snapshot().created.key, CREATIONS, 'and one OpenRouter key each')
  t.same(await audit(), [], 'every ledger matches the database')
  t.same(
    all.filter((row) => row.leaseOwner !== null).map((row) => row.instanceId),
    [],
    'no lease is left held',
  )
  t.ok(
    stats.peakPerSecond <= 50,
    `Railway never saw more than 50 requests in a second (peak ${stats.peakPerSecond})`,
  )
  t.ok(
    stats.peakConcurrentCreations <= 8,
    `nor more than 8 creations at once (peak ${stats.peakConcurrentCreations})`,
  )
  t.equal(stats.rateLimited, 0, 'and answered no 429')
})

t.test('a replica stopped with SIGTERM mid-creation: the last one finishes its work', async (t) => {
  const [, stopping, last] = replicas as [ServerProcess, ServerProcess, ServerProcess]
  const before = (await rows()).length
  const ids = Array.from({ length: 20 }, (_, i) => `handoff-${i}`)
  t.same(
    await Promise.all(ids.map((id) => create(stopping, id))),
    ids.map(() => true),
    'the stopping replica accepted them all',
  )
  const pattern = `%/${stopping.child.pid}/%`
  const leased = await queryRows<{ n: number }>(
    database,
    sql`select count(*)::int as n from instance_infra where lease_owner like ${pattern}`,
  )
  const exited = once(stopping.child, 'exit')
  const sentAt = Date.now()
  stopping.child.kill('SIGTERM')
  const [code, signal] = await exited
  const stopMs = Date.now() - sentAt
  t.ok((leased[0]?.n ?? 0) > 0, `SIGTERM while it held ${leased[0]?.n} leases`)
  t.ok(stopMs < 10_000, `it stopped within its grace (${stopMs} ms, ${code ?? signal})`)
  const handedOver = await queryRows<{ n: number }>(
    database,
    sql`select count(*)::int as n from instance_infra where lease_owner like ${pattern}`,
  )
  t.equal(handedOver[0]?.n, 0, 'and released every lease on the way out')

  const started = Date.now()
  const done = async () => (await rows()).every((row) => row.lifecycle === 'ready')
  while (Date.now() - started < 60_000 && !(await done())) await sleep(250)
  const all = await rows()
  t.equal(all.length, before + ids.length)
  t.same(
    all.filter((row) => row.lifecycle !== 'ready').map((row) => `${row.instanceId}: ${row.lifecycle}`),
    [],
    `the last replica finished them (${((Date.now() - started) / 1000).toFixed(1)} s after the stop)`,
  )
  t.equal(emulators.railway.ledger.snapshot().created.project, all.length, 'each made exactly once')
  t.same(await audit(), [], 'every ledger matches the database')
  const stats = emulators.railway.stats()
  t.ok(stats.peakPerSecond <= 50 && stats.peakConcurrentCreations <= 8, 'still within the Railway budget')
  t.ok(last.child.exitCode === null, 'the last replica is still up')
})
