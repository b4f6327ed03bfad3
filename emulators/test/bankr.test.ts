import t, { type Test } from 'tap'
import {
  type ApiKeyRecord,
  type BankrEmulatorOptions,
  startBankrEmulator,
  type Wallet,
} from '../src/bankr/index.js'
import { type Answer, type RequestBody, send } from './support/http.js'

// Bankr publishes no machine-readable contract: these tests pin the documented parts (path, header, body
// fields, 201, the partner-key 401 messages, the 429 body) and the emulator's marked assumptions.

type WalletAnswer = Wallet & { apiKey?: string }

async function start(test: Test, options: BankrEmulatorOptions = {}) {
  const emulator = await startBankrEmulator(options)
  test.teardown(() => emulator.close())
  /** Calls the emulator as a client would: the partner key unless told otherwise, or a wallet's own key. */
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    init: RequestBody & { partnerKey?: string | null; apiKey?: string } = {},
  ): Promise<Answer<T>> => {
    const headers: Record<string, string> = {}
    const partnerKey = init.partnerKey === undefined ? emulator.partnerKey : init.partnerKey
    if (partnerKey !== null && init.apiKey === undefined) headers['x-partner-key'] = partnerKey
    if (init.apiKey !== undefined) headers['x-api-key'] = init.apiKey
    return send<T>(emulator.url + path, method, headers, init)
  }
  return { emulator, call }
}

const KEY_FLAGS = {
  agentApiEnabled: true,
  llmGatewayEnabled: false,
  tokenLaunchApiEnabled: false,
  readOnly: false,
}

t.test('the partner key: required, checked, in the documented format', async (t) => {
  const { emulator, call } = await start(t)
  t.match(emulator.partnerKey, /^bk_ptr_[0-9a-f]{8}_[0-9a-f]{32}$/)
  const missing = await call('POST', '/partner/wallets', { partnerKey: null, body: {} })
  t.equal(missing.status, 401)
  t.same(missing.body, { error: 'Partner API key required' })
  const wrong = await call('POST', '/partner/wallets', { partnerKey: 'bk_ptr_00000000_wrong', body: {} })
  t.equal(wrong.status, 401)
  t.match(wrong.body.error, /invalid or inactive/i)
  for (const [method, path] of [
    ['GET', '/partner/wallets'],
    ['GET', '/partner/wallets/wlt_x'],
    ['DELETE', '/partner/wallets/wlt_x'],
  ]) {
    t.equal(
      (await call(method as string, path as string, { partnerKey: null })).status,
      401,
      `${method} ${path}`,
    )
  }
  t.equal(emulator.ledger.all('wallet').length, 0, 'nothing made')
})

t.test('POST /partner/wallets → 201 with a wlt_ id, an EVM address and a one-time bk_usr_ key', async (t) => {
  const { emulator, call } = await start(t)
  const created = await call<WalletAnswer>('POST', '/partner/wallets', {
    body: { idempotencyKey: 'inst-1:crypto', apiKey: { permissions: KEY_FLAGS } },
  })
  t.equal(created.status, 201)
  t.match(created.body, {
    id: /^wlt_[a-z0-9]{24}$/,
    evmAddress: /^0x[0-9a-f]{40}$/,
    idempotencyKey: 'inst-1:crypto',
    apiKey: /^bk_usr_[a-z0-9]{8}_[a-z0-9]{32}$/,
    apiKeyPermissions: KEY_FLAGS,
  })
  t.notOk('solanaAddress' in created.body, 'no Solana wallet unless asked')
  const { apiKey: _shownOnce, ...stored } = created.body
  t.same(emulator.ledger.all<Wallet>('wallet'), [stored], 'the ledger holds the wallet, not its key')
  const keys = emulator.ledger.all<ApiKeyRecord>('apiKey')
  t.equal(keys.length, 1)
  t.notOk(
    JSON.stringify(keys).includes(created.body.apiKey as string),
    'the ledger never holds the plaintext key',
  )

  const withSolana = await call<WalletAnswer>('POST', '/partner/wallets', {
    body: { wallet: { solana: true } },
  })
  t.equal(withSolana.status, 201)
  t.match(withSolana.body.solanaAddress, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/)
  t.notOk('apiKey' in withSolana.body, 'no key unless asked')
  const empty = await call<WalletAnswer>('POST', '/partner/wallets', { raw: '' })
  t.equal(empty.status, 201, 'the body is optional')
})

t.test('the same idempotencyKey returns the same wallet (200), without showing the key again', async (t) => {
  const { emulator, call } = await start(t)
  const body = { idempotencyKey: 'inst-2:crypto', apiKey: { permissions: KEY_FLAGS } }
  const first = await call<WalletAnswer>('POST', '/partner/wallets', { body })
  const again = await call<WalletAnswer>('POST', '/partner/wallets', { body })
  t.equal(again.status, 200)
  t.equal(again.body.id, first.body.id)
  t.equal(again.body.evmAddress, first.body.evmAddress)
  t.notOk('apiKey' in again.body, 'the key is shown once')
  t.equal(emulator.ledger.all('wallet').length, 1)
  t.equal(emulator.ledger.snapshot().created.wallet, 1)
  const other = await call<WalletAnswer>('POST', '/partner/wallets', {
    body: { ...body, idempotencyKey: 'inst-3:crypto' },
  })
  t.not(other.body.id, first.body.id, 'another key, another wallet')
})

t.test('replayApiKey: a repeat answers the first answer whole', async (t) => {
  const { call } = await start(t, { replayApiKey: true })
  const body = { idempotencyKey: 'k', apiKey: { permissions: KEY_FLAGS } }
  const first = await call<WalletAnswer>('POST', '/partner/wallets', { body })
  const again = await call<WalletAnswer>('POST', '/partner/wallets', { body })
  t.equal(again.status, 200)
  t.equal(again.body.apiKey, first.body.apiKey)
})

t.test('POST /partner/wallets validates its body with 400 {error, message}', async (t) => {
  const { emulator, call } = await start(t)
  const cases: Array<[string, unknown]> = [
    ['idempotencyKey too long', { idempotencyKey: 'x'.repeat(129) }],
    ['idempotencyKey empty', { idempotencyKey: '' }],
    ['idempotencyKey not a string', { idempotencyKey: 5 }],
    ['wallet not an object', { wallet: 'solana' }],
    ['wallet.solana not a boolean', { wallet: { solana: 'yes' } }],
    ['apiKey not an object', { apiKey: true }],
    ['a permission not a boolean', { apiKey: { permissions: { readOnly: 'no' } } }],
    ['allowedIps not strings', { apiKey: { allowedIps: [1] } }],
    ['allowedRecipients.evm not addresses', { apiKey: { allowedRecipients: { evm: ['0x12'] } } }],
    ['not an object', [1]],
  ]
  for (const [name, body] of cases) {
    const answer = await call<{ error: string; message: string }>('POST', '/partner/wallets', { body })
    t.equal(answer.status, 400, name)
    t.equal(answer.body.error, 'Invalid request')
    t.type(answer.body.message, 'string')
  }
  t.equal(
    (await call('POST', '/partner/wallets', { raw: '{"idempotencyKey":' })).status,
    400,
    'malformed JSON',
  )
  t.equal(
    (await call('POST', '/partner/wallets', { body: { idempotencyKey: 'x'.repeat(128) } })).status,
    201,
    '128 is fine',
  )
  const readOnly = await call<WalletAnswer>('POST', '/partner/wallets', { body: { apiKey: {} } })
  t.equal(readOnly.body.apiKeyPermissions?.readOnly, true, 'keys are read-only by default (documented)')
  t.equal(emulator.ledger.all('wallet').length, 2)
})

t.test('GET /partner/wallets/{id}, list by idempotencyKey with paging, DELETE then 404', async (t) => {
  const { emulator, call } = await start(t)
  const made: WalletAnswer[] = []
  for (let i = 0; i < 5; i++) {
    made.push(
      (await call<WalletAnswer>('POST', '/partner/wallets', { body: { idempotencyKey: `k-${i}` } })).body,
    )
  }
  const one = made[2] as WalletAnswer
  const got = await call<Wallet>('GET', `/partner/wallets/${one.id}`)
  t.equal(got.status, 200)
  t.same(got.body, one)

  const byKey = await call<{ wallets: Wallet[]; nextCursor: string | null }>(
    'GET',
    '/partner/wallets?idempotencyKey=k-2',
  )
  t.same(
    byKey.body.wallets.map((w) => w.id),
    [one.id],
  )
  t.equal(byKey.body.nextCursor, null)
  t.same((await call<{ wallets: Wallet[] }>('GET', '/partner/wallets?idempotencyKey=none')).body.wallets, [])

  const seen: string[] = []
  let cursor: string | null = null
  for (let page = 0; page < 5; page++) {
    const path: string = `/partner/wallets?limit=2${cursor ? `&cursor=${cursor}` : ''}`
    const answer: Answer<{ wallets: Wallet[]; nextCursor: string | null }> = await call('GET', path)
    seen.push(...answer.body.wallets.map((w) => w.id))
    cursor = answer.body.nextCursor
    if (!cursor) break
  }
  t.same(
    seen,
    made.map((w) => w.id),
    'pages of 2 walk every wallet once, oldest first',
  )
  t.equal((await call('GET', '/partner/wallets?limit=0')).status, 400)
  t.equal((await call('GET', '/partner/wallets?cursor=wlt_unknown')).status, 400)

  const deleted = await call('DELETE', `/partner/wallets/${one.id}`)
  t.equal(deleted.status, 200)
  t.same(deleted.body, { id: one.id, deleted: true })
  t.equal((await call('DELETE', `/partner/wallets/${one.id}`)).status, 404, 'then 404')
  const gone = await call('GET', `/partner/wallets/${one.id}`)
  t.equal(gone.status, 404)
  t.same(gone.body, { error: 'Wallet not found' })
  t.equal(emulator.ledger.all('wallet').length, 4)

  const recreated = await call<WalletAnswer>('POST', '/partner/wallets', { body: { idempotencyKey: 'k-2' } })
  t.equal(recreated.status, 201, 'a deleted wallet frees its idempotencyKey')
  t.not(recreated.body.id, one.id)
})

t.test('GET /wallet/me with a wallet’s own key; deleting the wallet revokes the key', async (t) => {
  const { emulator, call } = await start(t)
  const created = await call<WalletAnswer>('POST', '/partner/wallets', {
    body: { idempotencyKey: 'me', apiKey: { permissions: KEY_FLAGS } },
  })
  const apiKey = created.body.apiKey as string
  const me = await call('GET', '/wallet/me', { apiKey })
  t.equal(me.status, 200)
  t.match(me.body, { evmAddress: created.body.evmAddress, walletId: created.body.id, permissions: KEY_FLAGS })
  t.same((await call('GET', '/wallet/me', { apiKey: 'bk_usr_nope' })).body, { error: 'Invalid API key' })
  t.equal((await call('GET', '/wallet/me', { partnerKey: null })).status, 401, 'no key')
  t.equal(
    (await call('GET', '/wallet/me', { partnerKey: emulator.partnerKey })).status,
    401,
    'the partner key is not a user key',
  )

  const user = emulator.createUserAccount()
  const own = await call('GET', '/wallet/me', { apiKey: user.apiKey })
  t.equal(own.body.evmAddress, user.evmAddress, 'a user’s own account works too')

  await call('DELETE', `/partner/wallets/${created.body.id}`)
  t.equal((await call('GET', '/wallet/me', { apiKey })).status, 401, 'revoked with its wallet')
  t.equal(emulator.ledger.all('apiKey').length, 1, 'only the user’s key is left')
})

t.test('rate limit: 429 {error, message, resetAt, limit, used} with Retry-After', async (t) => {
  const { call } = await start(t, { rateLimit: { limit: 2, windowMs: 60_000 } })
  t.equal((await call('GET', '/partner/wallets')).status, 200)
  t.equal((await call('GET', '/partner/wallets')).status, 200)
  const limited = await call<{
    error: string
    message: string
    resetAt: string
    limit: number
    used: number
  }>('GET', '/partner/wallets')
  t.equal(limited.status, 429)
  t.match(limited.body, { error: 'Rate limit exceeded', limit: 2, used: 3 })
  t.type(limited.body.message, 'string')
  const resetIn = Date.parse(limited.body.resetAt) - Date.now()
  t.ok(resetIn > 0 && resetIn <= 60_000, 'resetAt is within the window')
  const retryAfter = Number(limited.headers.get('retry-after'))
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
})

t.test('fault knobs: injected 5xx, storms, failures after the work; the request log', async (t) => {
  const { emulator, call } = await start(t, {
    faults: [{ operation: 'createWallet', errorRate: 1, errorStatus: 502, times: 1 }],
  })
  const failed = await call('POST', '/partner/wallets', { body: { idempotencyKey: 'f' } })
  t.equal(failed.status, 502)
  t.equal(failed.body.error, 'Internal server error')
  t.equal(emulator.ledger.all('wallet').length, 0, 'failed before the work')

  emulator.faults.add({ operation: 'createWallet', errorRate: 1, failAfterWork: true, times: 1 })
  t.equal((await call('POST', '/partner/wallets', { body: { idempotencyKey: 'f' } })).status, 500)
  t.equal(emulator.ledger.all('wallet').length, 1, 'made, though the answer was an error')
  t.equal(
    (await call('POST', '/partner/wallets', { body: { idempotencyKey: 'f' } })).status,
    200,
    'the retry finds it',
  )

  emulator.faults.add({ operation: 'listWallets', rateLimitStorm: { retryAfterSeconds: 2 }, times: 1 })
  const storm = await call('GET', '/partner/wallets')
  t.equal(storm.status, 429)
  t.equal(storm.headers.get('retry-after'), '2')
  t.match(storm.body, { error: 'Rate limit exceeded', resetAt: String })

  t.same(
    emulator.ledger.requests().map((r) => [r.operation, r.status]),
    [
      ['createWallet', 502],
      ['createWallet', 500],
      ['createWallet', 200],
      ['listWallets', 429],
    ],
  )
  t.equal(emulator.ledger.requests()[0]?.credential, emulator.partnerKey.slice(-4))
})
