import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import t from 'tap'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import { POOL_KEY } from '../helpers/build.js'
import { startProcessWorld } from '../helpers/process-world.js'
import { SECRET_VARIABLES } from '../helpers/secret-variables.js'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'

/**
 * Kills at random moments, the long form of kill-recovery.test.ts (which kills at every step boundary,
 * one operation at a time): each round starts the server, asks for `KILL_CREATIONS` creations and destroys
 * the instances the last round made ready, all at once, and SIGKILLs the process after a random 0.2-1.5 s.
 * After `KILL_ROUNDS` rounds a last start lets everything settle; then every provider ledger must match the
 * database exactly, and after destroying everything, nothing may be left anywhere.
 *
 * make test: 2 rounds × 12; `npm run test:kill` runs 5 rounds × 50.
 */
const ROUNDS = Number(process.env.KILL_ROUNDS ?? 2)
const CREATIONS = Number(process.env.KILL_CREATIONS ?? 12)
t.setTimeout(600_000)

const { emulators, database, env, audit } = await startProcessWorld(t, {
  deployStepMs: 40,
  withEmail: true,
  env: { REAPER_INTERVAL_MS: '250', PROVISION_RESUME_AFTER_MS: '1000', CREATE_WAIT_MS: '0' },
})

let server: ServerProcess | undefined
/** Every secret variable the agents were given, and each server process's output (its last 64 KiB). */
const secrets = new Set<string>()
const logs: string[] = []
async function collectSecrets() {
  for (const row of await database.db.select().from(instanceInfra)) {
    const env = row.railwayServiceId ? emulators.railway.runtimeOf(row.railwayServiceId)?.env : undefined
    for (const name of SECRET_VARIABLES) if (env?.[name]) secrets.add(env[name])
  }
}
t.teardown(() => server?.kill())

const send = (method: string, path: string, body?: object) =>
  fetch(`${server?.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${POOL_KEY}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    // Requests cut by the kill fail; that is the point.
  }).catch(() => undefined)

const rows = () => database.db.select().from(instanceInfra)
const busy = (lifecycle: string) => lifecycle === 'creating' || lifecycle === 'destroying'

t.test(
  `${ROUNDS} rounds of ${CREATIONS} creations, destroys and provisions, SIGKILLed at random`,
  async (t) => {
    let kills = 0
    let destroysAsked = 0
    let provisionsAsked = 0
    for (let round = 1; round <= ROUNDS; round++) {
      server = await startServerProcess(env)
      // The restarted server resumes the last round's creations first, so this round has ready ones to hit.
      const resumed = Date.now()
      while (Date.now() - resumed < 30_000 && (await rows()).some((row) => row.lifecycle === 'creating'))
        await sleep(100)
      const ready = (await rows()).filter((row) => row.lifecycle === 'ready').map((row) => row.instanceId)
      // Half of what is ready is destroyed, the other half gets an inbox, both cut by the kill.
      const toDestroy = ready.filter((_, i) => i % 2 === 0)
      const toEquip = ready.filter((_, i) => i % 2 === 1)
      const asked = [
        ...toEquip.map((id) => send('POST', `/provision/${id}/email`, { mode: 'pool' })),
        ...Array.from({ length: CREATIONS }, (_, i) =>
          send('POST', '/create-instance', { instanceId: `storm-${round}-${i}` }),
        ),
        ...toDestroy.map((id) => send('DELETE', `/destroy/${id}`)),
      ]
      await sleep(200 + Math.random() * 1_300)
      await collectSecrets()
      await server.kill()
      logs.push(server.output())
      kills++
      destroysAsked += toDestroy.length
      provisionsAsked += toEquip.length
      await Promise.all(asked)
    }

    server = await startServerProcess(env)
    const started = Date.now()
    const provisioning = async () =>
      (await database.db.select().from(instanceServices)).some((row) => row.status === 'provisioning')
    while (
      Date.now() - started < 120_000 &&
      ((await rows()).some((row) => busy(row.lifecycle)) || (await provisioning()))
    )
      await sleep(250)
    // The reaper may still be releasing what a failed creation held: give it a few passes.
    await sleep(1_500)
    const settled = await rows()
    const counts = new Map<string, number>()
    for (const row of settled) counts.set(row.lifecycle, (counts.get(row.lifecycle) ?? 0) + 1)
    const byState = [...counts]
    t.comment(
      `${kills} kills, ${destroysAsked} destroys and ${provisionsAsked} provisions asked; ${settled.length} instances: ${byState.map(([s, n]) => `${n} ${s}`).join(', ')}`,
    )
    t.same(
      settled.filter((row) => busy(row.lifecycle)).map((row) => row.instanceId),
      [],
      'nothing left unfinished',
    )
    t.same(await audit(), [], 'every ledger matches the database')

    await collectSecrets()
    const dump = (
      await promisify(execFile)('pg_dump', ['--data-only', database.url], { maxBuffer: 256 << 20 })
    ).stdout
    const output = [...logs, server.output()].join('\n')
    const leaked = [...secrets].filter((secret) => dump.includes(secret) || output.includes(secret))
    t.comment(
      `${secrets.size} secrets searched in a ${dump.length}-byte dump and ${output.length} bytes of logs`,
    )
    t.ok(secrets.size > 0, 'secrets were collected from the running agents')
    t.equal(leaked.length, 0, 'none in plaintext in the database dump or the server output')

    for (const row of settled)
      if (row.lifecycle !== 'destroyed') await send('DELETE', `/destroy/${row.instanceId}`)
    const drained = Date.now()
    while (Date.now() - drained < 60_000 && (await rows()).some((row) => row.lifecycle !== 'destroyed'))
      await sleep(250)
    t.same(await audit(), [], 'after destroying everything, still consistent')
    t.equal(emulators.railway.ledger.all('project').length, 0, 'no project left')
    t.equal(emulators.openrouter.ledger.all('key').length, 0, 'no key left')
    t.equal(emulators.agentmail.ledger.all('inbox').length, 0, 'no inbox left')
    const made = emulators.railway.ledger.snapshot().created.project ?? 0
    t.ok(
      made <= settled.length,
      `no instance got two projects (${made} made for ${settled.length} instances)`,
    )
  },
)
