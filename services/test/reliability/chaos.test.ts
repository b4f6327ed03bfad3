import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { eq } from 'drizzle-orm'
import t from 'tap'
import type { FaultRule } from '../../../emulators/src/kit/faults.js'
import { createPool, type Pool } from '../../../examples/pool/src/pool.js'
import { createServicesClient } from '../../../pool-client/src/index.js'
import { instanceInfra, instanceSteps } from '../../src/db/schema.js'
import { POOL_KEY, poolAuth } from '../helpers/build.js'
import type { TestPostgresHandle } from '../helpers/database.js'
import { SECRET_VARIABLES } from '../helpers/secret-variables.js'
import { type System, startSystem } from '../helpers/system.js'

/**
 * Chaos: every provider emulator fails 20% of requests with a 5xx, leaves 5% unanswered (until the
 * client's timeout), resets 3% of connections, and Railway throws a 429 storm now and then, while the
 * reference pool runs its tick loop with churn (claims with an inbox, releases). Then the faults stop:
 * everything converges, the pool releases all it has, and no provider holds anything any more, no
 * instance ever got two projects, and the process never crashed.
 *
 * `CHAOS_SECONDS` sets the chaotic phase (default 15 in `make test`; `npm run test:chaos` runs 180).
 */
const CHAOS_MS = Number(process.env.CHAOS_SECONDS ?? 15) * 1_000
const MIN_IDLE = 4
const TICK_MS = 300

const CHAOS: FaultRule[] = [{ errorRate: 0.2, errorStatus: 503 }, { hangRate: 0.05 }, { resetRate: 0.03 }]

function everyEmulator(system: System) {
  const { railway, openrouter, agentmail, telnyx, bankr } = system.emulators
  return [railway, openrouter, agentmail, telnyx, bankr]
}

/** Every secret variable the running agents hold now (their environment as services gave it). */
async function collectSecrets(system: System, into: Set<string>) {
  for (const row of await system.database.db.select().from(instanceInfra)) {
    const env = row.railwayServiceId
      ? system.emulators.railway.runtimeOf(row.railwayServiceId)?.env
      : undefined
    for (const name of SECRET_VARIABLES) if (env?.[name]) into.add(env[name])
  }
}

/** Live resources at every provider (Telnyx numbers idle in services' pool are services' own stock). */
function liveResources(system: System) {
  const { railway, openrouter, agentmail, bankr } = system.emulators
  return {
    projects: railway.ledger.all('project').length,
    services: railway.ledger.all('service').length,
    volumes: railway.ledger.all('volume').length,
    keys: openrouter.ledger.all('key').length,
    inboxes: agentmail.ledger.all('inbox').length,
    wallets: bankr.ledger.all('wallet').length,
  }
}

t.test(
  'chaos at every provider while the pool churns: converges, nothing leaks, nothing doubled',
  async (t) => {
    const logLines: string[] = []
    const secrets = new Set<string>()
    const system = await startSystem(t, {
      logStream: { write: (line) => logLines.push(line) },
      emulators: { railway: { deploy: { stepMs: 20 }, runtime: { warmupMs: 0 } } },
      env: {
        LOG_LEVEL: 'debug',
        PROVIDER_TIMEOUT_MS: '500',
        HEALTH_TIMEOUT_MS: '300',
        CREATE_WAIT_MS: '0',
        DEPLOY_TIMEOUT_MS: '20000',
        CONFIGURE_WAIT_MS: '2000',
        REAPER_INTERVAL_MS: '500',
      },
      railway: { transport: { requestTimeoutMs: 500 } },
    })
    const baseUrl = await system.app.listen({ host: '127.0.0.1', port: 0 })
    system.app.lifecycle?.startReaper(system.app.periodicJobs)
    const client = createServicesClient({ baseUrl, apiKey: POOL_KEY }, { timeoutMs: 10_000 })
    const pool: Pool = createPool({
      client,
      minIdle: MIN_IDLE,
      unreachableTicks: 5,
      creatingDeadlineMs: 25_000,
    })

    for (const emulator of everyEmulator(system)) emulator.faults.set(CHAOS)
    const rss: number[] = []
    const tally = { ticks: 0, claims: 0, claimFailures: 0, releases: 0, tickErrors: 0, storms: 0 }
    const started = Date.now()
    while (Date.now() - started < CHAOS_MS) {
      const report = await pool.tick()
      tally.ticks++
      tally.tickErrors += report.errors.length
      const claimed = pool.instances().filter((i) => i.state === 'claimed')
      if (Math.random() < 0.3) {
        await pool
          .claim({
            agentName: 'Chaos',
            instructions: 'Stay calm.',
            tools: [{ toolId: 'email', mode: 'pool' }],
          })
          .then(
            () => tally.claims++,
            () => tally.claimFailures++,
          )
      }
      if (claimed.length > 1) {
        await pool.release(claimed[0]?.instanceId as string).then(
          () => tally.releases++,
          () => {},
        )
      }
      if (tally.ticks % 10 === 5) {
        // A 429 storm on Railway for about a second: every Railway caller must pause and resume.
        tally.storms++
        system.emulators.railway.faults.add({ rateLimitStorm: { retryAfterSeconds: 1 }, times: 20 })
      }
      rss.push(process.memoryUsage().rss)
      await collectSecrets(system, secrets)
      await sleep(TICK_MS)
    }

    for (const emulator of everyEmulator(system)) emulator.faults.clear()
    // Calm: the pool settles, then gives everything back; the reaper finishes what the chaos left.
    for (let i = 0; i < 40; i++) {
      await pool.tick()
      if (pool.instances().filter((x) => x.state === 'ready').length >= MIN_IDLE) break
      await sleep(TICK_MS)
    }
    const readyAfterCalm = pool.instances().filter((x) => x.state === 'ready').length
    for (const instance of pool.instances()) await pool.release(instance.instanceId).catch(() => {})
    const unfinished = async () =>
      (await system.database.db.select().from(instanceInfra)).filter(
        (row) => row.lifecycle !== 'destroyed' && row.lifecycle !== 'failed',
      )
    for (let i = 0; i < 100 && (await unfinished()).length > 0; i++) {
      await system.app.lifecycle?.reap()
      await sleep(100)
    }
    // Failed creations were undone by the engine; destroy them too, as the pool would, to end with nothing.
    for (const row of await system.database.db.select().from(instanceInfra)) {
      if (row.lifecycle === 'failed') {
        await system.app.inject({ method: 'DELETE', url: `/destroy/${row.instanceId}`, headers: poolAuth() })
      }
    }
    for (let i = 0; i < 50; i++) {
      await system.app.lifecycle?.reap()
      const rows = await system.database.db.select().from(instanceInfra)
      if (
        rows.every((row) => row.lifecycle === 'destroyed') &&
        Object.values(liveResources(system)).every((n) => n === 0)
      )
        break
      await sleep(100)
    }

    const rows = await system.database.db.select().from(instanceInfra)
    const projectSteps = await system.database.db
      .select()
      .from(instanceSteps)
      .where(eq(instanceSteps.name, 'project'))
    const createdProjects = system.emulators.railway.ledger.snapshot().created.project ?? 0
    const instancesWithProject = new Set(projectSteps.map((step) => step.instanceId)).size
    const requests = everyEmulator(system).reduce((n, emulator) => n + emulator.ledger.requests().length, 0)
    const growth = (Math.max(...rss.slice(-5)) / Math.max(...rss.slice(0, 5)) - 1) * 100
    t.comment(
      `chaos ${CHAOS_MS / 1000} s: ${tally.ticks} ticks, ${rows.length} instances, ${tally.claims} claims ` +
        `(${tally.claimFailures} failed), ${tally.releases} releases, ${tally.storms} 429 storms, ` +
        `${requests} provider requests, ${readyAfterCalm} ready after the calm; RSS ${(rss[0] ?? 0) >> 20} → ` +
        `${(rss.at(-1) ?? 0) >> 20} MiB (${growth.toFixed(0)}%)`,
    )
    t.ok(rows.length > MIN_IDLE, `the pool kept asking for instances (${rows.length})`)
    t.same(
      rows.filter((row) => row.lifecycle !== 'destroyed').map((row) => `${row.instanceId}=${row.lifecycle}`),
      [],
      'every instance ended destroyed',
    )
    t.same(
      liveResources(system),
      { projects: 0, services: 0, volumes: 0, keys: 0, inboxes: 0, wallets: 0 },
      'no provider holds anything',
    )
    t.equal(createdProjects, instancesWithProject, `no instance got two projects (${createdProjects} made)`)
    t.ok(readyAfterCalm >= MIN_IDLE, 'once the faults stopped, the pool got its idle instances')
    const dump = (
      await promisify(execFile)('pg_dump', ['--data-only', (system.database as TestPostgresHandle).url], {
        maxBuffer: 64 << 20,
      })
    ).stdout
    const logs = logLines.join('')
    const leaked = [...secrets].filter((secret) => dump.includes(secret) || logs.includes(secret))
    t.comment(
      `${secrets.size} secrets issued during the run searched in a ${dump.length}-byte dump and ${logLines.length} log lines`,
    )
    t.ok(secrets.size > 0, 'secrets were collected from the running agents')
    t.equal(leaked.length, 0, 'no secret in plaintext in the database dump or the logs')
    const reconciled = await system.app.inject({
      method: 'POST',
      url: '/admin/reconcile',
      headers: poolAuth(),
    })
    t.same(reconciled.json().orphans, [], 'the reconciler finds no orphan')
  },
)
