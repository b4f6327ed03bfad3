import { setTimeout as sleep } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type InstanceStep, instanceSteps, type Operation } from '../../src/db/schema.js'
import { POOL_KEY } from '../helpers/build.js'
import { holdRequest, installDatabaseHolds, until } from '../helpers/kill-points.js'
import { startProcessWorld } from '../helpers/process-world.js'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'
import { AT_REQUEST, applies, MOMENTS, type Moment, type StepPlan, stepPlans } from './kill-plans.js'

// The kill test. services runs as a child process and is SIGKILLed at every step boundary of a creation
// and of a destroy (kill-plans.ts), then restarted on the same database; after every recovery each
// provider's ledger must match the database exactly. About 35 kills, each restart ~2 s of process start.
t.setTimeout(300_000)

// Longer than a restart plus the resume's look-up: work that lands this late was not there to be found.
const LATE_MS = 6_000

// Deployments take 4 × 60 ms, so the deploy step always waits one health poll (1 s) and can be caught.
const { emulators, database, env, audit } = await startProcessWorld(t, {
  deployStepMs: 60,
  env: { REAPER_INTERVAL_MS: '250' },
})
const plans = stepPlans(emulators)
const holds = await installDatabaseHolds(database)

let server: ServerProcess | undefined
const running = async () => {
  server ??= await startServerProcess(env)
  return server
}
t.teardown(() => server?.kill())

async function api(method: string, path: string, body?: object, headers: Record<string, string> = {}) {
  const { url } = await running()
  return fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${POOL_KEY}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
}

const stepsOf = async (id: string, operation: Operation) =>
  (await database.db.select().from(instanceSteps).where(eq(instanceSteps.instanceId, id)))
    .filter((row) => row.operation === operation)
    .sort((a, b) => a.position - b.position)

/** The instance's lifecycle once settled: ready, destroyed, or failed with everything released. */
async function settled(id: string): Promise<string> {
  const view = async () =>
    (await (await api('GET', `/instances/${id}`)).json()) as { lifecycle: string; steps: { state: string }[] }
  try {
    return await until(
      `${id} to settle`,
      async () => {
        const { lifecycle, steps } = await view()
        if (lifecycle === 'ready' || lifecycle === 'destroyed') return lifecycle
        const undoing = steps.some((step) => step.state === 'running' || step.state === 'pending')
        return lifecycle === 'failed' && !undoing ? lifecycle : undefined
      },
      30_000,
    )
  } catch {
    return `STUCK ${(await view()).lifecycle}`
  }
}

const createdAtProviders = (): Record<string, number> => ({
  ...emulators.railway.ledger.snapshot().created,
  ...emulators.openrouter.ledger.snapshot().created,
})
/** Instances made ready by the creation scenarios, destroyed by the destroy scenarios. */
const readyPool: string[] = []
/** Disagreements seen so far: a scenario answers only for the ones it adds. */
let known = new Set<string>()
const cells = new Map<string, string>()
const footnotes: string[] = []

/** The kill landed where the scenario meant it to: these states are what the restarted server finds. */
function checkKillPoint(
  t: Test,
  { step, request }: StepPlan,
  moment: Moment,
  steps: InstanceStep[],
  landed: boolean | undefined,
) {
  const stateOf = (name: string) => steps.find((s) => s.name === name)?.state
  if (moment === 'after done') {
    t.equal(stateOf(step), 'done', `killed with ${step} done`)
    t.ok(
      steps.every((s) => s.state === 'done' || s.state === 'pending'),
      'and the next step not begun',
    )
  } else t.equal(stateOf(step), 'running', `killed with ${step} running`)
  if (moment === 'request lost') t.notOk(landed, 'the provider never did the work')
  if (moment === 'answered, unrecorded' && request) t.ok(landed, 'the provider had answered')
  if (moment === 'in flight' || moment === 'lands late') t.notOk(landed, 'not done yet at the kill')
}

async function scenario(t: Test, plan: StepPlan, moment: Moment) {
  const { operation, step } = plan
  const self = `${operation}/${step}`
  let id = `${operation[0]}-${step}-${moment}`.replace(/[^A-Za-z0-9-]+/g, '-')
  const reused = operation === 'destroy' ? readyPool.shift() : undefined
  if (reused) id = reused
  else if (operation === 'destroy') {
    t.equal((await api('POST', '/create-instance', { instanceId: id })).status, 201, 'an instance to destroy')
  }
  const before = createdAtProviders()
  const request =
    plan.request && AT_REQUEST.has(moment)
      ? holdRequest(
          plan.request.faults,
          plan.request.name,
          moment === 'request lost' ? 'request lost' : 'in flight',
          moment === 'lands late' ? LATE_MS : undefined,
        )
      : undefined
  try {
    if (moment === 'answered, unrecorded') await holds.arm(id, [plan.recorded])
    if (moment === 'after done') await holds.arm(id, [`${operation}/%:running`, 'instance:%'], self)

    if (operation === 'create') {
      const accepted = await api('POST', '/create-instance', { instanceId: id }, { prefer: 'respond-async' })
      t.equal(accepted.status, 202, 'the creation is accepted')
    } else {
      // Its answer never comes: the server dies first (a server that cannot start still fails here).
      await running()
      void api('DELETE', `/destroy/${id}`).catch(() => undefined)
    }
    if (request) await until(`the ${plan.request?.name} request to arrive`, request.arrived)
    else if (moment === 'waiting for runtime') {
      await until('the deploy step to run', async () =>
        (await stepsOf(id, 'create')).some((s) => s.name === 'deploy' && s.state === 'running'),
      )
    } else await holds.held()
    const killedAt = Date.now()

    await server?.kill()
    server = undefined
    // Where the kill landed, as the database (committed) and the provider saw it.
    const atKill = await stepsOf(id, operation)
    const landedAtKill = plan.request?.landed(id)
    await holds.release()
    checkKillPoint(t, plan, moment, atKill, landedAtKill)
    if (moment === 'in flight') await until('the work to land', () => plan.request?.landed(id))
    request?.clear()

    const restartedAt = Date.now()
    await running()
    if (moment === 'lands late' && Date.now() > killedAt + LATE_MS) {
      t.comment(`the restart took longer than ${LATE_MS} ms: the work landed before the resume looked`)
    }
    let outcome = await settled(id)
    const seconds = ((Date.now() - restartedAt) / 1000).toFixed(1)
    if (moment === 'lands late') {
      // Lands after the resume looked for it: a twin nobody recorded (a provider without idempotency
      // cannot prevent it). While the instance lives the twin is reported; its destroy must release it.
      await sleep(Math.max(0, killedAt + LATE_MS + 300 - Date.now()))
      const live = (await audit()).filter((problem) => !known.has(problem))
      if (live.length > 0) footnotes.push(`${self} lands late, while ready: ${live.join('; ')}`)
      t.equal(outcome, 'ready', 'the creation finished after the restart')
      await api('DELETE', `/destroy/${id}`)
      outcome = `${outcome}${live.length > 0 ? '*' : ''}→${await settled(id)}`
    }

    const problems = await audit()
    const fresh = problems.filter((problem) => !known.has(problem))
    known = new Set(problems)
    t.same(fresh, [], 'every provider ledger matches the database')
    const wanted =
      operation === 'destroy' ? /^destroyed$/ : moment === 'lands late' ? /^ready\*?→destroyed$/ : /^ready$/
    t.match(outcome, wanted, `the ${operation} finished after the restart`)
    const attempts = (await stepsOf(id, operation)).find((s) => s.name === step)?.attempts
    t.equal(attempts, moment === 'after done' ? 1 : 2, 'the step ran again only if it may not have finished')

    // Made at a provider during the scenario beyond what a creation keeps (one of each): the price of a
    // resume that could not adopt. The audit proves the extra ones were released.
    const redone = Object.entries(createdAtProviders())
      .map(([kind, count]) => [kind, count - (before[kind] ?? 0)] as const)
      .filter(([kind, count]) => kind !== 'deployment' && count > (operation === 'create' ? 1 : 0))
      .map(([kind, count]) => ` ${kind}×${count}`)
    const verdict = fresh.length === 0 ? '✓' : `✗${fresh.length}`
    cells.set(`${self} ${moment}`, `${outcome} ${verdict} ${seconds}s${redone.join('')}`)
    if (outcome === 'ready') readyPool.push(id)
  } finally {
    request?.clear()
    await holds.release()
  }
}

for (const plan of plans) {
  for (const moment of MOMENTS.filter((m) => applies(plan, m))) {
    await t.test(`SIGKILL: ${plan.operation} ${plan.step}, ${moment}`, (t) => scenario(t, plan, moment))
  }
}

t.test('the matrix: step × kill moment → outcome after a restart', async (t) => {
  const table = [
    ['step', ...MOMENTS],
    ...plans.map((plan) => [
      `${plan.operation} ${plan.step}`,
      ...MOMENTS.map(
        (m) => cells.get(`${plan.operation}/${plan.step} ${m}`) ?? (applies(plan, m) ? '?' : '—'),
      ),
    ]),
  ]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => row[i]?.length ?? 0))) ?? []
  const lines = table.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' │ '))
  t.comment(['', ...lines, ''].join('\n'))
  t.comment(
    `${cells.size} kills. Cell: outcome; ✓ every ledger matched the database after the recovery; seconds ` +
      'from the restart until settled (process start included); kind×n: n made at the provider, one kept.',
  )
  for (const note of footnotes) t.comment(`* ${note}`)
  t.same(await audit(), [], 'at the end every provider ledger matches the database')
  const expected = plans.reduce((sum, plan) => sum + MOMENTS.filter((m) => applies(plan, m)).length, 0)
  t.equal([...cells.values()].filter((cell) => cell.includes('✓')).length, expected, 'every kill recovered')
})
