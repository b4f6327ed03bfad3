import t, { type Test } from 'tap'
import {
  type BankrEmulator,
  type BankrEmulatorOptions,
  startBankrEmulator,
  type Wallet,
} from '../../../emulators/src/bankr/index.js'
import { ProviderError } from '../../src/infra/http/provider-error.js'
import {
  bankrIdempotencyKey,
  type CryptoPluginOptions,
  createCryptoPlugin,
} from '../../src/plugins/crypto.js'
import { toChecksumAddress } from '../../src/plugins/wallet.js'
import { recordingDispatcher } from '../helpers/recording-dispatcher.js'
import { rejectionOf } from '../helpers/rejection.js'

const FAST_RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 }

/** An emulator and a plugin whose every request is recorded by an undici interceptor. */
async function setup(
  test: Test,
  options: { plugin?: Partial<CryptoPluginOptions>; emulator?: BankrEmulatorOptions } = {},
) {
  const emulator = await startBankrEmulator(options.emulator)
  const { dispatcher, sent } = recordingDispatcher(test, emulator)
  const pluginOptions: CryptoPluginOptions = {
    apiUrl: emulator.url,
    partnerKey: emulator.partnerKey,
    dispatcher,
    retry: FAST_RETRY,
    ...options.plugin,
  }
  return { emulator, plugin: createCryptoPlugin(pluginOptions), sent, pluginOptions }
}

const input = (instanceId: string) => ({ instanceId, idempotencyKey: `${instanceId}:crypto` })
const wallets = (emulator: BankrEmulator) => emulator.ledger.all<Wallet>('wallet')

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, ProviderError)

t.test('create makes a partner wallet with its own key, keyed by the idempotency key', async (t) => {
  const { emulator, plugin, sent } = await setup(t)
  const resource = await plugin.create(input('inst-1'))
  const [wallet] = wallets(emulator)
  const address = toChecksumAddress(wallet?.evmAddress as string)
  t.same(resource.config, { walletAddress: address }, 'the address, EIP-55 checksummed')
  t.equal(resource.resourceId, wallet?.id)
  t.equal(resource.env.BANKR_WALLET_ADDRESS, address)
  t.match(resource.env.BANKR_API_KEY, /^bk_usr_/, 'the wallet’s own key, not the partner key')
  t.same(sent[0]?.body, {
    idempotencyKey: 'inst-1:crypto',
    apiKey: {
      permissions: {
        agentApiEnabled: true,
        llmGatewayEnabled: false,
        tokenLaunchApiEnabled: false,
        readOnly: false,
      },
    },
  })
  t.equal(sent[0]?.headers['x-partner-key'], emulator.partnerKey)
  const me = await fetch(`${emulator.url}/wallet/me`, {
    headers: { 'x-api-key': resource.env.BANKR_API_KEY as string },
  })
  t.equal(((await me.json()) as { walletId: string }).walletId, wallet?.id, 'the key opens this wallet')
})

t.test('a repeat create re-receives the same wallet; without the key when Bankr shows it once', async (t) => {
  const { emulator, plugin } = await setup(t)
  const first = await plugin.create(input('inst-2'))
  const again = await plugin.create(input('inst-2'))
  t.equal(again.resourceId, first.resourceId)
  t.same(again.config, first.config)
  t.notOk('BANKR_API_KEY' in again.env, 'no key: the caller must destroy and recreate')
  t.equal(wallets(emulator).length, 1, 'one wallet')

  t.equal(await plugin.destroy(again), 'destroyed')
  const recreated = await plugin.create(input('inst-2'))
  t.not(recreated.resourceId, first.resourceId, 'after a destroy the key makes a new wallet')
  t.match(recreated.env.BANKR_API_KEY, /^bk_usr_/, 'with a new key')
  t.equal(wallets(emulator).length, 1)
})

t.test('when Bankr replays the first answer, a repeat create gets the key too', async (t) => {
  const { plugin } = await setup(t, { emulator: { replayApiKey: true } })
  const first = await plugin.create(input('inst-3'))
  const again = await plugin.create(input('inst-3'))
  t.equal(again.env.BANKR_API_KEY, first.env.BANKR_API_KEY)
})

t.test('a create whose answer was lost is retried into the same wallet', async (t) => {
  const { emulator, plugin } = await setup(t, {
    emulator: { faults: [{ operation: 'createWallet', errorRate: 1, failAfterWork: true, times: 1 }] },
  })
  const resource = await plugin.create(input('inst-4'))
  t.equal(wallets(emulator).length, 1, 'one wallet')
  t.equal(resource.resourceId, wallets(emulator)[0]?.id)
  t.same(
    emulator.ledger.requests().map((r) => r.status),
    [500, 200],
  )
})

t.test(
  'find adopts a wallet a crashed attempt made, without its key; unknown keys find nothing',
  async (t) => {
    const { emulator, plugin, sent } = await setup(t)
    t.equal(await plugin.find(input('inst-5')), undefined)
    const crashed = await plugin.create(input('inst-5'))
    const found = await plugin.find(input('inst-5'))
    t.equal(found?.resourceId, crashed.resourceId)
    t.same(found?.config, crashed.config)
    t.same(
      found?.env,
      { BANKR_WALLET_ADDRESS: crashed.env.BANKR_WALLET_ADDRESS },
      'no key: it was shown once',
    )
    t.equal(wallets(emulator).length, 1, 'find made nothing')
    const lists = sent.filter((s) => s.method === 'GET')
    t.ok(lists.every((s) => s.query.get('idempotencyKey') === 'inst-5:crypto'))
  },
)

t.test('destroy deletes the wallet; twice is harmless (404 = gone)', async (t) => {
  const { emulator, plugin } = await setup(t)
  const resource = await plugin.create(input('inst-6'))
  t.equal(await plugin.destroy(resource), 'destroyed')
  t.equal(wallets(emulator).length, 0)
  t.equal(emulator.ledger.all('apiKey').length, 0, 'its key is revoked')
  t.equal(await plugin.destroy(resource), 'gone')
})

t.test('5xx and 429 are retried; a refused partner key is PROVIDER_UNAUTHORIZED, not retried', async (t) => {
  const { emulator, plugin, pluginOptions } = await setup(t, {
    emulator: {
      faults: [
        { operation: 'createWallet', errorRate: 1, errorStatus: 503, times: 2 },
        { operation: 'deleteWallet', rateLimitStorm: { retryAfterSeconds: 1 }, times: 1 },
      ],
    },
  })
  const resource = await plugin.create(input('inst-7'))
  t.equal(wallets(emulator).length, 1)
  const started = performance.now()
  t.equal(await plugin.destroy(resource), 'destroyed')
  t.ok(performance.now() - started >= 900, 'waited for Retry-After: 1')
  t.same(
    emulator.ledger.requests().map((r) => [r.operation, r.status]),
    [
      ['createWallet', 503],
      ['createWallet', 503],
      ['createWallet', 201],
      ['deleteWallet', 429],
      ['deleteWallet', 200],
    ],
  )

  const before = emulator.ledger.requests().length
  const wrong = createCryptoPlugin({ ...pluginOptions, partnerKey: 'bk_ptr_00000000_wrong' })
  const error = await rejection(wrong.create(input('inst-8')))
  t.equal(error.code, 'PROVIDER_UNAUTHORIZED')
  t.equal(error.status, 401)
  t.match(error.message, /invalid or inactive/i)
  t.equal(emulator.ledger.requests().length - before, 1, 'not retried')
})

t.test('user mode: the user’s key checked with GET /wallet/me; mismatches refused', async (t) => {
  const { emulator, plugin, sent } = await setup(t)
  const user = emulator.createUserAccount()
  const resource = await plugin.useUserConfig?.('inst-9', {
    apiKey: user.apiKey,
    walletAddress: user.evmAddress.toUpperCase().replace('0X', '0x'),
  })
  const address = toChecksumAddress(user.evmAddress)
  t.same(resource, {
    resourceId: `user:${address}`,
    config: { walletAddress: address },
    env: { BANKR_API_KEY: user.apiKey, BANKR_WALLET_ADDRESS: address },
  })
  t.equal(sent.at(-1)?.path, '/wallet/me')
  t.equal(sent.at(-1)?.headers['x-api-key'], user.apiKey)
  t.notOk('x-partner-key' in (sent.at(-1)?.headers ?? {}), 'the partner key is not sent with a user call')

  const unauthorized = await rejection(
    plugin.useUserConfig?.('inst-9', {
      apiKey: 'bk_wrong',
      walletAddress: user.evmAddress,
    }) as Promise<unknown>,
  )
  t.equal(unauthorized.code, 'PROVIDER_UNAUTHORIZED')
  const other = emulator.createUserAccount()
  const mismatch = await rejection(
    plugin.useUserConfig?.('inst-9', {
      apiKey: user.apiKey,
      walletAddress: other.evmAddress,
    }) as Promise<unknown>,
  )
  t.equal(mismatch.code, 'PROVIDER_REJECTED')
  for (const bad of [{ apiKey: user.apiKey, walletAddress: '0x12' }, { walletAddress: user.evmAddress }]) {
    t.equal(
      (await rejection(plugin.useUserConfig?.('inst-9', bad) as Promise<unknown>)).code,
      'PROVIDER_REJECTED',
    )
  }
  t.equal(await plugin.destroy(resource as never), 'gone', 'a user’s wallet is never deleted')
  t.equal(emulator.ledger.all('apiKey').length, 2)
})

t.test('idempotency keys longer than Bankr’s 128 characters are hashed, deterministically', async (t) => {
  t.equal(bankrIdempotencyKey('inst-1:crypto'), 'inst-1:crypto')
  t.equal(bankrIdempotencyKey('x'.repeat(128)), 'x'.repeat(128))
  const long = bankrIdempotencyKey('x'.repeat(129))
  t.match(long, /^sha256-[0-9a-f]{64}$/)
  t.ok(long.length <= 128)
  t.equal(bankrIdempotencyKey('x'.repeat(129)), long)
  t.not(bankrIdempotencyKey('y'.repeat(129)), long)
})
