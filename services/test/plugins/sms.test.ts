import t, { type Test } from 'tap'
import {
  type NumberOrder,
  type PhoneNumberRecord,
  startTelnyxEmulator,
  type TelnyxEmulator,
  type TelnyxEmulatorOptions,
} from '../../../emulators/src/telnyx/index.js'
import { CONTRACTS_MISSING, loadProviderContract } from '../../../emulators/test/support/provider-contract.js'
import { createNumberPoolRepository } from '../../src/db/number-pool-repository.js'
import { phoneNumberPool } from '../../src/db/schema.js'
import { ProviderError } from '../../src/infra/http/provider-error.js'
import { createSmsPlugin, type SmsPluginOptions } from '../../src/plugins/sms.js'
import { createTestPglite } from '../helpers/database.js'
import { definePluginTest } from '../helpers/plugin-test.js'
import { recordingDispatcher } from '../helpers/recording-dispatcher.js'
import { rejectionOf } from '../helpers/rejection.js'

const contract = loadProviderContract('telnyx')
if (!contract) t.comment(CONTRACTS_MISSING)

const FAST = {
  retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
  orderPollMs: 10,
  orderTimeoutMs: 10_000,
}

// One migrated PGlite for the file (tests run one after another); each test starts with an empty pool.
const database = await createTestPglite(t)

/** A Telnyx emulator, an empty number pool, and a plugin whose every request is recorded. */
async function setup(
  test: Test,
  options: { plugin?: Partial<SmsPluginOptions>; emulator?: TelnyxEmulatorOptions } = {},
) {
  const emulator = await startTelnyxEmulator({ orderSettleMs: 20, ...options.emulator })
  await database.db.delete(phoneNumberPool)
  const pool = createNumberPoolRepository(database.db)
  const { dispatcher, sent } = recordingDispatcher(test, emulator)
  const pluginOptions: SmsPluginOptions = {
    apiUrl: emulator.url,
    apiKey: emulator.apiKey,
    messagingProfileId: emulator.messagingProfileId as string,
    numberPool: pool,
    dispatcher,
    ...FAST,
    ...options.plugin,
  }
  const plugin = createSmsPlugin(pluginOptions)
  return { emulator, plugin, pool, sent, dispatcher, pluginOptions }
}

/** A test against a fresh emulator and pool; afterwards every request the plugin sent is checked. */
const pluginTest = definePluginTest(
  t,
  setup,
  contract && {
    provider: 'Telnyx',
    /** Its body by schema, its query by the declared deepObjects. */
    violations({ method, path, query, body }) {
      const docPath = path.replace(/^\/v2/, '')
      const template = contract.templateFor(method, docPath)
      if (!template) return [`${method} ${docPath} is not in Telnyx's document`]
      const found = contract
        .requestViolations(method, template, body)
        .map((v) => `${method} ${template}: ${v}`)
      for (const [name] of query) {
        if (!/^(filter|page)\[[a-z_]+\](\[\])?$/.test(name))
          found.push(`${method} ${template}: undeclared ?${name}`)
      }
      return found
    },
  },
)

const ops = (emulator: TelnyxEmulator) => emulator.ledger.requests().map((request) => request.operation)
const count = (emulator: TelnyxEmulator, operation: string) =>
  ops(emulator).filter((op) => op === operation).length
const liveNumbers = (emulator: TelnyxEmulator) => emulator.ledger.all<PhoneNumberRecord>('number')
const orders = (emulator: TelnyxEmulator) => emulator.ledger.all<NumberOrder>('order')

/** Telnyx called directly, as a crashed earlier attempt (or an operator) would have. */
async function telnyx<T>(emulator: TelnyxEmulator, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(emulator.url + path, {
    method,
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  return (await response.json()) as T
}

async function orderDirectly(emulator: TelnyxEmulator, customerReference: string) {
  const search = await telnyx<{ data: Array<{ phone_number: string }> }>(
    emulator,
    'GET',
    '/available_phone_numbers?filter[country_code]=US&filter[features][]=sms&filter[limit]=1',
  )
  const phoneNumber = search.data[0]?.phone_number as string
  const order = await telnyx<{ data: NumberOrder }>(emulator, 'POST', '/number_orders', {
    phone_numbers: [{ phone_number: phoneNumber }],
    messaging_profile_id: emulator.messagingProfileId,
    customer_reference: customerReference,
  })
  return { phoneNumber, order: order.data }
}

const input = (instanceId: string) => ({ instanceId, idempotencyKey: `${instanceId}:sms` })

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, ProviderError)

pluginTest(
  'create buys a US number with the profile and records the claim',
  {},
  async (t, { emulator, plugin, pool }) => {
    const resource = await plugin.create(input('inst-1'))
    const [number] = liveNumbers(emulator)
    t.ok(number, 'Telnyx has one number')
    t.same(resource, {
      resourceId: number?.id,
      config: {
        phoneNumber: number?.phone_number,
        messagingProfileId: emulator.messagingProfileId,
        poolClaim: 'inst-1:sms',
      },
      env: {
        TELNYX_API_KEY: emulator.apiKey,
        TELNYX_PHONE_NUMBER: number?.phone_number,
        TELNYX_MESSAGING_PROFILE_ID: emulator.messagingProfileId,
      },
    })
    t.match(resource.resourceId, /^\d+$/, 'the resource id is Telnyx’s numeric phone number id')
    t.equal(number?.messaging_profile_id, emulator.messagingProfileId)
    const [order] = orders(emulator)
    t.match(order, {
      status: 'success',
      customer_reference: 'inst-1:sms',
      messaging_profile_id: emulator.messagingProfileId,
    })
    t.match(await pool.get(number?.phone_number as string), { claimedBy: 'inst-1:sms', releasedAt: null })
    t.same(
      ops(emulator).filter((op) => op !== 'RetrieveNumberOrder'),
      [
        'ListNumberOrders',
        'ListAvailablePhoneNumbers',
        'CreateNumberOrder',
        'ListNumberOrders',
        'ListPhoneNumbers',
      ],
      'adopt check, search, order, then the number looked up; no PATCH (the order assigned the profile)',
    )
  },
)

pluginTest(
  'a repeat create with the same key returns the same number and buys nothing',
  {},
  async (t, { emulator, plugin }) => {
    const first = await plugin.create(input('inst-1'))
    const second = await plugin.create(input('inst-1'))
    t.same(second, first)
    t.equal(orders(emulator).length, 1, 'one order')
    t.equal(liveNumbers(emulator).length, 1, 'one number')
    t.equal(count(emulator, 'ListAvailablePhoneNumbers'), 1, 'no second search')
  },
)

pluginTest(
  'find adopts an order a crashed attempt placed, and buys nothing itself',
  {},
  async (t, { emulator, plugin, pool }) => {
    t.equal(await plugin.find(input('inst-2')), undefined, 'nothing under an unknown key')
    const { phoneNumber } = await orderDirectly(emulator, 'inst-2:sms')
    // The order may still be pending here: find waits for it.
    const found = await plugin.find(input('inst-2'))
    t.equal(found?.config.phoneNumber, phoneNumber)
    t.equal(found?.config.poolClaim, 'inst-2:sms')
    t.equal((await pool.get(phoneNumber))?.claimedBy, 'inst-2:sms', 'the adopted number is recorded as held')
    t.equal(count(emulator, 'CreateNumberOrder'), 1, 'only the crashed attempt ordered')
    const created = await plugin.create(input('inst-2'))
    t.equal(created.resourceId, found?.resourceId, 'create adopts too')
    t.equal(orders(emulator).length, 1)
  },
)

pluginTest(
  'an order whose answer was lost (500 after the work) is adopted on retry, not bought twice',
  { emulator: { faults: [{ operation: 'CreateNumberOrder', errorRate: 1, failAfterWork: true, times: 1 }] } },
  async (t, { emulator, plugin }) => {
    const resource = await plugin.create(input('inst-3'))
    t.equal(orders(emulator).length, 1, 'one order')
    t.equal(liveNumbers(emulator).length, 1, 'one number')
    t.equal(resource.resourceId, liveNumbers(emulator)[0]?.id)
    t.same(
      emulator.ledger
        .requests()
        .filter((r) => r.operation === 'CreateNumberOrder')
        .map((r) => r.status),
      [500],
      'the order POST was never repeated',
    )
  },
)

pluginTest(
  'two successful orders under one key: the oldest is adopted, the other goes to the pool',
  {},
  async (t, { emulator, plugin, pool }) => {
    const first = await orderDirectly(emulator, 'inst-4:sms')
    const second = await orderDirectly(emulator, 'inst-4:sms')
    const found = await plugin.find(input('inst-4'))
    t.equal(found?.config.phoneNumber, first.phoneNumber)
    t.match(await pool.get(second.phoneNumber), { claimedBy: null }, 'the extra number is idle in the pool')
    const other = await plugin.create(input('inst-5'))
    t.equal(other.config.phoneNumber, second.phoneNumber, 'and the next instance gets it')
    t.equal(orders(emulator).length, 2, 'no third order')
  },
)

pluginTest('destroy returns the number to the pool; Telnyx keeps it; twice is harmless', {}, async (t, c) => {
  const { emulator, plugin, pool } = c
  const resource = await plugin.create(input('inst-6'))
  t.equal(await plugin.destroy(resource), 'destroyed')
  t.equal(liveNumbers(emulator).length, 1, 'still bought at Telnyx')
  t.equal(count(emulator, 'DeletePhoneNumber'), 0, 'not deleted at Telnyx')
  const row = await pool.get(resource.config.phoneNumber as string)
  t.equal(row?.claimedBy, null)
  t.ok(row?.releasedAt instanceof Date, 'idle since now')
  t.equal(await plugin.destroy(resource), 'gone', 'a second destroy')
  await t.rejects(plugin.destroy({ resourceId: resource.resourceId, config: {} }), {
    code: 'PROVIDER_REJECTED',
  })
})

pluginTest('pool reuse: the next instance gets the released number, with no new order', {}, async (t, c) => {
  const { emulator, plugin, pool } = c
  const first = await plugin.create(input('inst-7'))
  await plugin.destroy(first)
  const second = await plugin.create(input('inst-8'))
  t.equal(second.config.phoneNumber, first.config.phoneNumber)
  t.equal(second.resourceId, first.resourceId)
  t.equal(second.config.poolClaim, 'inst-8:sms')
  t.equal(count(emulator, 'CreateNumberOrder'), 1, 'one order in all')
  t.equal(count(emulator, 'ListAvailablePhoneNumbers'), 1, 'one search in all')

  t.equal(await plugin.destroy(first), 'gone', 'a stale destroy of the first instance changes nothing')
  t.equal((await pool.get(second.config.phoneNumber as string))?.claimedBy, 'inst-8:sms', 'still inst-8’s')
  t.equal(await plugin.find(input('inst-7')), undefined, 'inst-7’s old order no longer adopts it either')
  const third = await plugin.create(input('inst-9'))
  t.not(third.config.phoneNumber, second.config.phoneNumber, 'so no third instance shares it')
})

pluginTest(
  'a pooled number reassigned to a new profile, and one gone at Telnyx, on reuse',
  {},
  async (t, c) => {
    const { emulator, pool, pluginOptions } = c
    // A number idle in the pool that Telnyx no longer has (deleted by an operator).
    await pool.put({
      phoneNumber: '+13125550199',
      telnyxNumberId: '1293000000000000001',
      messagingProfileId: 'old',
    })
    const bought = await c.plugin.create(input('inst-10'))
    t.equal(await pool.get('+13125550199'), undefined, 'the gone number left the pool')
    await c.plugin.destroy(bought)

    const profile = await telnyx<{ data: { id: string } }>(emulator, 'POST', '/messaging_profiles', {
      name: 'new',
      whitelisted_destinations: ['US'],
    })
    const moved = createSmsPlugin({ ...pluginOptions, messagingProfileId: profile.data.id })
    const reused = await moved.create(input('inst-11'))
    t.equal(reused.config.phoneNumber, bought.config.phoneNumber, 'the pooled number is reused')
    t.equal(reused.config.messagingProfileId, profile.data.id)
    t.equal(liveNumbers(emulator)[0]?.messaging_profile_id, profile.data.id, 'Telnyx shows the new profile')
    t.equal((await pool.get(reused.config.phoneNumber as string))?.messagingProfileId, profile.data.id)
    t.equal(count(emulator, 'UpdatePhoneNumberMessagingSettings'), 1)
  },
)

pluginTest(
  'the profile PATCH is retried on 404 while a purchase propagates',
  { emulator: { applyOrderMessagingProfile: false, messagingPropagationMs: 150 } },
  async (t, { emulator, plugin }) => {
    const resource = await plugin.create(input('inst-12'))
    t.equal(liveNumbers(emulator)[0]?.messaging_profile_id, emulator.messagingProfileId)
    t.equal(resource.env.TELNYX_MESSAGING_PROFILE_ID, emulator.messagingProfileId)
    const patches = emulator.ledger
      .requests()
      .filter((r) => r.operation === 'UpdatePhoneNumberMessagingSettings')
    t.ok(patches.length >= 2, `${patches.length} PATCHes`)
    t.same(patches.map((r) => r.status).slice(-1), [200], 'the last one succeeded')
    t.ok(
      patches.slice(0, -1).every((r) => r.status === 404),
      'the others were 404',
    )
  },
)

pluginTest('a failed order is followed by a new search and order', {}, async (t, { emulator, plugin }) => {
  emulator.failNextOrders(1)
  const resource = await plugin.create(input('inst-13'))
  t.same(
    orders(emulator)
      .map((order) => order.status)
      .sort(),
    ['failure', 'success'],
  )
  t.equal(liveNumbers(emulator).length, 1)
  t.equal(resource.resourceId, liveNumbers(emulator)[0]?.id)
})

pluginTest(
  'concurrent creates get distinct numbers (a number sold meanwhile is re-searched)',
  {},
  async (t, c) => {
    const { emulator, plugin } = c
    const resources = await Promise.all(['a', 'b', 'c', 'd'].map((id) => plugin.create(input(`race-${id}`))))
    const numbers = new Set(resources.map((resource) => resource.config.phoneNumber))
    t.equal(numbers.size, 4, 'four distinct numbers')
    t.equal(liveNumbers(emulator).length, 4, 'four bought')
    const rejected = emulator.ledger
      .requests()
      .filter((r) => r.operation === 'CreateNumberOrder' && r.status === 422)
    t.equal(orders(emulator).length, 4, `four orders (and ${rejected.length} refused as already sold)`)
  },
)

pluginTest(
  'provider 5xx and 429 are retried (Retry-After honoured)',
  {
    emulator: {
      faults: [
        { operation: 'ListAvailablePhoneNumbers', errorRate: 1, errorStatus: 503, times: 2 },
        { operation: 'RetrieveNumberOrder', errorRate: 1, errorStatus: 500, times: 1 },
        { operation: 'ListPhoneNumbers', rateLimitStorm: { retryAfterSeconds: 1 }, times: 1 },
      ],
    },
  },
  async (t, { emulator, plugin }) => {
    const started = performance.now()
    const resource = await plugin.create(input('inst-14'))
    t.ok(performance.now() - started >= 900, 'waited for Retry-After: 1')
    t.equal(resource.resourceId, liveNumbers(emulator)[0]?.id)
    const statuses = (op: string) =>
      emulator.ledger
        .requests()
        .filter((r) => r.operation === op)
        .map((r) => r.status)
    t.same(statuses('ListAvailablePhoneNumbers'), [503, 503, 200])
    t.same(statuses('ListPhoneNumbers'), [429, 200])
    t.equal(orders(emulator).length, 1)
  },
)

pluginTest(
  'a refused key is PROVIDER_UNAUTHORIZED, not retried, and leaves the pool alone',
  {},
  async (t, c) => {
    const wrong = createSmsPlugin({ ...c.pluginOptions, apiKey: 'KEYwrong' })
    const error = await rejection(wrong.create(input('inst-15')))
    t.equal(error.code, 'PROVIDER_UNAUTHORIZED')
    t.equal(error.status, 401)
    t.equal(error.providerCode, '10009')
    t.equal(c.emulator.ledger.requests().length, 1, 'one request, no retries')
    t.same(await database.db.select().from(phoneNumberPool), [])
  },
)

pluginTest(
  'no number for sale is PROVIDER_REJECTED',
  { emulator: { inventorySize: 0 } },
  async (t, { plugin }) => {
    const error = await rejection(plugin.create(input('inst-16')))
    t.equal(error.code, 'PROVIDER_REJECTED')
  },
)

pluginTest(
  'an order stuck pending times out as PROVIDER_TIMEOUT; the next attempt adopts it',
  {},
  async (t, c) => {
    await c.emulator.close()
    const slow = await startTelnyxEmulator({ orderSettleMs: 400 })
    t.teardown(() => slow.close())
    const options = {
      ...c.pluginOptions,
      apiUrl: slow.url,
      apiKey: slow.apiKey,
      messagingProfileId: slow.messagingProfileId as string,
      orderTimeoutMs: 50,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    }
    const error = await rejection(createSmsPlugin(options).create(input('inst-17')))
    t.equal(error.code, 'PROVIDER_TIMEOUT')
    const patient = createSmsPlugin({ ...options, orderTimeoutMs: 10_000 })
    const resource = await patient.create(input('inst-17'))
    t.equal(slow.ledger.all('order').length, 1, 'still one order')
    t.equal(resource.resourceId, slow.ledger.all<PhoneNumberRecord>('number')[0]?.id)
  },
)

pluginTest('releaseExpiredNumbers deletes long-idle numbers at Telnyx and only those', {}, async (t, c) => {
  const { emulator, plugin, pool } = c
  const idle = [await plugin.create(input('rel-1')), await plugin.create(input('rel-2'))]
  const held = await plugin.create(input('rel-3'))
  for (const resource of idle) await plugin.destroy(resource)

  t.same(
    await plugin.releaseExpiredNumbers(60 * 60_000),
    { deleted: [], failed: [] },
    'none idle for an hour',
  )
  t.equal(liveNumbers(emulator).length, 3)

  // One idle number was already deleted at Telnyx by hand: 404 counts as deleted.
  await telnyx(emulator, 'DELETE', `/phone_numbers/${idle[0]?.resourceId}`)
  const report = await plugin.releaseExpiredNumbers(0)
  t.same(report.deleted.sort(), idle.map((r) => r.config.phoneNumber).sort())
  t.same(report.failed, [])
  t.same(
    liveNumbers(emulator).map((n) => n.phone_number),
    [held.config.phoneNumber],
    'only the held number is left at Telnyx',
  )
  const rows = await database.db.select().from(phoneNumberPool)
  t.same(
    rows.map((row) => row.phoneNumber),
    [held.config.phoneNumber],
    'the pool forgot the deleted ones',
  )
  t.equal(
    await plugin.destroy(idle[1] as never),
    'gone',
    'destroying a released-and-deleted number is harmless',
  )
  t.equal(await pool.get(idle[1]?.config.phoneNumber as string), undefined, 'and does not bring it back')
})

pluginTest(
  'releaseExpiredNumbers: a failed delete stays idle; an interrupted one is finished',
  {},
  async (t, c) => {
    const { emulator, plugin, pool } = c
    const first = await plugin.create(input('rel-4'))
    const second = await plugin.create(input('rel-5'))
    await plugin.destroy(first)
    const idleSince = (await pool.get(first.config.phoneNumber as string))?.releasedAt
    // A cleanup that crashed mid-deletion left `second` claimed for release.
    await plugin.destroy(second)
    t.ok(
      await pool.take(`release:${second.config.phoneNumber}`, {
        phoneNumber: second.config.phoneNumber as string,
      }),
    )

    const resumed = await plugin.releaseExpiredNumbers(60 * 60_000)
    t.same(
      resumed,
      { deleted: [second.config.phoneNumber], failed: [] },
      'the interrupted deletion is finished',
    )

    emulator.faults.add({ operation: 'DeletePhoneNumber', errorRate: 1, errorStatus: 422, times: 1 })
    const report = await plugin.releaseExpiredNumbers(0)
    t.same(report, {
      deleted: [],
      failed: [{ phoneNumber: first.config.phoneNumber, code: 'PROVIDER_REJECTED' }],
    })
    const row = await pool.get(first.config.phoneNumber as string)
    t.equal(row?.claimedBy, null, 'back to idle')
    t.equal(row?.releasedAt?.getTime(), idleSince?.getTime(), 'idle since the same moment')
    t.same(
      (await plugin.releaseExpiredNumbers(0)).deleted,
      [first.config.phoneNumber],
      'deleted on the next run',
    )
    t.equal(liveNumbers(emulator).length, 0)
  },
)

pluginTest('user mode: the caller’s key and number, checked with one read', {}, async (t, c) => {
  const { emulator, plugin, pool } = c
  const { phoneNumber } = await orderDirectly(emulator, 'the-users-own')
  await new Promise((resolve) => setTimeout(resolve, 60)) // the order settles in 20 ms
  const before = emulator.ledger.requests().length
  const resource = await plugin.useUserConfig?.('inst-18', { apiKey: emulator.apiKey, phoneNumber })
  t.equal(emulator.ledger.requests().length - before, 1, 'one request')
  const number = liveNumbers(emulator)[0]
  t.same(resource, {
    resourceId: `user:${number?.id}`,
    config: { phoneNumber, messagingProfileId: emulator.messagingProfileId },
    env: {
      TELNYX_API_KEY: emulator.apiKey,
      TELNYX_PHONE_NUMBER: phoneNumber,
      TELNYX_MESSAGING_PROFILE_ID: emulator.messagingProfileId,
    },
  })
  const given = await plugin.useUserConfig?.('inst-18', {
    apiKey: emulator.apiKey,
    phoneNumber,
    messagingProfileId: 'mine',
  })
  t.equal(given?.env.TELNYX_MESSAGING_PROFILE_ID, 'mine', 'a given profile wins')

  const unauthorized = await rejection(
    plugin.useUserConfig?.('inst-18', { apiKey: 'KEYwrong', phoneNumber }) as Promise<unknown>,
  )
  t.equal(unauthorized.code, 'PROVIDER_UNAUTHORIZED')
  const notOwned = await rejection(
    plugin.useUserConfig?.('inst-18', {
      apiKey: emulator.apiKey,
      phoneNumber: '+13125550100',
    }) as Promise<unknown>,
  )
  t.equal(notOwned.code, 'PROVIDER_REJECTED')
  for (const bad of [{ apiKey: emulator.apiKey, phoneNumber: '3125550100' }, { phoneNumber }]) {
    const error = await rejection(plugin.useUserConfig?.('inst-18', bad) as Promise<unknown>)
    t.equal(error.code, 'PROVIDER_REJECTED', 'malformed input is refused before any request')
  }
  t.equal(await plugin.destroy(resource as never), 'gone', 'a user’s number is never released into the pool')
  t.equal(await pool.get(phoneNumber), undefined)
  t.equal(liveNumbers(emulator).length, 1)
})
