import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { type System, startSystem } from '../helpers/system.js'
import { createReadyInstance } from '../lifecycle/instance-fixtures.js'

const fastDeploys = { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } }

interface ServiceRecord {
  instances: Record<string, { variables: Record<string, string> }>
}

/** A ready instance made through the real creation path; returns its Railway service and own token. */
async function readyInstance(t: Test, system: System, instanceId: string) {
  const serviceId = (await createReadyInstance(t, system, instanceId)).railwayServiceId as string
  const token = system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN as string
  return { serviceId, token, tokenAuth: { authorization: `Bearer ${token}` } }
}

const provision = (
  t: Test,
  system: System,
  path: string,
  payload?: object,
  headers: Record<string, string> = poolAuth(),
) =>
  request(t, system.app, {
    method: 'POST',
    url: `/provision/${path}`,
    headers,
    ...(payload ? { payload } : {}),
  })

const destroyTool = (t: Test, system: System, path: string, headers: Record<string, string> = poolAuth()) =>
  request(t, system.app, { method: 'DELETE', url: `/destroy/${path}`, headers })

/** The variables Railway holds for the service now (every later deploy starts with them). */
function railwayVariables(system: System, serviceId: string): Record<string, string> {
  const service = system.emulators.railway.ledger
    .all<ServiceRecord & { id: string }>('service')
    .find((s) => s.id === serviceId)
  return Object.values(service?.instances ?? {})[0]?.variables ?? {}
}

const inboxes = (system: System) => system.emulators.agentmail.ledger.all<{ inbox_id: string }>('inbox')

t.test('pool mode: one inbox, in Railway variables and pushed live; repeats return it', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const { serviceId } = await readyInstance(t, system, 'agent-1')

  const first = await provision(t, system, 'agent-1/email', { mode: 'pool' })
  t.equal(first.statusCode, 201, first.body)
  const resource = first.json()
  t.match(resource, { toolId: 'email', mode: 'pool', status: 'active', livePush: 'delivered' })
  t.equal(resource.env, undefined, 'the pool never sees the variables')
  t.match(resource.config.email, /@/, 'the inbox address is public config')
  t.equal(inboxes(system).length, 1)

  const variables = railwayVariables(system, serviceId)
  t.equal(variables.AGENTMAIL_INBOX_ID, resource.resourceId, 'every later deploy has the inbox')
  t.ok(variables.AGENTMAIL_API_KEY, 'and its key')
  const runtime = system.emulators.railway.runtimeOf(serviceId)
  t.equal(
    runtime?.env.AGENTMAIL_INBOX_ID,
    resource.resourceId,
    'the running agent got it through restart-gateway',
  )

  const again = await provision(t, system, 'agent-1/email')
  t.equal(again.statusCode, 200)
  t.equal(again.json().resourceId, resource.resourceId)
  t.equal(inboxes(system).length, 1, 'no second inbox')
})

t.test('twenty concurrent provisions of one tool make one resource', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await readyInstance(t, system, 'agent-1')
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => provision(t, system, 'agent-1/crypto', { mode: 'pool' })),
  )
  t.same([...new Set(answers.map((a) => a.statusCode))].sort(), [201], 'all share the one creation')
  t.equal(new Set(answers.map((a) => a.json().resourceId)).size, 1)
  t.equal(system.emulators.bankr.ledger.all('wallet').length, 1, 'one Bankr wallet')
})

t.test('refusals: unknown tool or instance, bad mode or config, not ready, not configured', async (t) => {
  const system = await startSystem(t, {
    emulators: fastDeploys,
    env: { TELNYX_API_KEY: undefined },
  })
  await readyInstance(t, system, 'agent-1')
  const cases: Array<[string, object | undefined, number, string]> = [
    ['agent-1/fax', undefined, 404, 'NOT_FOUND'],
    ['agent-nope/email', undefined, 404, 'NOT_FOUND'],
    ['agent-1/wallet', { mode: 'user', userConfig: { apiKey: 'sk-user-0123456789' } }, 422, 'UNPROCESSABLE'],
    ['agent-1/email', { mode: 'user' }, 422, 'UNPROCESSABLE'],
    ['agent-1/email', { mode: 'user', userConfig: { apiKey: 'am_user_0123456789' } }, 422, 'UNPROCESSABLE'],
    [
      'agent-1/email',
      { userConfig: { apiKey: 'am_user_0123456789', inboxId: 'a@b.co' } },
      422,
      'UNPROCESSABLE',
    ],
    ['agent-1/email', { options: { limitUsd: 5 } }, 422, 'UNPROCESSABLE'],
    ['agent-1/sms', { mode: 'pool' }, 503, 'TOOL_NOT_CONFIGURED'],
    ['agent-1/FAX', undefined, 400, 'VALIDATION_FAILED'],
  ]
  for (const [path, payload, status, code] of cases) {
    const response = await provision(t, system, path, payload)
    t.equal(response.statusCode, status, `${path} ${JSON.stringify(payload)} → ${status}`)
    t.equal(response.json().code, code)
  }
  const userConfigError = await provision(t, system, 'agent-1/email', {
    mode: 'user',
    userConfig: { apiKey: 'am_user_0123456789' },
  })
  t.match(userConfigError.json().errors, [{ pointer: '/userConfig/inboxId' }], 'the missing field is named')
  const sms = await provision(t, system, 'agent-1/sms')
  t.match(sms.json().detail, /TELNYX_API_KEY/, 'the missing setting is named')

  await system.database.db
    .update(instanceInfra)
    .set({ lifecycle: 'failed' })
    .where(eq(instanceInfra.instanceId, 'agent-1'))
  const failed = await provision(t, system, 'agent-1/email')
  t.equal(failed.statusCode, 409)
  t.equal(inboxes(system).length, 0, 'nothing was made by any refused request')
})

t.test('user mode: credentials checked with the provider; rejected ones are 422', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const { serviceId } = await readyInstance(t, system, 'agent-1')
  const userKey = system.emulators.agentmail.apiKey
  const inbox = await fetch(`${system.emulators.agentmail.url}/inboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'users-own' }),
  }).then((r) => r.json() as Promise<{ inbox_id: string }>)

  const refused = await provision(t, system, 'agent-1/email', {
    mode: 'user',
    userConfig: { apiKey: 'am_wrong_0123456789abcdef', inboxId: inbox.inbox_id },
  })
  t.equal(refused.statusCode, 422, refused.body)
  t.equal(refused.json().code, 'UNPROCESSABLE')
  t.notMatch(refused.body, /am_wrong/, 'the supplied key is not echoed')

  const accepted = await provision(t, system, 'agent-1/email', {
    mode: 'user',
    userConfig: { apiKey: userKey, inboxId: inbox.inbox_id },
  })
  t.equal(accepted.statusCode, 201, accepted.body)
  t.match(accepted.json(), { mode: 'user', config: { inboxId: inbox.inbox_id } })
  t.equal(
    railwayVariables(system, serviceId).AGENTMAIL_API_KEY,
    userKey,
    "the user's key reaches the instance",
  )

  const same = await provision(t, system, 'agent-1/email', {
    mode: 'user',
    userConfig: { apiKey: userKey, inboxId: inbox.inbox_id },
  })
  t.equal(same.statusCode, 200, 'the same credentials again: the same resource')
  t.equal(same.json().resourceId, accepted.json().resourceId)
  const second = await fetch(`${system.emulators.agentmail.url}/inboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'users-second' }),
  }).then((r) => r.json() as Promise<{ inbox_id: string }>)
  const switched = await provision(t, system, 'agent-1/email', {
    mode: 'user',
    userConfig: { apiKey: userKey, inboxId: second.inbox_id },
  })
  t.equal(switched.statusCode, 200, switched.body)
  t.match(
    switched.json(),
    { config: { inboxId: second.inbox_id } },
    'changed credentials update the resource',
  )
  t.equal(railwayVariables(system, serviceId).AGENTMAIL_INBOX_ID, second.inbox_id, 'and reach Railway')
  t.equal(
    system.emulators.railway.runtimeOf(serviceId)?.env.AGENTMAIL_INBOX_ID,
    second.inbox_id,
    'and the agent',
  )

  const pool = await provision(t, system, 'agent-1/email', { mode: 'pool' })
  t.equal(pool.statusCode, 409, 'a pool inbox does not replace the user one silently')

  const userResource = encodeURIComponent(switched.json().resourceId)
  const destroyed = await destroyTool(t, system, `agent-1/email/${userResource}`)
  t.equal(destroyed.statusCode, 200, destroyed.body)
  t.ok(
    inboxes(system).some((i) => i.inbox_id === second.inbox_id),
    "the user's own inbox is forgotten by services, never deleted",
  )
})

t.test('a changed OpenRouter limit updates the key instead of making another', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  await readyInstance(t, system, 'agent-1')
  const keysBefore = system.emulators.openrouter.ledger.all('key').length
  const [row] = await system.database.db
    .select()
    .from(instanceServices)
    .where(eq(instanceServices.toolId, 'openrouter'))
  const updated = await provision(t, system, 'agent-1/openrouter', {
    options: { limitUsd: 7, limitReset: 'weekly' },
  })
  t.equal(updated.statusCode, 200, updated.body)
  t.match(updated.json(), { resourceId: row?.resourceId, config: { limitUsd: 7, limitReset: 'weekly' } })
  t.equal(system.emulators.openrouter.ledger.all('key').length, keysBefore, 'the same key, changed')
})

t.test(
  'destroy a tool: released, variables gone from Railway and cleared live; twice is harmless',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys })
    const { serviceId } = await readyInstance(t, system, 'agent-1')
    const { resourceId } = (await provision(t, system, 'agent-1/email')).json()
    const path = `agent-1/email/${encodeURIComponent(resourceId)}`

    const gone = await destroyTool(t, system, path)
    t.equal(gone.statusCode, 200, gone.body)
    t.same(gone.json(), { toolId: 'email', resourceId, status: 'destroyed' })
    t.equal(inboxes(system).length, 0, 'the inbox is deleted at AgentMail')
    t.equal(railwayVariables(system, serviceId).AGENTMAIL_INBOX_ID, '', 'the variable is blanked on Railway')
    t.equal(system.emulators.railway.runtimeOf(serviceId)?.starts, 1, 'without redeploying the agent')
    t.equal(system.emulators.railway.runtimeOf(serviceId)?.env.AGENTMAIL_INBOX_ID, '', 'and was cleared live')

    t.equal((await destroyTool(t, system, path)).statusCode, 200, 'twice is harmless')
    t.equal((await destroyTool(t, system, 'agent-1/email/nope@agentmail.to')).statusCode, 404)
    t.equal((await destroyTool(t, system, 'agent-1/fax/x')).statusCode, 404)

    const again = await provision(t, system, 'agent-1/email')
    t.equal(again.statusCode, 201, 'a new inbox after the old one was destroyed')
    t.not(again.json().resourceId, resourceId)
    t.equal(inboxes(system).length, 1)
  },
)

t.test('a release that fails answers 202 and the reaper job finishes it', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys, env: { REAPER_INTERVAL_MS: '100' } })
  await readyInstance(t, system, 'agent-1')
  const { resourceId } = (await provision(t, system, 'agent-1/email')).json()
  system.emulators.agentmail.faults.add({ operation: 'inboxes_delete', errorRate: 1, errorStatus: 503 })
  const pending = await destroyTool(t, system, `agent-1/email/${encodeURIComponent(resourceId)}`)
  t.equal(pending.statusCode, 202)
  t.equal(pending.json().status, 'releasing')
  t.equal(inboxes(system).length, 1, 'still there, still tracked')

  system.emulators.agentmail.faults.clear()
  await new Promise((resolve) => setTimeout(resolve, 150))
  for (const job of system.app.periodicJobs) await job()
  t.equal(inboxes(system).length, 0, 'released by the retry')
  const [row] = await system.database.db
    .select()
    .from(instanceServices)
    .where(eq(instanceServices.resourceId, resourceId))
  t.equal(row?.status, 'destroyed')
})

t.test('an unreachable instance: provision succeeds, push pending, delivered later', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const { serviceId } = await readyInstance(t, system, 'agent-1')
  system.emulators.railway.killRuntime(serviceId)
  const pending = await provision(t, system, 'agent-1/crypto')
  t.equal(pending.statusCode, 201, pending.body)
  t.equal(pending.json().livePush, 'pending')
  t.ok(railwayVariables(system, serviceId).BANKR_API_KEY, 'Railway has it for the next deploy')

  // The runtime comes back (a deploy), then the reaper's push delivers what it missed.
  const redeploy = await request(t, system.app, {
    method: 'POST',
    url: '/redeploy/agent-1',
    headers: poolAuth(),
  })
  t.equal(redeploy.statusCode, 202)
  for (let i = 0; i < 200 && !system.emulators.railway.runtimeOf(serviceId)?.ready; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  for (const job of system.app.periodicJobs) await job()
  const [row] = await system.database.db
    .select({ pendingEnv: instanceInfra.pendingEnv })
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, 'agent-1'))
  t.equal(row?.pendingEnv, null, 'nothing left to deliver')
  const restarts = system.emulators.railway.runtimeOf(serviceId)?.restartEnvs ?? []
  t.ok(
    restarts.some((env) => env.BANKR_API_KEY),
    'restart-gateway received the key',
  )
})

t.test('self-provisioning with the instance token: allowed tools only, env returned', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const own = await readyInstance(t, system, 'agent-1')
  await readyInstance(t, system, 'agent-2')

  const mine = await provision(t, system, 'agent-1/email', undefined, own.tokenAuth)
  t.equal(mine.statusCode, 201, mine.body)
  t.equal(
    mine.json().env.AGENTMAIL_INBOX_ID,
    mine.json().resourceId,
    'the instance gets its variables at once',
  )

  const sms = await provision(t, system, 'agent-1/sms', undefined, own.tokenAuth)
  t.equal(sms.statusCode, 403, 'sms is not self-provisionable by default')
  t.equal(system.emulators.telnyx.ledger.all('number').length, 0, 'no number was bought')
  const other = await provision(t, system, 'agent-2/email', undefined, own.tokenAuth)
  t.equal(other.statusCode, 403, "another instance's tools are out of reach")

  const destroyed = await destroyTool(
    t,
    system,
    `agent-1/email/${encodeURIComponent(mine.json().resourceId)}`,
    own.tokenAuth,
  )
  t.equal(destroyed.statusCode, 200, 'an instance may destroy its own tool')
})

t.test('user mode for openrouter and crypto: keys checked with the provider, refusals are 422', async (t) => {
  const system = await startSystem(t, { emulators: fastDeploys })
  const donor = await readyInstance(t, system, 'agent-donor')
  await readyInstance(t, system, 'agent-1')
  t.equal((await provision(t, system, 'agent-donor/crypto')).statusCode, 201)
  // Keys a user would own: the donor's own inference key and Bankr wallet key.
  const env = system.emulators.railway.runtimeOf(donor.serviceId)?.env ?? {}
  const keysBefore = system.emulators.openrouter.ledger.all('key').length

  const inference = await provision(t, system, 'agent-1/openrouter', {
    mode: 'user',
    userConfig: { apiKey: env.OPENROUTER_API_KEY },
  })
  t.equal(inference.statusCode, 409, 'the pool key made at creation must be destroyed first')
  const pooled = (await provision(t, system, 'agent-1/openrouter')).json()
  t.equal((await destroyTool(t, system, `agent-1/openrouter/${pooled.resourceId}`)).statusCode, 200)
  const management = await provision(t, system, 'agent-1/openrouter', {
    mode: 'user',
    userConfig: { apiKey: system.emulators.openrouter.managementKey },
  })
  t.equal(management.statusCode, 422, 'a management key cannot make completions')
  const own = await provision(t, system, 'agent-1/openrouter', {
    mode: 'user',
    userConfig: { apiKey: env.OPENROUTER_API_KEY },
  })
  t.equal(own.statusCode, 201, own.body)
  t.equal(system.emulators.openrouter.ledger.all('key').length, keysBefore - 1, 'no key made for a user key')

  const wrongWallet = await provision(t, system, 'agent-1/crypto', {
    mode: 'user',
    userConfig: { apiKey: env.BANKR_API_KEY, walletAddress: `0x${'1'.repeat(40)}` },
  })
  t.equal(wrongWallet.statusCode, 422, 'the key belongs to another wallet')
  const wallet = await provision(t, system, 'agent-1/crypto', {
    mode: 'user',
    userConfig: { apiKey: env.BANKR_API_KEY, walletAddress: env.BANKR_WALLET_ADDRESS },
  })
  t.equal(wallet.statusCode, 201, wallet.body)
  t.match(wallet.json(), { mode: 'user', config: { walletAddress: env.BANKR_WALLET_ADDRESS } })
})

t.test(
  'a provision a crash interrupted is finished by the reaper once stale, adopting the inbox',
  async (t) => {
    const system = await startSystem(t, { emulators: fastDeploys, env: { PROVISION_RESUME_AFTER_MS: '200' } })
    const { serviceId } = await readyInstance(t, system, 'agent-1')
    // What a process killed mid-call leaves: the row written, the inbox made, nothing recorded.
    await system.database.db.insert(instanceServices).values({
      instanceId: 'agent-1',
      toolId: 'email',
      mode: 'pool',
      status: 'provisioning',
      idempotencyKey: 'agent-1:email',
    })
    const made = await fetch(`${system.emulators.agentmail.url}/inboxes`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${system.emulators.agentmail.apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ client_id: 'agent-1%3Aemail' }),
    }).then((r) => r.json() as Promise<{ inbox_id: string }>)

    const runJobs = () => Promise.all(system.app.periodicJobs.map((job) => job()))
    await runJobs()
    const [fresh] = await system.database.db
      .select()
      .from(instanceServices)
      .where(eq(instanceServices.idempotencyKey, 'agent-1:email'))
    t.equal(fresh?.status, 'provisioning', 'not touched while it could still be in flight')

    await new Promise((resolve) => setTimeout(resolve, 300))
    await runJobs()
    const [row] = await system.database.db
      .select()
      .from(instanceServices)
      .where(eq(instanceServices.idempotencyKey, 'agent-1:email'))
    t.match(
      row,
      { status: 'active', resourceId: made.inbox_id },
      'finished with the inbox the provider had made',
    )
    t.equal(inboxes(system).length, 1, 'no second inbox')
    t.equal(railwayVariables(system, serviceId).AGENTMAIL_INBOX_ID, made.inbox_id, 'on Railway')
    t.equal(
      system.emulators.railway.runtimeOf(serviceId)?.env.AGENTMAIL_INBOX_ID,
      made.inbox_id,
      'and pushed to the running agent',
    )
  },
)
