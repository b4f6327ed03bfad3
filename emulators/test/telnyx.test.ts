import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import {
  type MessagingProfile,
  type NumberOrder,
  type PhoneNumberRecord,
  startTelnyxEmulator,
  type TelnyxEmulatorOptions,
} from '../src/telnyx/index.js'
import { bearerCaller } from './support/http.js'
import { CONTRACTS_MISSING, loadProviderContract } from './support/provider-contract.js'

const contract = loadProviderContract('telnyx')
if (!contract) t.comment(CONTRACTS_MISSING)

interface TelnyxErrorBody {
  errors: Array<{ code: string; title: string; detail: string; source?: Record<string, string> }>
}
interface Available {
  phone_number: string
  features: Array<{ name: string }>
  region_information: Array<{ region_type: string; region_name: string }>
}
interface Page<T> {
  data: T[]
  meta: { page_number: number; page_size: number; total_pages: number; total_results: number }
}

/**
 * Violations of an answer against Telnyx's document (paths there have no `/v2`). A status the operation
 * does not declare (429 on the numbers routes, 5xx on the messaging ones), or a route the document does
 * not have, is checked against the same error schema through an operation that declares it.
 */
function violations(method: string, docPath: string, status: number, body: unknown): string[] {
  if (!contract) return []
  const direct = contract.responseViolations(method, docPath, status, body)
  const undeclared = direct[0]?.endsWith('is not declared') || direct[0]?.endsWith('is not in the document')
  if (direct.length !== 1 || !undeclared) return direct
  return status >= 500
    ? contract.responseViolations('GET', '/phone_numbers', 500, body)
    : contract.responseViolations('GET', '/phone_numbers', 400, body)
}

async function start(test: Test, options: TelnyxEmulatorOptions = {}) {
  const emulator = await startTelnyxEmulator(options)
  test.teardown(() => emulator.close())
  /** Calls the emulator as a client would and checks every answer against the document. */
  const call = bearerCaller(emulator.url, emulator.apiKey, (method, path, answer) => {
    if (!contract) return
    const route = path.split('?')[0] as string
    const docPath = contract.templateFor(method, route) ?? route
    test.same(
      violations(method, docPath, answer.status, answer.body),
      [],
      `${method} ${docPath} → ${answer.status} conforms to Telnyx's document`,
    )
  })
  const search = async (query: string) => {
    const answer = await call<{ data: Available[]; meta: { total_results: number } }>(
      'GET',
      `/available_phone_numbers?${query}`,
    )
    test.equal(answer.status, 200, `search ${query}`)
    return answer.body
  }
  const order = async (phoneNumber: string, extra: Record<string, unknown> = {}) => {
    const answer = await call<{ data: NumberOrder }>('POST', '/number_orders', {
      body: { phone_numbers: [{ phone_number: phoneNumber }], ...extra },
    })
    test.equal(answer.status, 200, `order ${phoneNumber}`)
    return answer.body.data
  }
  /** Polls the order until it leaves `pending` (generous bound: the emulator settles in ms). */
  const settled = async (orderId: string) => {
    for (let i = 0; i < 200; i++) {
      const answer = await call<{ data: NumberOrder }>('GET', `/number_orders/${orderId}`)
      if (answer.body.data.status !== 'pending') return answer.body.data
      await sleep(25)
    }
    throw new Error(`order ${orderId} still pending`)
  }
  const buy = async (extra: Record<string, unknown> = {}) => {
    const [first] = (await search('filter[country_code]=US&filter[features][]=sms&filter[limit]=1')).data
    const placed = await order((first as Available).phone_number, extra)
    const done = await settled(placed.id)
    const listed = await call<Page<PhoneNumberRecord>>(
      'GET',
      `/phone_numbers?filter[phone_number]=${done.phone_numbers[0]?.phone_number.slice(1)}`,
    )
    return { order: done, number: listed.body.data[0] as PhoneNumberRecord }
  }
  return { emulator, call, search, order, settled, buy }
}

const SMS_US = 'filter[country_code]=US&filter[features][]=sms'

t.test('every API route needs the Bearer key: 401 with code 10009', async (t) => {
  const { call } = await start(t)
  for (const token of [null, 'KEYwrong', '']) {
    const answer = await call<TelnyxErrorBody>('GET', '/phone_numbers', { token })
    t.equal(answer.status, 401)
    t.match(answer.body.errors[0], { code: '10009', title: 'Authentication failed' })
  }
  const unknownRoute = await call<TelnyxErrorBody>('GET', '/no_such_route')
  t.equal(unknownRoute.status, 404)
  t.equal(unknownRoute.body.errors[0]?.code, '10005')
})

t.test('GET /available_phone_numbers honours the deepObject filters', async (t) => {
  const { search } = await start(t)
  const three = await search(`${SMS_US}&filter[limit]=3`)
  t.equal(three.data.length, 3, 'filter[limit]')
  t.ok(three.meta.total_results > 3, 'meta.total_results counts every match')
  for (const entry of three.data) {
    t.match(entry.phone_number, /^\+1[2-9]\d{2}[2-9]\d{6}$/, 'a plausible NANP number')
    t.ok(
      entry.features.some((feature) => feature.name === 'sms'),
      'has sms',
    )
    t.ok(
      entry.region_information.some(
        (region) => region.region_type === 'country_code' && region.region_name === 'US',
      ),
    )
  }
  t.equal((await search('filter[country_code]=GB')).data.length, 0, 'only US numbers are for sale')
  t.equal(
    (await search(`${SMS_US}&filter[features][]=international_sms`)).data.length,
    0,
    'every feature must match',
  )
  t.equal((await search('filter[phone_number_type]=toll_free')).data.length, 0, 'only local numbers')

  const chicago = await search('filter[locality]=Chicago&filter[limit]=5')
  t.ok(chicago.data.length > 0)
  t.ok(
    chicago.data.every((entry) => entry.phone_number.startsWith('+1312')),
    'filter[locality]',
  )
  const colorado = await search('filter[administrative_area]=CO&filter[limit]=100')
  t.ok(
    colorado.data.every((entry) => /^\+1(720|970)/.test(entry.phone_number)),
    'filter[administrative_area]',
  )
  const startsWith = await search('filter[phone_number][starts_with]=415&filter[limit]=5')
  t.ok(startsWith.data.length > 0 && startsWith.data.every((entry) => entry.phone_number.startsWith('+1415')))
  const target = (three.data[0] as Available).phone_number
  const endsWith = await search(`filter[phone_number][ends_with]=${target.slice(-7)}`)
  t.ok(
    endsWith.data.some((entry) => entry.phone_number === target),
    'filter[phone_number][ends_with]',
  )

  const defaults = await search(SMS_US)
  t.equal(defaults.data.length, 50, 'the default limit')
})

t.test('the search refuses malformed filters with 400 and the offending parameter', async (t) => {
  const { call } = await start(t)
  for (const [query, parameter] of [
    ['filter[limit]=0', 'filter[limit]'],
    ['filter[limit]=ten', 'filter[limit]'],
    ['filter[limit]=1000', 'filter[limit]'],
    ['filter[features][]=carrier_pigeon', 'filter[features]'],
    ['filter[phone_number_type]=satellite', 'filter[phone_number_type]'],
  ] as const) {
    const answer = await call<TelnyxErrorBody>('GET', `/available_phone_numbers?${query}`)
    t.equal(answer.status, 400, query)
    t.equal(answer.body.errors[0]?.source?.parameter, parameter)
  }
})

t.test('the inventory is seeded: the same seed lists the same numbers', async (t) => {
  const first = await start(t, { seed: 7 })
  const second = await start(t, { seed: 7 })
  const other = await start(t, { seed: 8 })
  const numbers = async (s: typeof first) =>
    (await s.search(`${SMS_US}&filter[limit]=10`)).data.map((n) => n.phone_number)
  t.same(await numbers(first), await numbers(second))
  t.not((await numbers(first)).join(), (await numbers(other)).join())
})

t.test('a number order is pending, then succeeds; the number is then owned with a numeric id', async (t) => {
  const { emulator, call, search, order, settled } = await start(t, { orderSettleMs: 50 })
  const [wanted] = (await search(`${SMS_US}&filter[limit]=1`)).data
  const phoneNumber = (wanted as Available).phone_number
  const placed = await order(phoneNumber, {
    messaging_profile_id: emulator.messagingProfileId,
    customer_reference: 'inst-1:sms',
  })
  t.match(placed, {
    record_type: 'number_order',
    phone_numbers_count: 1,
    messaging_profile_id: emulator.messagingProfileId,
    customer_reference: 'inst-1:sms',
    phone_numbers: [{ phone_number: phoneNumber }],
  })
  t.match(placed.id, /^[0-9a-f-]{36}$/, 'the order id is a UUID')

  const done = await settled(placed.id)
  t.equal(done.status, 'success')
  t.equal(done.phone_numbers[0]?.status, 'success')

  const listed = await call<Page<PhoneNumberRecord>>(
    'GET',
    `/phone_numbers?filter[phone_number]=${phoneNumber.slice(1)}`,
  )
  t.equal(listed.body.data.length, 1)
  const number = listed.body.data[0] as PhoneNumberRecord
  t.match(number, {
    phone_number: phoneNumber,
    status: 'active',
    messaging_profile_id: emulator.messagingProfileId,
    customer_reference: 'inst-1:sms',
  })
  t.match(number.id, /^\d{19}$/, 'a numeric-string phone number id')
  t.not(number.id, done.phone_numbers[0]?.id, 'the order’s number entry has its own (UUID) id')
  const got = await call<{ data: PhoneNumberRecord }>('GET', `/phone_numbers/${number.id}`)
  t.equal(got.body.data.phone_number, phoneNumber)

  const after = await search(`${SMS_US}&filter[limit]=100`)
  t.notOk(
    after.data.some((entry) => entry.phone_number === phoneNumber),
    'an owned number is not for sale',
  )
  t.same(
    emulator.ledger.all<PhoneNumberRecord>('number').map((n) => n.phone_number),
    [phoneNumber],
    'ledger: one live number',
  )
  t.equal(emulator.ledger.all('order').length, 1, 'ledger: one order')
})

t.test('an order stays pending until it settles, and its number is reserved meanwhile', async (t) => {
  const { emulator, call, search, order } = await start(t, { orderSettleMs: 60_000 })
  const phoneNumber = ((await search(`${SMS_US}&filter[limit]=1`)).data[0] as Available).phone_number
  const placed = await order(phoneNumber)
  const read = await call<{ data: NumberOrder }>('GET', `/number_orders/${placed.id}`)
  t.equal(read.body.data.status, 'pending')
  t.equal(read.body.data.phone_numbers[0]?.status, 'pending')
  t.equal(emulator.ledger.all('number').length, 0, 'not owned yet')
  const again = await call<TelnyxErrorBody>('POST', '/number_orders', {
    body: { phone_numbers: [{ phone_number: phoneNumber }] },
  })
  t.equal(again.status, 422, 'a reserved number cannot be ordered twice')
  t.equal(again.body.errors[0]?.source?.pointer, '/phone_numbers/0/phone_number')
  const forSale = await search(`${SMS_US}&filter[limit]=100`)
  t.notOk(
    forSale.data.some((entry) => entry.phone_number === phoneNumber),
    'not for sale while pending',
  )
})

t.test('failNextOrders: the order ends in failure and the number stays for sale', async (t) => {
  const { emulator, search, order, settled } = await start(t, { orderSettleMs: 20 })
  emulator.failNextOrders(1)
  const phoneNumber = ((await search(`${SMS_US}&filter[limit]=1`)).data[0] as Available).phone_number
  const failed = await settled((await order(phoneNumber)).id)
  t.equal(failed.status, 'failure')
  t.equal(failed.phone_numbers[0]?.status, 'failure')
  t.equal(emulator.ledger.all('number').length, 0, 'nothing bought')
  const forSale = await search(`${SMS_US}&filter[limit]=1`)
  t.equal(forSale.data[0]?.phone_number, phoneNumber, 'the number is for sale again')
  const next = await settled((await order(phoneNumber)).id)
  t.equal(next.status, 'success', 'only the next order failed')
})

t.test('POST /number_orders validates its body', async (t) => {
  const { call, search } = await start(t)
  const phoneNumber = ((await search(`${SMS_US}&filter[limit]=1`)).data[0] as Available).phone_number
  const cases: Array<[string, unknown, number, string]> = [
    ['no phone_numbers', {}, 422, '/phone_numbers'],
    ['empty phone_numbers', { phone_numbers: [] }, 422, '/phone_numbers'],
    ['not E.164', { phone_numbers: [{ phone_number: '3125550100' }] }, 422, '/phone_numbers/0/phone_number'],
    [
      'a number not for sale',
      { phone_numbers: [{ phone_number: '+13125550100' }] },
      422,
      '/phone_numbers/0/phone_number',
    ],
    [
      'the same number twice',
      { phone_numbers: [{ phone_number: phoneNumber }, { phone_number: phoneNumber }] },
      422,
      '/phone_numbers/1/phone_number',
    ],
    [
      'an unknown messaging profile',
      {
        phone_numbers: [{ phone_number: phoneNumber }],
        messaging_profile_id: '00000000-0000-4000-8000-000000000000',
      },
      422,
      '/messaging_profile_id',
    ],
    [
      'customer_reference not a string',
      { phone_numbers: [{ phone_number: phoneNumber }], customer_reference: 7 },
      422,
      '/customer_reference',
    ],
    ['not an object', [1, 2], 400, '/'],
  ]
  for (const [name, body, status, pointer] of cases) {
    const answer = await call<TelnyxErrorBody>('POST', '/number_orders', { body })
    t.equal(answer.status, status, name)
    t.equal(answer.body.errors[0]?.source?.pointer, pointer, `${name}: source.pointer`)
  }
  const broken = await call<TelnyxErrorBody>('POST', '/number_orders', { raw: '{"phone_numbers": [' })
  t.equal(broken.status, 400, 'malformed JSON')
  t.equal(broken.body.errors[0]?.code, '10015')
  const missing = await call<TelnyxErrorBody>('GET', '/number_orders/8f0b7e6a-0000-4000-8000-000000000000')
  t.equal(missing.status, 404)
})

t.test('GET /number_orders filters by customer_reference and status, and pages', async (t) => {
  const { call, search, order, settled } = await start(t, { orderSettleMs: 10 })
  const numbers = (await search(`${SMS_US}&filter[limit]=5`)).data.map((entry) => entry.phone_number)
  const placed: NumberOrder[] = []
  for (const [i, phoneNumber] of numbers.entries()) {
    placed.push(await order(phoneNumber, { customer_reference: i < 3 ? 'ref-a' : 'ref-b' }))
  }
  for (const entry of placed) await settled(entry.id)

  const refA = await call<Page<NumberOrder>>('GET', '/number_orders?filter[customer_reference]=ref-a')
  t.equal(refA.body.data.length, 3)
  t.ok(refA.body.data.every((entry) => entry.customer_reference === 'ref-a'))
  t.same(
    refA.body.data.map((entry) => entry.id),
    placed
      .slice(0, 3)
      .map((entry) => entry.id)
      .reverse(),
    'newest first',
  )
  const none = await call<Page<NumberOrder>>('GET', '/number_orders?filter[customer_reference]=ref-c')
  t.same(none.body.data, [])
  const pending = await call<Page<NumberOrder>>('GET', '/number_orders?filter[status]=pending')
  t.same(pending.body.data, [], 'all settled')

  const seen: string[] = []
  for (let page = 1; page <= 3; page++) {
    const answer = await call<Page<NumberOrder>>('GET', `/number_orders?page[size]=2&page[number]=${page}`)
    t.same(answer.body.meta, { page_number: page, page_size: 2, total_pages: 3, total_results: 5 })
    seen.push(...answer.body.data.map((entry) => entry.id))
  }
  t.same(seen.sort(), placed.map((entry) => entry.id).sort(), 'three pages hold each order once')
  const tooBig = await call<TelnyxErrorBody>('GET', '/number_orders?page[size]=251')
  t.equal(tooBig.status, 400)
  t.equal(tooBig.body.errors[0]?.source?.parameter, 'page[size]')
})

t.test(
  'messaging profiles: create requires name and whitelisted_destinations; list, get, delete',
  async (t) => {
    const { emulator, call } = await start(t)
    t.equal(emulator.ledger.all('messagingProfile').length, 1, 'the default profile exists at start')
    for (const [body, pointer] of [
      [{ whitelisted_destinations: ['US'] }, '/name'],
      [{ name: 'x' }, '/whitelisted_destinations'],
      [{ name: 'x', whitelisted_destinations: ['usa'] }, '/whitelisted_destinations'],
      [{ name: '', whitelisted_destinations: ['US'] }, '/name'],
    ] as const) {
      const answer = await call<TelnyxErrorBody>('POST', '/messaging_profiles', { body })
      t.equal(answer.status, 422)
      t.equal(answer.body.errors[0]?.source?.pointer, pointer)
    }
    const created = await call<{ data: MessagingProfile }>('POST', '/messaging_profiles', {
      body: {
        name: 'agents',
        whitelisted_destinations: ['US', 'CA'],
        webhook_url: 'https://example.com/hooks',
      },
    })
    t.equal(created.status, 200)
    t.match(created.body.data, {
      record_type: 'messaging_profile',
      name: 'agents',
      enabled: true,
      whitelisted_destinations: ['US', 'CA'],
      webhook_url: 'https://example.com/hooks',
    })
    const id = created.body.data.id

    const byName = await call<Page<MessagingProfile>>('GET', '/messaging_profiles?filter[name]=agents')
    t.same(
      byName.body.data.map((profile) => profile.id),
      [id],
    )
    const byEq = await call<Page<MessagingProfile>>('GET', '/messaging_profiles?filter[name][eq]=agents')
    t.same(
      byEq.body.data.map((profile) => profile.id),
      [id],
    )
    const byContains = await call<Page<MessagingProfile>>(
      'GET',
      '/messaging_profiles?filter[name][contains]=gen',
    )
    t.same(
      byContains.body.data.map((profile) => profile.id),
      [id],
    )
    const all = await call<Page<MessagingProfile>>('GET', '/messaging_profiles?page[size]=1&page[number]=2')
    t.same(all.body.meta, { page_number: 2, page_size: 1, total_pages: 2, total_results: 2 })
    t.equal(all.body.data[0]?.id, id, 'oldest first: the default profile, then this one')

    t.equal((await call('GET', `/messaging_profiles/${id}`)).status, 200)
    t.equal((await call('DELETE', `/messaging_profiles/${id}`)).status, 200)
    t.equal((await call('GET', `/messaging_profiles/${id}`)).status, 404)
    t.equal((await call('DELETE', `/messaging_profiles/${id}`)).status, 404)
    t.equal(emulator.ledger.all('messagingProfile').length, 1)
  },
)

t.test('PATCH /phone_numbers/{id}/messaging by numeric id or E.164; unassign with ""', async (t) => {
  const { emulator, call, buy } = await start(t, { orderSettleMs: 10 })
  const { number } = await buy()
  t.equal(number.messaging_profile_id, null, 'no profile in the order: none assigned')

  const byId = await call<{ data: { id: string; messaging_profile_id: string | null } }>(
    'PATCH',
    `/phone_numbers/${number.id}/messaging`,
    { body: { messaging_profile_id: emulator.messagingProfileId } },
  )
  t.equal(byId.status, 200)
  t.match(byId.body.data, {
    id: number.id,
    phone_number: number.phone_number,
    messaging_profile_id: emulator.messagingProfileId,
  })
  const listed = await call<Page<PhoneNumberRecord>>(
    'GET',
    `/phone_numbers?filter[phone_number]=${number.phone_number.slice(1)}`,
  )
  t.equal(
    listed.body.data[0]?.messaging_profile_id,
    emulator.messagingProfileId,
    'the number shows the profile',
  )

  const unchanged = await call<{ data: { messaging_profile_id: string | null } }>(
    'PATCH',
    `/phone_numbers/${encodeURIComponent(number.phone_number)}/messaging`,
    { body: { messaging_profile_id: null, tags: ['agent'] } },
  )
  t.equal(unchanged.status, 200, 'an E.164 number is accepted in place of the id')
  t.equal(unchanged.body.data.messaging_profile_id, emulator.messagingProfileId, 'null leaves it unchanged')

  const cleared = await call<{ data: { messaging_profile_id: string | null } }>(
    'PATCH',
    `/phone_numbers/${number.id}/messaging`,
    { body: { messaging_profile_id: '' } },
  )
  t.equal(cleared.body.data.messaging_profile_id, null, '"" unassigns')

  const unknownProfile = await call('PATCH', `/phone_numbers/${number.id}/messaging`, {
    body: { messaging_profile_id: '00000000-0000-4000-8000-000000000000' },
  })
  t.equal(unknownProfile.status, 422)
  t.equal((await call('PATCH', '/phone_numbers/1293000000000000000/messaging', { body: {} })).status, 404)
  t.equal((await call('GET', `/phone_numbers/${number.id}/messaging`)).status, 200)
  t.equal(
    (await call('GET', `/phone_numbers/${encodeURIComponent(number.phone_number)}`)).status,
    404,
    '/phone_numbers/{id} itself takes the numeric id only',
  )
})

t.test('applyOrderMessagingProfile: false leaves the profile to the separate PATCH', async (t) => {
  const { emulator, buy } = await start(t, { orderSettleMs: 10, applyOrderMessagingProfile: false })
  const { order, number } = await buy({ messaging_profile_id: emulator.messagingProfileId })
  t.equal(order.messaging_profile_id, emulator.messagingProfileId, 'the order records it')
  t.equal(number.messaging_profile_id, null, 'the number does not have it')
})

t.test('messaging settings answer 404 while a purchase propagates', async (t) => {
  const { emulator, call, buy } = await start(t, { orderSettleMs: 10, messagingPropagationMs: 60_000 })
  const { number } = await buy()
  t.equal(number.status, 'active', 'the number itself is listed')
  const patch = await call('PATCH', `/phone_numbers/${number.id}/messaging`, {
    body: { messaging_profile_id: emulator.messagingProfileId },
  })
  t.equal(patch.status, 404)
  t.equal((await call('GET', `/phone_numbers/${number.id}/messaging`)).status, 404)
})

t.test('GET /phone_numbers: digits-only filter, status and reference filters, pages', async (t) => {
  const { call, buy } = await start(t, { orderSettleMs: 10 })
  const bought = [await buy({ customer_reference: 'one' }), await buy(), await buy()]
  const first = bought[0]?.number as PhoneNumberRecord
  const withPlus = await call<Page<PhoneNumberRecord>>(
    'GET',
    `/phone_numbers?filter[phone_number]=${encodeURIComponent(first.phone_number)}`,
  )
  t.same(withPlus.body.data, [], 'non-numerical characters return nothing')
  const partial = await call<Page<PhoneNumberRecord>>(
    'GET',
    `/phone_numbers?filter[phone_number]=${first.phone_number.slice(-7)}`,
  )
  t.ok(
    partial.body.data.some((number) => number.id === first.id),
    'a partial number matches',
  )
  const short = await call<TelnyxErrorBody>('GET', '/phone_numbers?filter[phone_number]=12')
  t.equal(short.status, 400, 'at least three digits')
  const byReference = await call<Page<PhoneNumberRecord>>(
    'GET',
    '/phone_numbers?filter[customer_reference]=one',
  )
  t.same(
    byReference.body.data.map((number) => number.id),
    [first.id],
  )
  const active = await call<Page<PhoneNumberRecord>>('GET', '/phone_numbers?filter[status]=active')
  t.equal(active.body.data.length, 3)
  const page = await call<Page<PhoneNumberRecord>>('GET', '/phone_numbers?page[size]=2&page[number]=2')
  t.same(page.body.meta, { page_number: 2, page_size: 2, total_pages: 2, total_results: 3 })
  t.same(
    page.body.data.map((number) => number.id),
    [first.id],
    'newest first: the first bought is last',
  )
})

t.test(
  'DELETE /phone_numbers/{id} answers 200 {data}, then 404; the ledger forgets the number',
  async (t) => {
    const { emulator, call, buy } = await start(t, { orderSettleMs: 10 })
    const { number } = await buy()
    const deleted = await call<{ data: PhoneNumberRecord }>('DELETE', `/phone_numbers/${number.id}`)
    t.equal(deleted.status, 200)
    t.match(deleted.body.data, { id: number.id, phone_number: number.phone_number, status: 'deleted' })
    t.equal((await call('DELETE', `/phone_numbers/${number.id}`)).status, 404, 'then 404')
    t.equal((await call('GET', `/phone_numbers/${number.id}`)).status, 404)
    t.equal(emulator.ledger.all('number').length, 0)
    t.equal(emulator.ledger.snapshot().created.number, 1, 'one number was ever bought')
  },
)

t.test('fault knobs: 429 storms with Retry-After and code 10011, injected 5xx, per operation', async (t) => {
  const { emulator, call } = await start(t, {
    faults: [{ operation: 'ListPhoneNumbers', rateLimitStorm: { retryAfterSeconds: 3 }, times: 2 }],
  })
  for (let i = 0; i < 2; i++) {
    const limited = await call<TelnyxErrorBody>('GET', '/phone_numbers')
    t.equal(limited.status, 429)
    t.equal(limited.headers.get('retry-after'), '3')
    t.match(limited.body.errors[0], { code: '10011', title: 'Too many requests' })
  }
  t.equal((await call('GET', '/phone_numbers')).status, 200, 'the storm is over after `times`')
  t.equal((await call('GET', '/messaging_profiles')).status, 200, 'other operations were never touched')

  emulator.faults.add({ operation: 'CreateMessagingProfile', errorRate: 1, errorStatus: 503, times: 1 })
  const failed = await call<TelnyxErrorBody>('POST', '/messaging_profiles', {
    body: { name: 'x', whitelisted_destinations: ['US'] },
  })
  t.equal(failed.status, 503)
  t.equal(failed.body.errors[0]?.code, '10007')
  t.equal(emulator.ledger.all('messagingProfile').length, 1, 'a failure before the work made nothing')

  const requests = emulator.ledger.requests()
  t.same(
    requests.slice(0, 3).map((request) => [request.operation, request.status]),
    [
      ['ListPhoneNumbers', 429],
      ['ListPhoneNumbers', 429],
      ['ListPhoneNumbers', 200],
    ],
    'the request log records operation and status',
  )
  t.equal(requests[0]?.credential, emulator.apiKey.slice(-4), 'only the key’s last 4 characters are kept')
})

t.test('a failure after the work: the order exists though the client saw a 500', async (t) => {
  const { emulator, call, search } = await start(t, {
    orderSettleMs: 10,
    faults: [{ operation: 'CreateNumberOrder', errorRate: 1, failAfterWork: true, times: 1 }],
  })
  const phoneNumber = ((await search(`${SMS_US}&filter[limit]=1`)).data[0] as Available).phone_number
  const answer = await call('POST', '/number_orders', {
    body: { phone_numbers: [{ phone_number: phoneNumber }], customer_reference: 'lost' },
  })
  t.equal(answer.status, 500)
  const found = await call<Page<NumberOrder>>('GET', '/number_orders?filter[customer_reference]=lost')
  t.equal(found.body.data.length, 1, 'the order is findable by its customer_reference')
  t.equal(emulator.ledger.all('order').length, 1)
})

t.test('control routes: ledger snapshot and reset', async (t) => {
  const { emulator, buy } = await start(t, { orderSettleMs: 10 })
  await buy()
  const base = emulator.url.replace(/\/v2$/, '')
  const snapshot = (await (await fetch(`${base}/__emulator/ledger`)).json()) as {
    live: Record<string, unknown[]>
    created: Record<string, number>
  }
  t.equal(snapshot.live.number?.length, 1)
  t.equal(snapshot.live.order?.length, 1)
  t.equal(snapshot.live.messagingProfile?.length, 1)
  await fetch(`${base}/__emulator/reset`, { method: 'POST' })
  t.same(emulator.ledger.snapshot().live, {}, 'reset forgets everything')
})

t.test(
  'the contract check catches a wrong body',
  { skip: contract ? false : CONTRACTS_MISSING },
  async (t) => {
    const wrong = contract?.responseViolations('GET', '/phone_numbers', 200, {
      data: [{ id: 1293, phone_number: '+13125550100' }],
    })
    t.ok((wrong ?? []).length > 0, `violations: ${wrong?.join('; ')}`)
    const wrongOrder = contract?.responseViolations('POST', '/number_orders', 200, {
      data: { id: 'not-a-uuid', status: 'done' },
    })
    t.ok((wrongOrder ?? []).length >= 2, `violations: ${wrongOrder?.join('; ')}`)
  },
)
