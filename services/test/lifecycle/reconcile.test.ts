import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { createNumberPoolRepository } from '../../src/db/number-pool-repository.js'
import { instanceInfra, instanceServices, phoneNumberPool } from '../../src/db/schema.js'
import { createToolPlugins, type ToolPlugins } from '../../src/plugins/index.js'
import type { MarkedResource } from '../../src/plugins/tool-plugin.js'
import { POOL_KEY, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import type { TestPostgresHandle } from '../helpers/database.js'
import { type System, startSystem } from '../helpers/system.js'
import { createReadyInstance, fastDeploys } from './instance-fixtures.js'

type Tap = Test
type Report = {
  applied: boolean
  orphans: Array<{
    provider: string
    resourceId: string
    name: string
    outcome: string
    error: string | null
  }>
  vanished: Array<{ instanceId: string; provider: string; resourceId: string; outcome: string }>
  skipped: Array<{ provider: string; reason: string }>
}

const reconcile = async (t: Tap, system: System, payload?: object): Promise<Report> => {
  const response = await request(t, system.app, {
    method: 'POST',
    url: '/admin/reconcile',
    headers: poolAuth(),
    ...(payload ? { payload } : {}),
  })
  t.equal(response.statusCode, 200, response.body)
  return response.json()
}

async function liveRow(
  system: System,
  instanceId: string,
  toolId: 'email' | 'sms' | 'openrouter' | 'crypto',
) {
  const rows = await system.database.db
    .select()
    .from(instanceServices)
    .where(eq(instanceServices.instanceId, instanceId))
  const row = rows.find((r) => r.toolId === toolId && r.status !== 'destroyed')
  if (!row?.resourceId) throw new Error(`${instanceId} has no live ${toolId}`)
  return row
}

/** Plugins on the same provider accounts as the server: what an operator's stray script would use. */
function sidePlugins(system: System): Required<Pick<ToolPlugins, 'openrouter' | 'email' | 'sms' | 'crypto'>> {
  const plugins = createToolPlugins(system.config, {
    numberPool: createNumberPoolRepository(system.database.db),
  })
  const { openrouter, email, sms, crypto } = plugins
  if (!openrouter || !email || !sms || !crypto) throw new Error('every tool is configured with the emulators')
  return { openrouter, email, sms, crypto }
}

const byKey = (report: Report['orphans']) => report.map((o) => `${o.provider} ${o.name}`).sort()

/** A key made at OpenRouter with the management key, outside services; returns its hash. */
async function createKeyNamed(system: System, name: string): Promise<string> {
  const { url, managementKey } = system.emulators.openrouter
  const response = await fetch(`${url}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${managementKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  const body = (await response.json()) as { data: { hash: string } }
  return body.data.hash
}

/** Live resources of every provider, to see what reconcile touched. */
function ledgers(system: System) {
  const { railway, openrouter, agentmail, telnyx, bankr } = system.emulators
  return {
    projects: railway.ledger
      .all<{ id: string; name: string }>('project')
      .map((p) => p.name)
      .sort(),
    keys: openrouter.ledger
      .all<{ name: string }>('key')
      .map((k) => k.name)
      .sort(),
    inboxes: agentmail.ledger
      .all<{ client_id?: string }>('inbox')
      .map((i) => i.client_id ?? '(none)')
      .sort(),
    numbers: telnyx.ledger
      .all<{ customer_reference: string | null }>('number')
      .map((n) => n.customer_reference ?? '(none)')
      .sort(),
    wallets: bankr.ledger
      .all<{ idempotencyKey?: string }>('wallet')
      .map((w) => w.idempotencyKey ?? '(none)')
      .sort(),
  }
}

t.test(
  'orphans and vanished rows: found by a dry run, cleaned by apply, foreign resources never touched',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys })
    const side = sidePlugins(system)
    await createReadyInstance(t, system, 'agent-1', ['email', 'sms', 'crypto'])
    const agent2 = await createReadyInstance(t, system, 'agent-2')

    // Orphans: resources with services' marks that nothing tracks (a crashed script, a lost row).
    await system.railway.createProject('agent-ghost')
    await side.openrouter.create({ instanceId: 'ghost', idempotencyKey: 'ghost:openrouter' })
    // A twin of a tracked key: same mark as agent-1's live row, another key (an answer lost, then retried).
    // (Made at the emulator directly: the plugin's create would first delete every key of that name.)
    const twin = await createKeyNamed(system, 'agent-1:openrouter')
    await side.email.create({ instanceId: 'ghost', idempotencyKey: 'ghost:email' })
    await side.crypto.create({ instanceId: 'ghost', idempotencyKey: 'ghost:crypto' })
    // A number bought for a claimant whose pool row was lost.
    const bought = await side.sms.create({ instanceId: 'ghost', idempotencyKey: 'ghost:sms' })
    await system.database.db.delete(phoneNumberPool).where(eq(phoneNumberPool.claimedBy, 'ghost:sms'))

    // Foreign resources on the same accounts: no services mark, so never listed, never deleted.
    await system.railway.createProject('billing-service')
    await side.openrouter.create({ instanceId: 'x', idempotencyKey: 'analytics team key' })
    await side.email.create({ instanceId: 'x', idempotencyKey: 'support-inbox' })
    await side.crypto.create({ instanceId: 'x', idempotencyKey: 'treasury' })

    // Vanished: agent-1's inbox deleted behind services' back, agent-2's whole project too.
    const inbox = await liveRow(system, 'agent-1', 'email')
    await side.email.deleteOrphan?.({
      resourceId: inbox.resourceId as string,
      config: {},
      idempotencyKey: inbox.idempotencyKey,
    } satisfies MarkedResource)
    await system.railway.deleteProject(agent2.railwayProjectId as string)

    const before = ledgers(system)
    const dry = await reconcile(t, system)
    t.equal(dry.applied, false)
    t.same(
      byKey(dry.orphans),
      [
        'crypto ghost:crypto',
        'email ghost:email',
        'openrouter agent-1:openrouter',
        'openrouter ghost:openrouter',
        'railway agent-ghost',
        'sms ghost:sms',
      ],
      'every orphan, nothing else',
    )
    t.ok(
      dry.orphans.every((o) => o.outcome === 'found' && o.error === null),
      'a dry run deletes nothing',
    )
    t.equal(
      dry.orphans.find((o) => o.provider === 'openrouter' && o.name === 'agent-1:openrouter')?.resourceId,
      twin,
      'the twin, not the tracked key',
    )
    t.equal(dry.orphans.find((o) => o.provider === 'sms')?.resourceId, bought.resourceId)
    t.same(dry.vanished.map((v) => `${v.provider} ${v.instanceId} ${v.outcome}`).sort(), [
      'email agent-1 found',
      'railway agent-2 found',
    ])
    t.same(dry.skipped, [], 'every provider was read')
    t.same(ledgers(system), before, 'nothing changed at any provider')

    const applied = await reconcile(t, system, { apply: true })
    t.equal(applied.applied, true)
    t.same(byKey(applied.orphans), byKey(dry.orphans))
    t.ok(
      applied.orphans.every((o) => o.outcome === 'deleted'),
      JSON.stringify(applied.orphans),
    )
    t.ok(applied.vanished.every((v) => v.outcome === 'marked'))

    const after = ledgers(system)
    t.same(
      after.projects,
      ['agent-agent-1', 'billing-service'],
      'the orphan project deleted; the foreign one kept',
    )
    t.same(after.keys, ['agent-1:openrouter', 'agent-2:openrouter', 'analytics team key'])
    t.equal(system.emulators.openrouter.ledger.all('key').length, 3, 'the twin deleted, the tracked key kept')
    t.same(after.inboxes, ['support-inbox'], 'the orphan inbox deleted (agent-1 lost its own earlier)')
    t.same(after.numbers, ['agent-1:sms'], "the orphan number deleted, agent-1's kept")
    t.same(after.wallets, ['agent-1:crypto', 'treasury'])

    const inboxRow = await system.database.db
      .select()
      .from(instanceServices)
      .where(eq(instanceServices.id, inbox.id))
    t.match(inboxRow[0], { status: 'destroyed', errorCode: 'RESOURCE_VANISHED' }, 'the vanished inbox row')
    const view = await request(t, system.app, {
      method: 'GET',
      url: '/instances/agent-2',
      headers: poolAuth(),
    })
    t.match(
      view.json(),
      { lifecycle: 'ready', error: { code: 'RESOURCE_VANISHED' } },
      'the instance says why; the pool decides',
    )

    const again = await reconcile(t, system, { apply: true })
    t.same(again.orphans, [], 'no orphan is left')
    t.same(
      again.vanished.map((v) => v.instanceId),
      ['agent-2'],
      'the vanished instance stays reported until the pool destroys it',
    )
    const destroyed = await request(t, system.app, {
      method: 'DELETE',
      url: '/destroy/agent-2',
      headers: poolAuth(),
    })
    t.equal(destroyed.statusCode, 200, 'its destroy finds the project gone and releases the rest')
    const last = await reconcile(t, system, { apply: true })
    t.same([last.orphans, last.vanished], [[], []], 'then nothing: converged')
    t.same(
      ledgers(system).keys,
      ['agent-1:openrouter', 'analytics team key'],
      "agent-2's key released by its destroy",
    )
  },
)

t.test('a provider that cannot be read is skipped; the others are still reconciled', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const side = sidePlugins(system)
  await side.email.create({ instanceId: 'ghost', idempotencyKey: 'ghost:email' })
  system.emulators.bankr.faults.add({ operation: 'listWallets', errorRate: 1, errorStatus: 401 })
  const report = await reconcile(t, system, { apply: true })
  t.match(report.skipped, [{ provider: 'crypto', reason: /could not be listed \(PROVIDER_UNAUTHORIZED\)/ }])
  t.same(byKey(report.orphans), ['email ghost:email'])
  t.equal(report.orphans[0]?.outcome, 'deleted')
})

t.test('rows still being provisioned own their mark: their resource is not an orphan', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const side = sidePlugins(system)
  await createReadyInstance(t, system, 'agent-1')
  // The state right after a crash between "row written" and "resource recorded".
  await system.database.db.insert(instanceServices).values({
    instanceId: 'agent-1',
    toolId: 'email',
    mode: 'pool',
    status: 'provisioning',
    idempotencyKey: 'agent-1:email',
  })
  await side.email.create({ instanceId: 'agent-1', idempotencyKey: 'agent-1:email' })
  const report = await reconcile(t, system, { apply: true })
  t.same(report.orphans, [], 'the inbox is left for the provision (or the reaper) to adopt')
  t.equal(system.emulators.agentmail.ledger.all('inbox').length, 1)
})

t.test('npm run reconcile: the same report from a shell, dry by default', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await system.railway.createProject('agent-ghost')
  const env = { ...process.env, ...cliEnv(system) }
  const run = promisify(execFile)
  const dry = await run('npx', ['tsx', 'services/src/lifecycle/reconcile-cli.ts'], { env })
  const report = JSON.parse(dry.stdout) as Report
  t.same(byKey(report.orphans), ['railway agent-ghost'])
  t.ok(
    system.emulators.railway.ledger.all<{ name: string }>('project').some((p) => p.name === 'agent-ghost'),
    'still there',
  )
  const applied = JSON.parse(
    (await run('npx', ['tsx', 'services/src/lifecycle/reconcile-cli.ts', '--apply'], { env })).stdout,
  ) as Report
  t.equal(applied.orphans[0]?.outcome, 'deleted')
  t.notOk(
    system.emulators.railway.ledger.all<{ name: string }>('project').some((p) => p.name === 'agent-ghost'),
    'deleted',
  )
})

/** The server's environment for the CLI: the same database and provider accounts as the test's app. */
function cliEnv(system: System): Record<string, string> {
  const { url } = system.database as TestPostgresHandle
  return {
    ...system.emulators.env,
    DATABASE_URL: url,
    SERVICES_API_KEY: POOL_KEY,
    SERVICES_ENCRYPTION_KEY: `test:${Buffer.alloc(32, 7).toString('base64')}`,
    LOG_LEVEL: 'silent',
  }
}
