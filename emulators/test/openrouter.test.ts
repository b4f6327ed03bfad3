import t, { type Test } from 'tap'
import { type ApiKey, PAGE_SIZE, startOpenRouterEmulator } from '../src/openrouter/index.js'
import { bearerCaller } from './support/http.js'
import { CONTRACTS_MISSING, loadProviderContract } from './support/provider-contract.js'

const contract = loadProviderContract('openrouter')
if (!contract) t.comment(CONTRACTS_MISSING)

/** Starts an emulator for one test and closes it in the test's teardown. */
async function start(test: Test, options: Parameters<typeof startOpenRouterEmulator>[0] = {}) {
  const emulator = await startOpenRouterEmulator(options)
  test.teardown(() => emulator.close())
  /**
   * Calls the emulator as a client would, then checks the answer against OpenRouter's OpenAPI document
   * (path as the document writes it: `/keys`, not `/api/v1/keys`).
   */
  const call = bearerCaller(emulator.url, emulator.managementKey, (method, path, answer) => {
    if (!contract) return
    const docPath = path.split('?')[0] as string
    test.same(
      contract.responseViolations(method, docPath, answer.status, answer.body),
      [],
      `${method} ${docPath} → ${answer.status} conforms to OpenRouter's document`,
    )
  })
  const createKey = async (body: Record<string, unknown>) => {
    const answer = await call('POST', '/keys', { body })
    test.equal(answer.status, 201)
    return answer.body as { key: string; data: ApiKey }
  }
  return { emulator, call, createKey }
}

t.test('POST /keys creates a key; its plaintext appears once and never in the ledger', async (t) => {
  const { emulator, call, createKey } = await start(t)
  const { key, data } = await createKey({ name: 'instance-1', limit: 5, limit_reset: 'monthly' })
  t.match(key, /^sk-or-v1-[0-9a-f]{64}$/)
  t.match(data.hash, /^[0-9a-f]{64}$/)
  t.not(data.hash, key)
  t.match(data, {
    name: 'instance-1',
    limit: 5,
    limit_remaining: 5,
    limit_reset: 'monthly',
    disabled: false,
    usage: 0,
    expires_at: null,
  })
  t.notOk(data.label.includes(key.slice(12, -3)), 'the label masks the key')

  const got = await call('GET', `/keys/${data.hash}`)
  t.same(got.body, { data }, 'GET returns the same key, without the plaintext')
  t.notOk(JSON.stringify(got.body).includes(key))

  const snapshot = emulator.ledger.snapshot()
  t.same(snapshot.created, { key: 1 })
  t.equal(emulator.ledger.all('key').length, 1)
  t.notOk(JSON.stringify(snapshot).includes(key), 'the ledger holds no plaintext')
  const viaRoute = await fetch(emulator.url.replace('/api/v1', '/__emulator/ledger')).then((r) => r.text())
  t.notOk(viaRoute.includes(key), '/__emulator/ledger shows no plaintext')
  t.ok(viaRoute.includes(data.hash))
})

t.test('POST /keys rejects bodies the document or OpenRouter refuses with 400', async (t) => {
  const { emulator, call } = await start(t)
  const cases: Array<[string, { body?: unknown; raw?: string }]> = [
    ['no name', { body: { limit: 1 } }],
    ['empty name', { body: { name: '' } }],
    ['unknown reset period', { body: { name: 'x', limit_reset: 'yearly' } }],
    ['negative limit', { body: { name: 'x', limit: -1 } }],
    ['limit as a string', { body: { name: 'x', limit: '5' } }],
    ['expiry not in UTC', { body: { name: 'x', expires_at: '2099-01-01T00:00:00+02:00' } }],
    ['expiry in the past', { body: { name: 'x', expires_at: '2001-01-01T00:00:00Z' } }],
    ['workspace_id not a uuid', { body: { name: 'x', workspace_id: 'ws-1' } }],
    ['no body', {}],
    ['malformed JSON', { raw: '{"name":' }],
  ]
  for (const [label, init] of cases) {
    const answer = await call('POST', '/keys', init)
    t.equal(answer.status, 400, label)
    t.match(answer.body, { error: { code: 400, message: String } }, label)
  }
  t.equal(emulator.ledger.all('key').length, 0, 'nothing was created')
  const valid = await call('POST', '/keys', {
    body: { name: 'x', expires_at: '2099-01-01T00:00:00Z', limit: null },
  })
  t.equal(valid.status, 201, 'a UTC expiry and a null limit are accepted')
})

t.test('only the management key may manage keys', async (t) => {
  const { call, createKey } = await start(t)
  const missing = await call('GET', '/keys', { token: null })
  t.equal(missing.status, 401)
  t.same(missing.body, { error: { code: 401, message: 'Missing Authentication header' } })
  const unknown = await call('POST', '/keys', { token: 'sk-or-v1-nope', body: { name: 'x' } })
  t.equal(unknown.status, 401)
  t.match(unknown.body, { error: { code: 401 } })

  const { key } = await createKey({ name: 'inference' })
  const refused = await call('POST', '/keys', { token: key, body: { name: 'y' } })
  t.equal(refused.status, 403)
  t.same(refused.body, { error: { code: 403, message: 'Only management keys can perform this operation' } })
})

t.test('GET /key describes the caller’s own key', async (t) => {
  const { call, createKey } = await start(t)
  const { key, data } = await createKey({ name: 'mine', limit: 3, limit_reset: 'daily' })
  const own = await call('GET', '/key', { token: key })
  t.equal(own.status, 200)
  t.match(own.body, { data: { label: data.label, limit: 3, limit_reset: 'daily', is_management_key: false } })
  const management = await call('GET', '/key')
  t.match(management.body, { data: { is_management_key: true, is_provisioning_key: true } })
  t.equal((await call('GET', '/key', { token: 'sk-or-v1-unknown' })).status, 401)

  await call('PATCH', `/keys/${data.hash}`, { body: { disabled: true } })
  t.equal((await call('GET', '/key', { token: key })).status, 401, 'a disabled key authenticates nothing')
})

t.test('GET /keys lists the most recent 100 per page, paged with offset', async (t) => {
  const { call, createKey } = await start(t)
  const total = 2 * PAGE_SIZE + 5
  const made: string[] = []
  for (let i = 0; i < total; i++) made.push((await createKey({ name: `key-${i}` })).data.hash)

  const pages: ApiKey[][] = []
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const answer = await call('GET', `/keys?offset=${offset}`)
    t.equal(answer.status, 200)
    const page = (answer.body as { data: ApiKey[] }).data
    pages.push(page)
    if (page.length === 0) break
  }
  t.same(
    pages.map((page) => page.length),
    [PAGE_SIZE, PAGE_SIZE, 5, 0],
  )
  const listed = pages.flat().map((key) => key.hash)
  t.same(listed, [...made].reverse(), 'every key once, most recent first')
  const first = (await call('GET', '/keys')).body as { data: ApiKey[] }
  t.equal(first.data[0]?.name, `key-${total - 1}`, 'no offset = offset 0')
})

t.test('GET /keys hides disabled keys unless asked, and filters by workspace', async (t) => {
  const { call, createKey } = await start(t)
  const kept = await createKey({ name: 'kept' })
  const disabled = await createKey({ name: 'disabled' })
  const elsewhere = await createKey({
    name: 'other-ws',
    workspace_id: '11111111-2222-4333-8444-555555555555',
  })
  await call('PATCH', `/keys/${disabled.data.hash}`, { body: { disabled: true } })

  const names = async (query: string) =>
    ((await call('GET', `/keys${query}`)).body as { data: ApiKey[] }).data.map((key) => key.name)
  t.same(await names(''), ['kept'])
  t.same(await names('?include_disabled=true'), ['disabled', 'kept'])
  t.same(await names('?workspace_id=11111111-2222-4333-8444-555555555555'), ['other-ws'])
  t.equal(elsewhere.data.workspace_id, '11111111-2222-4333-8444-555555555555')
  t.equal(kept.data.workspace_id, disabled.data.workspace_id)

  for (const query of ['?offset=-1', '?offset=abc', '?include_disabled=yes', '?workspace_id=nope']) {
    const answer = await call('GET', `/keys${query}`)
    t.equal(answer.status, 400, query)
    t.match(answer.body, { error: { code: 400 } })
  }
})

t.test('GET, PATCH and DELETE /keys/{hash}; 404 in OpenRouter’s shape', async (t) => {
  const { emulator, call, createKey } = await start(t)
  const { data } = await createKey({ name: 'k', limit: 10 })
  const patched = await call('PATCH', `/keys/${data.hash}`, { body: { limit: 25, limit_reset: 'weekly' } })
  t.equal(patched.status, 200)
  t.match(patched.body, { data: { hash: data.hash, limit: 25, limit_remaining: 25, limit_reset: 'weekly' } })
  t.type((patched.body as { data: ApiKey }).data.updated_at, 'string')
  t.match(emulator.ledger.get('key', data.hash), { limit: 25 }, 'the ledger follows the change')

  const badPatch = await call('PATCH', `/keys/${data.hash}`, { body: { limit_reset: 'hourly' } })
  t.equal(badPatch.status, 400)

  const deleted = await call('DELETE', `/keys/${data.hash}`)
  t.equal(deleted.status, 200)
  t.same(deleted.body, { deleted: true })
  t.equal(emulator.ledger.all('key').length, 0)

  for (const [method, body] of [['GET'], ['DELETE'], ['PATCH', { limit: 1 }]] as const) {
    const answer = await call(method, `/keys/${data.hash}`, body ? { body } : {})
    t.equal(answer.status, 404, `${method} after delete`)
    t.match(answer.body, { error: { code: 404, message: String } })
  }
})

t.test('fault knobs: injected errors, failures after the work, 429 storms, latency', async (t) => {
  const { emulator, call } = await start(t, {
    faults: [{ operation: 'createKeys', errorRate: 1, errorStatus: 500, times: 1 }],
  })
  const failed = await call('POST', '/keys', { body: { name: 'a' } })
  t.equal(failed.status, 500)
  t.same(failed.body, { error: { code: 500, message: 'Injected fault' } })
  t.equal(emulator.ledger.all('key').length, 0, 'an injected error does no work')
  t.equal((await call('POST', '/keys', { body: { name: 'a' } })).status, 201, 'the rule fired once')

  emulator.faults.add({ operation: 'createKeys', errorRate: 1, failAfterWork: true, times: 1 })
  t.equal((await call('POST', '/keys', { body: { name: 'b' } })).status, 500)
  t.same(
    emulator.ledger.all<ApiKey>('key').map((key) => key.name),
    ['a', 'b'],
    'failAfterWork made the key, then failed the answer',
  )

  emulator.faults.add({ operation: 'list', rateLimitStorm: { retryAfterSeconds: 7 }, times: 2 })
  const limited = await call('GET', '/keys')
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '7')
  t.match(limited.body, { error: { code: 429 } })
  t.equal((await call('GET', '/keys/whatever')).status, 404, 'the storm is scoped to its operation')

  const log = emulator.ledger.requests()
  t.same(
    log.map((entry) => [entry.operation, entry.status]),
    [
      ['createKeys', 500],
      ['createKeys', 201],
      ['createKeys', 500],
      ['list', 429],
      ['getKey', 404],
    ],
  )

  const slow = await start(t, { latencyMs: 150 })
  const began = performance.now()
  await slow.call('GET', '/keys')
  t.ok(performance.now() - began >= 140, 'latencyMs delays the answer (lower bound only)')
})

t.test('the contract check can fail', { skip: contract ? false : CONTRACTS_MISSING }, async (t) => {
  const { createKey } = await start(t)
  const { key, data } = await createKey({ name: 'k' })
  const withoutHash: Record<string, unknown> = { ...data }
  delete withoutHash.hash
  t.notSame(contract?.responseViolations('POST', '/keys', 201, { key, data: withoutHash }), [])
  t.notSame(contract?.responseViolations('POST', '/keys', 201, { data }), [], 'the plaintext is required')
  t.notSame(contract?.responseViolations('GET', '/keys/x', 404, { error: { code: '404', message: 'x' } }), [])
  t.notSame(contract?.responseViolations('DELETE', '/keys/x', 200, { deleted: 'yes' }), [])
  t.notSame(contract?.requestViolations('POST', '/keys', { limit: 5 }), [], 'a create without name')
  t.notSame(contract?.requestViolations('PATCH', '/keys/x', { limit_reset: 'hourly' }), [])
})
