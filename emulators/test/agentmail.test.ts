import t, { type Test } from 'tap'
import { type Inbox, startAgentMailEmulator } from '../src/agentmail/index.js'
import { bearerCaller } from './support/http.js'
import { CONTRACTS_MISSING, loadProviderContract } from './support/provider-contract.js'

const contract = loadProviderContract('agentmail')
if (!contract) t.comment(CONTRACTS_MISSING)

interface ListBody {
  count: number
  limit?: number
  next_page_token?: string
  inboxes: Inbox[]
}

/**
 * Violations of an answer against AgentMail's OpenAPI document. The document declares only 200/204 and the
 * 400 and 404 errors; AgentMail's other errors (401, 403, 429, 5xx) share the same `ErrorResponse` shape
 * (Fern definition), so an undeclared status is checked against that schema through a route declaring it.
 */
function violations(method: string, docPath: string, status: number, body: unknown): string[] {
  if (!contract) return []
  const direct = contract.responseViolations(method, docPath, status, body)
  if (direct.length !== 1 || !direct[0]?.endsWith('is not declared')) return direct
  return status === 400
    ? contract.responseViolations('POST', '/v0/inboxes', 400, body)
    : contract.responseViolations('GET', '/v0/inboxes/{inbox_id}', 404, body)
}

async function start(test: Test, options: Parameters<typeof startAgentMailEmulator>[0] = {}) {
  const emulator = await startAgentMailEmulator(options)
  test.teardown(() => emulator.close())
  /** Calls the emulator as a client would and checks the answer against the document. */
  const call = bearerCaller(emulator.url, emulator.apiKey, (method, path, answer) => {
    if (!contract) return
    const docPath = `/v0${path.split('?')[0]}`
    test.same(
      violations(method, docPath, answer.status, answer.body),
      [],
      `${method} ${docPath} → ${answer.status} conforms to AgentMail's document`,
    )
  })
  const create = async (body?: Record<string, unknown>, token?: string) => {
    const answer = await call('POST', '/inboxes', { ...(body ? { body } : {}), ...(token ? { token } : {}) })
    test.equal(answer.status, 200)
    return answer.body as Inbox
  }
  return { emulator, call, create }
}

const at = (inboxId: string) => `/inboxes/${encodeURIComponent(inboxId)}`

t.test('POST /v0/inboxes creates an inbox; the body is optional', async (t) => {
  const { emulator, call, create } = await start(t)
  const random = await create()
  t.match(random.inbox_id, /^[a-z0-9._-]+@agentmail\.to$/)
  t.equal(random.email, random.inbox_id, 'the inbox id is the address')
  t.type(random.pod_id, 'string')
  t.equal(random.created_at, random.updated_at)

  const named = await create({
    username: 'Support.Bot',
    display_name: 'Support',
    client_id: 'instance-7',
    metadata: { tier: 'pool', n: 3, on: true },
  })
  t.match(named, {
    inbox_id: 'support.bot@agentmail.to',
    display_name: 'Support',
    client_id: 'instance-7',
    metadata: { tier: 'pool', n: 3, on: true },
  })
  t.equal(named.pod_id, random.pod_id, 'one organisation, one pod')

  const emptyJson = await call('POST', '/inboxes', { raw: '' })
  t.equal(emptyJson.status, 200, 'Content-Type json with an empty body is "no fields"')
  t.same(emulator.ledger.snapshot().created, { inbox: 3 })
})

t.test('client_id makes creates idempotent', async (t) => {
  const { emulator, call, create } = await start(t)
  const first = await create({ client_id: 'instance-1:email', display_name: 'One' })
  const again = await create({ client_id: 'instance-1:email', display_name: 'Changed', username: 'other' })
  t.same(again, first, 'the repeat returns the original inbox unchanged')
  t.same(emulator.ledger.snapshot().created, { inbox: 1 }, 'and creates nothing')

  const withAt = await call('POST', '/inboxes', { body: { client_id: 'a@b' } })
  t.equal(withAt.status, 400)
  t.match(withAt.body, {
    name: 'ValidationError',
    code: 'validation_error',
    errors: [{ path: ['client_id'], message: String }],
  })

  await call('DELETE', at(first.inbox_id))
  const afterDelete = await create({ client_id: 'instance-1:email' })
  t.not(afterDelete.inbox_id, first.inbox_id, 'a deleted inbox frees its client_id')
})

t.test('create refusals: taken address, plan cap, unverified domain, bad fields', async (t) => {
  const { call, create } = await start(t, { inboxCap: 2, domains: ['mail.example.com'] })
  await create({ username: 'taken' })
  const taken = await call('POST', '/inboxes', { body: { username: 'TAKEN' } })
  t.equal(taken.status, 403)
  t.match(taken.body, { name: 'IsTakenError', code: 'resource_taken', message: String })

  const custom = await create({ username: 'bot', domain: 'mail.example.com' })
  t.equal(custom.inbox_id, 'bot@mail.example.com', 'a verified domain is accepted')

  const capped = await call('POST', '/inboxes', { body: { username: 'third' } })
  t.equal(capped.status, 403)
  t.match(capped.body, { code: 'limit_exceeded' })
  t.equal((await call('DELETE', at(custom.inbox_id))).status, 204)
  await create({ username: 'third' })

  const cases: Array<[string, unknown]> = [
    ['unverified domain', { domain: 'nope.example' }],
    ['username with spaces', { username: 'a b' }],
    ['display_name not a string', { display_name: 5 }],
    ['metadata not an object', { metadata: 'x' }],
    ['metadata value too long', { metadata: { k: 'x'.repeat(257) } }],
    ['body not an object', [1]],
  ]
  for (const [label, body] of cases) {
    const answer = await call('POST', '/inboxes', { body })
    t.equal(answer.status, 400, label)
    t.match(answer.body, { code: 'validation_error', errors: Array }, label)
  }
})

t.test('GET /v0/inboxes pages with page_token, newest first', async (t) => {
  const { call, create } = await start(t)
  const made: string[] = []
  for (let i = 0; i < 25; i++) made.push((await create({ username: `inbox-${i}` })).inbox_id)

  const pages: ListBody[] = []
  let token: string | undefined
  do {
    const answer = await call('GET', `/inboxes?limit=10${token ? `&page_token=${token}` : ''}`)
    t.equal(answer.status, 200)
    const page = answer.body as ListBody
    pages.push(page)
    token = page.next_page_token
  } while (token)
  t.same(
    pages.map((page) => [page.count, page.inboxes.length, page.limit]),
    [
      [10, 10, 10],
      [10, 10, 10],
      [5, 5, 10],
    ],
  )
  t.same(
    pages.flatMap((page) => page.inboxes.map((inbox) => inbox.inbox_id)),
    [...made].reverse(),
    'every inbox once, newest first',
  )
  const ascending = (await call('GET', '/inboxes?ascending=true&limit=3')).body as ListBody
  t.same(
    ascending.inboxes.map((inbox) => inbox.inbox_id),
    made.slice(0, 3),
  )
  const defaults = (await call('GET', '/inboxes')).body as ListBody
  t.equal(defaults.count, 10, 'the default page size is 10')

  // A delete between pages does not lose the cursor's place.
  const firstPage = (await call('GET', '/inboxes?limit=5')).body as ListBody
  await call('DELETE', at(firstPage.inboxes[4]?.inbox_id ?? ''))
  const second = (await call('GET', `/inboxes?limit=5&page_token=${firstPage.next_page_token}`))
    .body as ListBody
  t.equal(second.inboxes[0]?.inbox_id, made[19])

  for (const query of ['?limit=0', '?limit=x', '?page_token=garbage', '?ascending=maybe']) {
    const answer = await call('GET', `/inboxes${query}`)
    t.equal(answer.status, 400, query)
    t.match(answer.body, { code: 'validation_error' })
  }
})

t.test('GET, PATCH and DELETE /v0/inboxes/{inbox_id}, with the address URL-encoded', async (t) => {
  const { emulator, call, create } = await start(t)
  const inbox = await create({ username: 'agent', metadata: { a: '1', b: '2' } })
  t.same((await call('GET', at(inbox.inbox_id))).body, inbox)
  t.equal((await call('GET', '/inboxes/agent@agentmail.to')).status, 200, 'an unencoded @ works too')

  const renamed = await call('PATCH', at(inbox.inbox_id), {
    body: { display_name: 'Agent', metadata: { a: null, c: 3 } },
  })
  t.equal(renamed.status, 200)
  t.match(renamed.body, { display_name: 'Agent', metadata: { b: '2', c: 3 } })
  t.notOk('a' in ((renamed.body as Inbox).metadata ?? {}), 'a null value removes the key')
  const cleared = await call('PATCH', at(inbox.inbox_id), { body: { metadata: null } })
  t.notOk('metadata' in (cleared.body as Inbox), 'metadata: null clears all')
  for (const body of [{}, { metadata: {} }]) {
    const answer = await call('PATCH', at(inbox.inbox_id), { body })
    t.equal(answer.status, 400, JSON.stringify(body))
  }

  const deleted = await call('DELETE', at(inbox.inbox_id))
  t.equal(deleted.status, 204)
  t.equal(deleted.body, undefined, '204 has no body')
  t.equal(emulator.ledger.all('inbox').length, 0)
  for (const [method, body] of [['GET'], ['DELETE'], ['PATCH', { display_name: 'x' }]] as const) {
    const answer = await call(method, at(inbox.inbox_id), body ? { body } : {})
    t.equal(answer.status, 404, `${method} after delete`)
    t.match(answer.body, { name: 'NotFoundError', code: 'not_found', message: String })
  }
})

t.test('Bearer auth, and one organisation never sees another’s inboxes', async (t) => {
  const other = 'am_other_org_key_0000000000000000000000'
  const { call, create } = await start(t, { otherApiKeys: [other] })
  const missing = await call('GET', '/inboxes', { token: null })
  t.equal(missing.status, 401)
  t.match(missing.body, { code: 'missing_authorization' })
  const unknown = await call('POST', '/inboxes', { token: 'am_unknown', body: {} })
  t.equal(unknown.status, 401)
  t.match(unknown.body, { code: 'unknown_api_key', name: String, message: String })

  const mine = await create({ client_id: 'same' })
  const theirs = await create({ client_id: 'same' }, other)
  t.not(theirs.inbox_id, mine.inbox_id, 'client_id is scoped to the organisation')
  t.not(theirs.pod_id, mine.pod_id)
  t.equal((await call('GET', at(theirs.inbox_id))).status, 404, 'outside your scope is not_found')
  t.equal((await call('DELETE', at(theirs.inbox_id))).status, 404)
  const listed = (await call('GET', '/inboxes')).body as ListBody
  t.same(
    listed.inboxes.map((inbox) => inbox.inbox_id),
    [mine.inbox_id],
  )
  const taken = await call('POST', '/inboxes', {
    token: other,
    body: { username: mine.inbox_id.split('@')[0] },
  })
  t.equal(taken.status, 403, 'addresses are unique across organisations')
})

t.test('fault knobs: injected errors, lost answers, 429 storms', async (t) => {
  const { emulator, call } = await start(t, {
    faults: [{ operation: 'inboxes_create', errorRate: 1, errorStatus: 503, times: 1 }],
  })
  const unavailable = await call('POST', '/inboxes', { body: { client_id: 'c' } })
  t.equal(unavailable.status, 503)
  t.match(unavailable.body, { code: 'service_unavailable' })
  t.equal(emulator.ledger.all('inbox').length, 0)

  emulator.faults.add({ operation: 'inboxes_create', errorRate: 1, failAfterWork: true, times: 1 })
  t.equal((await call('POST', '/inboxes', { body: { client_id: 'c' } })).status, 500)
  const made = emulator.ledger.all<Inbox>('inbox')
  t.equal(made.length, 1, 'the work happened before the answer failed')
  const retried = await call('POST', '/inboxes', { body: { client_id: 'c' } })
  t.equal((retried.body as Inbox).inbox_id, made[0]?.inbox_id, 'a retry with the client_id gets that inbox')
  t.same(emulator.ledger.snapshot().created, { inbox: 1 })

  emulator.faults.add({ operation: 'inboxes_list', rateLimitStorm: { retryAfterSeconds: 3 }, times: 1 })
  const limited = await call('GET', '/inboxes')
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '3')
  t.match(limited.body, { code: 'rate_limit_exceeded' })
  t.same(
    emulator.ledger.requests().map((entry) => [entry.operation, entry.status]),
    [
      ['inboxes_create', 503],
      ['inboxes_create', 500],
      ['inboxes_create', 200],
      ['inboxes_list', 429],
    ],
  )
})

t.test('the contract check can fail', { skip: contract ? false : CONTRACTS_MISSING }, async (t) => {
  const { create } = await start(t)
  const inbox = await create({ client_id: 'x' })
  const { inbox_id: _id, ...withoutId } = inbox
  t.notSame(contract?.responseViolations('POST', '/v0/inboxes', 200, withoutId), [])
  t.notSame(
    contract?.responseViolations('GET', '/v0/inboxes', 200, { inboxes: [inbox] }),
    [],
    'count is required',
  )
  t.notSame(contract?.responseViolations('GET', '/v0/inboxes/{inbox_id}', 404, { code: 'not_found' }), [])
  t.notSame(contract?.responseViolations('POST', '/v0/inboxes', 400, { name: 'ValidationError' }), [])
  t.notSame(
    contract?.responseViolations('DELETE', '/v0/inboxes/x', 204, { deleted: true }),
    [],
    '204 has no body',
  )
  t.notSame(contract?.requestViolations('POST', '/v0/inboxes', { client_id: 5 }), [])
  t.notSame(violations('GET', '/v0/inboxes', 401, { code: 'unknown_api_key' }), [], 'the fallback check too')
})
