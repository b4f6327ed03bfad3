/**
 * The extraction plan's validation list, end to end: the reference pool (examples/pool/src) runs in its
 * own process on the packed and offline-installed client, against the real server on real Postgres with
 * every provider emulated; this process plays the world around it (kills a runtime, gives a user a phone
 * number, reads what a runtime received) and checks the providers' ledgers.
 */
import t from 'tap'
import type { PhoneNumberRecord, TelnyxEmulator } from '../../../emulators/src/telnyx/index.js'
import type { Instance, InstanceStatus, StatusBatch, ToolResource } from '../../../pool-client/src/index.js'
import { projectNameFor } from '../../../services/src/infra/railway/index.js'
import { POOL_KEY } from '../../../services/test/helpers/build.js'
import { startSystem } from '../../../services/test/helpers/system.js'
import { adoptBody, legacyEnv, sharedProject } from '../../../services/test/lifecycle/instance-fixtures.js'
import type { PoolInstance } from '../src/pool.js'
import { type PoolProcess, poolProject, startPoolProcess } from './pool-process.js'

const MIN_IDLE = 3
/** The id the old shared project's instance is adopted under. */
const LEGACY = 'legacy-1'

interface Named {
  id: string
  name: string
}
interface Owned {
  id: string
  projectId: string
}

t.test('the validation list, through the packed client', async (t) => {
  const started = Date.now()
  const [project, system] = await Promise.all([
    poolProject(t),
    startSystem(t, {
      env: legacyEnv,
      // Deployments take a few ticks (4 status steps of 60 ms), so the tick loop sees them deploying.
      emulators: { railway: { deploy: { stepMs: 60 }, runtime: { warmupMs: 0 } } },
    }),
  ])
  const baseUrl = await system.app.listen({ host: '127.0.0.1', port: 0 })
  const pool = startPoolProcess(t, project, {
    SERVICES_URL: baseUrl,
    SERVICES_API_KEY: POOL_KEY,
    POOL_MIN_IDLE: String(MIN_IDLE),
    POOL_TICK_MS: '100',
  })
  const { railway, openrouter, agentmail, telnyx, bankr } = system.emulators
  const projects = () => railway.ledger.all<Named>('project')
  const views = (instanceIds: string[]) => pool.call<Instance[]>('views', { instanceIds })
  const serviceOf = async (instanceId: string) => {
    const [view] = await views([instanceId])
    return view?.railway.serviceId as string
  }
  const runtimeEnv = async (instanceId: string) => railway.runtimeOf(await serviceOf(instanceId))?.env ?? {}

  // 1 and 3: the tick loop creates MIN_IDLE instances and watches them from deploying to healthy.
  const filled = await pool.call<{
    ticks: number
    history: Record<string, string[]>
    instances: PoolInstance[]
  }>('fill')
  const firstIds = filled.instances.map((i) => i.instanceId)
  t.equal(firstIds.length, MIN_IDLE, `${MIN_IDLE} instances, ready after ${filled.ticks} ticks`)
  for (const id of firstIds) {
    const seen = filled.history[id] ?? []
    t.ok(
      seen.includes('deploying') && seen.indexOf('deploying') < seen.indexOf('healthy'),
      `${id}: ${seen.join(' → ')}`,
    )
  }
  t.same(
    projects()
      .map((p) => p.name)
      .sort(),
    firstIds.map(projectNameFor).sort(),
    '1. N instances → N Railway projects, each named for its instance',
  )

  // 3: a runtime dies; the tick loop sees it unreachable, destroys it and creates a replacement.
  const [victim, ...survivors] = firstIds as [string, ...string[]]
  railway.killRuntime(await serviceOf(victim))
  const replaced = await pool.call<{
    destroyed: { instanceId: string; reason: string }[]
    created: string[]
    history: Record<string, string[]>
    instances: PoolInstance[]
  }>('untilReplaced', { instanceId: victim })
  t.match(
    replaced.destroyed,
    [{ instanceId: victim, reason: /unreachable for 2 ticks/ }],
    'the dead one is stuck',
  )
  t.equal(
    replaced.history[victim]?.at(-1),
    'unreachable',
    `${victim}: ${replaced.history[victim]?.join(' → ')}`,
  )
  t.equal(replaced.created.length, 1, 'one replacement')
  const replacement = replaced.created[0] as string
  t.same(replaced.history[replacement]?.slice(-1), ['healthy'], `${replacement} became healthy`)
  const poolIds = [...survivors, replacement]
  t.same(
    replaced.instances.map((i) => [i.instanceId, i.state]).sort(),
    poolIds.map((id) => [id, 'ready']).sort(),
    'the pool is back to MIN_IDLE ready instances',
  )
  t.notOk(
    projects().some((p) => p.name === projectNameFor(victim)),
    "the dead instance's project is gone",
  )

  // 4: a claim provisions email from the pool's account and sms with the user's own number.
  const userNumber = await usersOwnNumber(telnyx)
  const numbersBefore = telnyx.ledger.snapshot().created.number
  const claimed = await pool.call<{ instanceId: string; inviteUrl: string | null; tools: ToolResource[] }>(
    'claim',
    {
      agentName: 'Ada',
      instructions: 'You help the team plan their week.',
      tools: [
        { toolId: 'email', mode: 'pool' },
        { toolId: 'sms', mode: 'user', userConfig: { apiKey: telnyx.apiKey, phoneNumber: userNumber } },
      ],
    },
  )
  t.match(claimed.inviteUrl, /^https:\/\/convos\.org\//, `invite URL ${claimed.inviteUrl}`)
  const [email, sms] = claimed.tools
  t.match(email, { toolId: 'email', mode: 'pool', status: 'active', livePush: 'delivered' })
  t.match(sms, { toolId: 'sms', mode: 'user', status: 'active', livePush: 'delivered' })
  t.equal(agentmail.ledger.all('inbox').length, 1, 'the pool inbox exists at AgentMail')
  t.equal(telnyx.ledger.snapshot().created.number, numbersBefore, 'no number bought: it is the user’s')
  const claimedEnv = await runtimeEnv(claimed.instanceId)
  t.match(
    claimedEnv,
    {
      AGENTMAIL_INBOX_ID: email?.resourceId,
      AGENTMAIL_API_KEY: /.+/,
      TELNYX_PHONE_NUMBER: userNumber,
      TELNYX_API_KEY: telnyx.apiKey,
    },
    '4. the running instance received both tools’ variables',
  )
  const provisions = railway.runtimeOf(await serviceOf(claimed.instanceId))?.provisions ?? []
  t.match(provisions, [{ agentName: 'Ada', inviteUrl: claimed.inviteUrl }], 'and was configured')

  // 5: the agent self-provisions with the token its runtime was given; another instance is out of reach.
  t.match(claimedEnv, {
    INSTANCE_ID: claimed.instanceId,
    INSTANCE_SERVICES_TOKEN: /^ist_/,
    SERVICES_URL: baseUrl,
  })
  const wallets = bankr.ledger.all('wallet').length
  const own = await pool.call<{ ok: boolean; value: Record<string, string> }>('selfProvision', {
    toolId: 'crypto',
    env: claimedEnv,
  })
  t.ok(own.ok, 'the instance provisions crypto for itself')
  t.match(own.value, { BANKR_API_KEY: /.+/, BANKR_WALLET_ADDRESS: /^0x/ }, 'and gets its variables at once')
  t.equal(bankr.ledger.all('wallet').length, wallets + 1, 'one Bankr wallet more')
  t.match(await runtimeEnv(claimed.instanceId), own.value, 'pushed to the running instance too')
  const other = poolIds.find((id) => id !== claimed.instanceId) as string
  const refused = await pool.call('selfProvision', {
    toolId: 'crypto',
    env: { ...claimedEnv, INSTANCE_ID: other },
  })
  t.same(
    refused,
    { ok: false, status: 403, code: 'FORBIDDEN' },
    '5. the same token for another instance: 403',
  )
  t.equal(bankr.ledger.all('wallet').length, wallets + 1, 'nothing made for the other instance')

  // 6: one project per agent; a legacy instance of the shared project is adopted alongside and destroyed.
  const shared = await sharedProject(system.railway, 2)
  const [legacyService, sibling] = shared.services as [
    (typeof shared.services)[0],
    (typeof shared.services)[0],
  ]
  const adopted = await pool.call<{ status: number; instance: Instance }>(
    'adopt',
    adoptBody(shared, legacyService, LEGACY),
  )
  t.match(adopted, { status: 201, instance: { legacy: true, lifecycle: 'ready' } }, 'legacy instance adopted')
  const all = await views([...poolIds, LEGACY])
  const projectIds = all.map((view) => view.railway.projectId)
  t.equal(new Set(projectIds).size, all.length, '6. no two instances share a project')
  t.equal(all.at(-1)?.railway.projectId, shared.projectId, 'the legacy one stays in the shared project')
  // The contract wants an https URL for an adopted instance, and the emulated runtimes speak plain HTTP, so
  // its health ping cannot answer here: it coexists as ready with its deployment read from Railway.
  const side = await statusUntil(pool, [...poolIds, LEGACY], (s) =>
    s.legacy ? s.deployStatus === 'SUCCESS' : s.status === 'healthy',
  )
  t.same(
    side.map((s) => (s.legacy ? [s.lifecycle, s.deployStatus] : s.status)),
    [...poolIds.map(() => 'healthy'), ['ready', 'SUCCESS']],
    'the pool’s instances healthy, the legacy one ready and deployed, side by side',
  )

  const servicesBefore = railway.ledger.all<Owned>('service').map((s) => s.id)
  const legacyDestroyed = await pool.call<{ status: number; result: { remaining: unknown[] } }>('destroy', {
    instanceId: LEGACY,
  })
  t.match(legacyDestroyed, { status: 200, result: { remaining: [] } }, 'the legacy instance is destroyed')
  t.same(
    railway.ledger.all<Owned>('service').map((s) => s.id),
    servicesBefore.filter((id) => id !== legacyService.serviceId),
    'only its service went: the shared project and its sibling remain',
  )
  t.ok(railway.ledger.get('project', shared.projectId), 'the shared project is still there')
  t.ok(railway.ledger.get('service', sibling.serviceId), 'the sibling service is still there')
  t.same(
    (await statusUntil(pool, poolIds, (s) => s.status === 'healthy')).map((s) => s.status),
    poolIds.map(() => 'healthy'),
    'the pool’s instances are untouched',
  )

  // 2: the pool winds down; nothing of its instances is left at any provider.
  const everCreated = await pool.call<string[]>('everCreated')
  t.equal(everCreated.length, MIN_IDLE + 1, 'the pool asked for MIN_IDLE instances and one replacement')
  t.equal(
    railway.ledger.snapshot().created.project,
    everCreated.length + 1,
    'Railway made one project per creation (plus the shared legacy one)',
  )
  const released = await pool.call<string[]>('releaseAll')
  t.same(released.sort(), [...poolIds].sort(), 'the pool destroyed all it held')
  const gone = await views(everCreated)
  t.same(
    gone.map((view) => view.lifecycle),
    everCreated.map(() => 'destroyed'),
    'services says every one of them is destroyed',
  )
  t.same(
    projects().map((p) => p.id),
    [shared.projectId],
    '2. Railway: no project of the pool is left, only the shared one',
  )
  for (const kind of ['environment', 'service', 'volume', 'domain'] as const) {
    const strays = railway.ledger.all<Owned>(kind).filter((r) => r.projectId !== shared.projectId)
    t.same(strays, [], `Railway: no ${kind} outside the shared project`)
  }
  t.same(openrouter.ledger.all('key'), [], 'OpenRouter: no key left')
  t.same(agentmail.ledger.all('inbox'), [], 'AgentMail: no inbox left')
  t.same(bankr.ledger.all('wallet'), [], 'Bankr: no wallet left')
  t.same(
    telnyx.ledger.all<PhoneNumberRecord>('number').map((n) => n.phone_number),
    [userNumber],
    "Telnyx: only the user's own number, which services never deletes",
  )
  t.comment(`validation list done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
})

/**
 * `POST /status/batch` of `ids` until every answer passes `done` (a fresh deployment takes a moment), at
 * most 5 s; the last answers, each marked with whether it is the legacy instance.
 */
async function statusUntil(
  pool: PoolProcess,
  ids: string[],
  done: (status: InstanceStatus & { legacy: boolean }) => boolean,
): Promise<(InstanceStatus & { legacy: boolean })[]> {
  let statuses: (InstanceStatus & { legacy: boolean })[] = []
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const batch = await pool.call<StatusBatch>('status', { instanceIds: ids })
    statuses = batch.instances.map((s) => ({ ...s, legacy: s.instanceId === LEGACY }))
    if (statuses.every(done)) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return statuses
}

/** A number the user bought with their own Telnyx account (the emulator has one account: the same key). */
async function usersOwnNumber(telnyx: TelnyxEmulator) {
  const call = async <T>(method: string, path: string, body?: object): Promise<T> => {
    const response = await fetch(`${telnyx.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${telnyx.apiKey}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    return (await response.json()) as T
  }
  const search = await call<{ data: { phone_number: string }[] }>(
    'GET',
    '/available_phone_numbers?filter[country_code]=US&filter[features][]=sms&filter[limit]=1',
  )
  const phoneNumber = search.data[0]?.phone_number as string
  await call('POST', '/number_orders', {
    phone_numbers: [{ phone_number: phoneNumber }],
    // A number needs a messaging profile to send SMS; the user set theirs up with their account.
    messaging_profile_id: telnyx.messagingProfileId,
  })
  // The order settles after a moment; the number is the user's once it is active.
  for (let i = 0; i < 100; i++) {
    const owned = telnyx.ledger.all<PhoneNumberRecord>('number').find((n) => n.phone_number === phoneNumber)
    if (owned?.status === 'active') return phoneNumber
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`the order for ${phoneNumber} did not settle`)
}
