import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import { createReadyInstance, insertInstance } from '../lifecycle/instance-fixtures.js'

const MODEL = 'anthropic/claude-sonnet-4'

/** Quick deploys; the runtime answers `ready:false` for `warmupMs` after each (re)start. */
const emulators = (warmupMs: number) => ({ railway: { deploy: { stepMs: 10 }, runtime: { warmupMs } } })

/** A ready instance made through the real creation path; returns its Railway service id. */
const createdInstance = async (t: Test, system: System, instanceId: string) =>
  (await createReadyInstance(t, system, instanceId)).railwayServiceId as string

const configure = (t: Test, system: System, instanceId: string, payload: object) =>
  request(t, system.app, {
    method: 'POST',
    url: `/configure/${instanceId}`,
    headers: poolAuth(),
    payload,
  })

const provisionsOf = (system: System, serviceId: string) =>
  system.emulators.railway.runtimeOf(serviceId)?.provisions ?? []

function railwayVariables(system: System, serviceId: string): Record<string, string> {
  const service = system.emulators.railway.ledger
    .all<{ id: string; instances: Record<string, { variables: Record<string, string> }> }>('service')
    .find((s) => s.id === serviceId)
  return Object.values(service?.instances ?? {})[0]?.variables ?? {}
}

t.test('configure: model set and pushed, conversation opened once per body', async (t) => {
  const system = await startSystem(t, { emulators: emulators(0) })
  const serviceId = await createdInstance(t, system, 'agent-1')
  const body = { agentName: 'Ada', instructions: 'You help the team plan their week.', model: MODEL }

  const first = await configure(t, system, 'agent-1', body)
  t.equal(first.statusCode, 200, first.body)
  const result = first.json()
  t.match(result, { ok: true, conversationId: String, inviteUrl: /^https:\/\//, joined: false })
  t.equal(railwayVariables(system, serviceId).OPENCLAW_PRIMARY_MODEL, MODEL, 'Railway keeps the model')
  const runtime = system.emulators.railway.runtimeOf(serviceId)
  t.equal(runtime?.env.OPENCLAW_PRIMARY_MODEL, MODEL, 'the running agent got it through restart-gateway')
  t.match(provisionsOf(system, serviceId), [
    { agentName: body.agentName, instructions: body.instructions, conversationId: result.conversationId },
  ])

  const again = await configure(t, system, 'agent-1', body)
  t.equal(again.statusCode, 200)
  t.same(again.json(), result, 'the same body gets the stored result')
  t.equal(provisionsOf(system, serviceId).length, 1, 'without a second conversation')

  const joinUrl = 'https://convos.org/v2?i=join-me'
  const changed = await configure(t, system, 'agent-1', { ...body, instructions: 'Be brief.', joinUrl })
  t.equal(changed.statusCode, 200, changed.body)
  t.match(changed.json(), { ok: true, joined: true, inviteUrl: joinUrl })
  t.equal(provisionsOf(system, serviceId).length, 2, 'a different body reconfigures')
  t.match(provisionsOf(system, serviceId)[1], { instructions: 'Be brief.', joinUrl })

  const restarts = system.emulators.railway.runtimeOf(serviceId)?.restarts
  const concurrent = { agentName: 'Bo', instructions: 'Answer in French.' }
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => configure(t, system, 'agent-1', concurrent)),
  )
  t.same([...new Set(answers.map((a) => a.statusCode))], [200])
  t.equal(new Set(answers.map((a) => a.json().conversationId)).size, 1, 'all got the one conversation')
  t.equal(provisionsOf(system, serviceId).length, 3, 'eight concurrent identical requests, one provision')
  t.equal(
    system.emulators.railway.runtimeOf(serviceId)?.restarts,
    restarts,
    'no model given: no variable pushed, no gateway restart',
  )
})

t.test('refusals: invalid bodies, unknown and non-ready instances', async (t) => {
  const system = await startSystem(t, { emulators: emulators(0) })
  const serviceId = await createdInstance(t, system, 'agent-1')
  const invalid: object[] = [
    { agentName: '', instructions: 'Help.' },
    { agentName: '   ', instructions: 'Help.' },
    { agentName: 'Ada', instructions: ' \n\t ' },
    { agentName: 'Ada' },
    { instructions: 'Help.' },
    { agentName: 'Ada', instructions: 'Help.', model: 'not a model' },
    { agentName: 'Ada', instructions: 'Help.', joinUrl: 'http://convos.org/v2?i=x' },
    { agentName: 'Ada', instructions: 'Help.', extra: true },
  ]
  for (const payload of invalid) {
    const response = await configure(t, system, 'agent-1', payload)
    t.equal(response.statusCode, 400, `${JSON.stringify(payload)} → 400`)
    t.equal(response.json().code, 'VALIDATION_FAILED')
  }
  const blank = await configure(t, system, 'agent-1', { agentName: 'Ada', instructions: '   ' })
  t.match(blank.json().errors, [{ in: 'body', pointer: '/instructions' }], 'the field is named')

  const body = { agentName: 'Ada', instructions: 'Help.' }
  await insertInstance(system.database.db, {
    instanceId: 'agent-creating',
    lifecycle: 'creating',
    image: 'i',
  })
  await insertInstance(system.database.db, { instanceId: 'agent-gone', lifecycle: 'destroyed', image: 'i' })
  const cases: [string, number, string][] = [
    ['agent-unknown', 404, 'NOT_FOUND'],
    ['agent-gone', 404, 'NOT_FOUND'],
    ['agent-creating', 409, 'CONFLICT'],
  ]
  for (const [instanceId, status, code] of cases) {
    const response = await configure(t, system, instanceId, body)
    t.equal(response.statusCode, status, `${instanceId} → ${status}`)
    t.equal(response.json().code, code)
  }
  t.equal(provisionsOf(system, serviceId).length, 0, 'no refused request reached the runtime')
})

t.test('a runtime warming up longer than the deadline: 503 NOT_READY with Retry-After', async (t) => {
  const system = await startSystem(t, { emulators: emulators(60_000), env: { CONFIGURE_WAIT_MS: '400' } })
  const serviceId = await createdInstance(t, system, 'agent-1')
  t.equal(system.emulators.railway.runtimeOf(serviceId)?.ready, false, 'the runtime is still warming up')

  const started = Date.now()
  const response = await configure(t, system, 'agent-1', { agentName: 'Ada', instructions: 'Help.' })
  const waited = Date.now() - started
  t.equal(response.statusCode, 503, response.body)
  t.equal(response.json().code, 'NOT_READY')
  t.equal(response.headers['retry-after'], '5')
  t.ok(waited >= 400, `it waited for the deadline first (${waited} ms)`)
  t.equal(provisionsOf(system, serviceId).length, 0)
  const [row] = await system.database.db
    .select({ hash: instanceInfra.configureHash })
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-1'))
  t.equal(row?.hash, null, 'nothing stored: a repeat tries again')
})

t.test('a runtime warming up within the deadline: the call waits and succeeds', async (t) => {
  const system = await startSystem(t, { emulators: emulators(600), env: { CONFIGURE_WAIT_MS: '10000' } })
  const serviceId = await createdInstance(t, system, 'agent-1')

  // The model push restarts the gateway, so the runtime is warming up when the provision is sent.
  const started = Date.now()
  const response = await configure(t, system, 'agent-1', {
    agentName: 'Ada',
    instructions: 'Help.',
    model: MODEL,
  })
  const waited = Date.now() - started
  t.equal(response.statusCode, 200, response.body)
  t.match(response.json(), { ok: true, conversationId: String })
  t.ok(waited >= 500, `it waited for the warm-up (${waited} ms)`)
  t.equal(provisionsOf(system, serviceId).length, 1, 'one provision once ready')
})
