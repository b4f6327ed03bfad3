import t, { type Test } from 'tap'
import { type OpenRouterEmulator, startOpenRouterEmulator } from '../../../emulators/src/openrouter/index.js'
import { CONTRACTS_MISSING, loadProviderContract } from '../../../emulators/test/support/provider-contract.js'
import { ProviderError } from '../../src/infra/http/provider-error.js'
import { createOpenRouterPlugin, type OpenRouterPluginOptions } from '../../src/plugins/openrouter.js'
import type { ToolPlugin } from '../../src/plugins/tool-plugin.js'
import { definePluginTest } from '../helpers/plugin-test.js'
import { recordingDispatcher } from '../helpers/recording-dispatcher.js'

const contract = loadProviderContract('openrouter')
if (!contract) t.comment(CONTRACTS_MISSING)

// Fast retries keep the tests quick; the retry logic itself is the same.
const FAST_RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 }
const LIST_QUERY = new Set(['offset', 'include_disabled', 'workspace_id'])

/** An emulator and a plugin wired to it through an undici interceptor that records every request sent. */
async function setup(test: Test, options: Partial<OpenRouterPluginOptions> = {}) {
  const emulator = await startOpenRouterEmulator()
  const { dispatcher, sent } = recordingDispatcher(test, emulator)
  const plugin = createOpenRouterPlugin({
    apiUrl: emulator.url,
    managementKey: emulator.managementKey,
    dispatcher,
    retry: FAST_RETRY,
    ...options,
  })
  return { emulator, plugin, sent, dispatcher }
}

/** The plugin with its optional methods, which this plugin implements. */
const full = (plugin: ToolPlugin) => plugin as Required<ToolPlugin>

/** A test against a fresh emulator; when its body is done, every request the plugin sent is checked. */
const pluginTest = definePluginTest(
  t,
  setup,
  contract && {
    provider: 'OpenRouter',
    /** Body by schema, `GET /keys` query by hand. */
    violations({ method, path, query, body }) {
      const docPath = path.replace(/^\/api\/v1/, '')
      const found = contract.requestViolations(method, docPath, body).map((v) => `${method} ${docPath}: ${v}`)
      for (const [name, value] of query) {
        if (docPath !== '/keys' || !LIST_QUERY.has(name))
          found.push(`${method} ${docPath}: undeclared ?${name}`)
        if (name === 'offset' && !/^\d+$/.test(value)) found.push(`offset=${value} is not an integer ≥ 0`)
        if (name === 'include_disabled' && value !== 'true' && value !== 'false')
          found.push(`include_disabled=${value}`)
      }
      return found
    },
  },
)

/** A key made at the provider behind the plugin's back, as a crashed earlier attempt would have. */
async function createDirectly(emulator: OpenRouterEmulator, name: string) {
  const response = await fetch(`${emulator.url}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emulator.managementKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  return (await response.json()) as { key: string; data: { hash: string } }
}

async function keyInfo(emulator: OpenRouterEmulator, key: string) {
  const response = await fetch(`${emulator.url}/key`, { headers: { authorization: `Bearer ${key}` } })
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> } }
}

const live = (emulator: OpenRouterEmulator) =>
  emulator.ledger.all<{ hash: string; name: string; limit: number | null; limit_reset: string | null }>('key')

pluginTest(
  'create makes a working key named by the idempotency key, with the default limits',
  { defaults: { limitUsd: 10, limitReset: 'monthly' } },
  async (t, { emulator, plugin, sent }) => {
    const made = await plugin.create({ instanceId: 'inst-1', idempotencyKey: 'inst-1:openrouter' })
    const apiKey = made.env.OPENROUTER_API_KEY ?? ''
    t.match(apiKey, /^sk-or-v1-/)
    t.same(Object.keys(made.env), ['OPENROUTER_API_KEY'])
    t.same(made.config, { limitUsd: 10, limitReset: 'monthly', name: 'inst-1:openrouter' })
    t.same(
      live(emulator).map((key) => [key.hash, key.name, key.limit, key.limit_reset]),
      [[made.resourceId, 'inst-1:openrouter', 10, 'monthly']],
    )
    const info = await keyInfo(emulator, apiKey)
    t.equal(info.status, 200, 'the plaintext the instance gets authenticates at OpenRouter')
    t.notOk(JSON.stringify(made.config).includes(apiKey), 'config holds no secret')
    t.same(
      sent.map((request) => request.method),
      ['GET', 'POST'],
      'one look-up page (empty), then the create',
    )
    t.equal(sent[0]?.authorization, `Bearer ${emulator.managementKey}`)
  },
)

pluginTest(
  'request options override the defaults; no limit sends no reset period',
  { defaults: { limitUsd: 10, limitReset: 'monthly' } },
  async (t, { emulator, plugin, sent }) => {
    const custom = await plugin.create({
      instanceId: 'a',
      idempotencyKey: 'a:openrouter',
      options: { limitUsd: 2.5, limitReset: 'weekly' },
    })
    t.same(custom.config, { limitUsd: 2.5, limitReset: 'weekly', name: 'a:openrouter' })
    const unlimited = await plugin.create({
      instanceId: 'b',
      idempotencyKey: 'b:openrouter',
      options: { limitUsd: null },
    })
    t.same(unlimited.config, { limitUsd: null, limitReset: null, name: 'b:openrouter' })
    t.same(sent.at(-1)?.body, { name: 'b:openrouter', limit: null })
    t.equal(live(emulator).length, 2)

    const invalid = plugin.create({ instanceId: 'c', idempotencyKey: 'c', options: { limitUsd: -1 } })
    await t.rejects(invalid, { code: 'PROVIDER_REJECTED' })
  },
)

pluginTest(
  'create again with the same idempotency key leaves one key, and only the new one works',
  {},
  async (t, { emulator, plugin }) => {
    const input = { instanceId: 'inst-2', idempotencyKey: 'inst-2:openrouter' }
    const first = await plugin.create(input)
    const second = await plugin.create(input)
    t.same(
      live(emulator).map((key) => key.hash),
      [second.resourceId],
      'one key in the ledger: the earlier one, whose secret cannot be read again, was replaced',
    )
    t.equal((await keyInfo(emulator, first.env.OPENROUTER_API_KEY ?? '')).status, 401)
    t.equal((await keyInfo(emulator, second.env.OPENROUTER_API_KEY ?? '')).status, 200)
  },
)

pluginTest(
  'find pages through every page of keys (the match is on page 2)',
  {},
  async (t, { emulator, plugin, sent }) => {
    const orphan = await createDirectly(emulator, 'inst-3:openrouter')
    for (let i = 0; i < 150; i++) await createDirectly(emulator, `filler-${i}`)

    const found = await plugin.find({ instanceId: 'inst-3', idempotencyKey: 'inst-3:openrouter' })
    t.equal(found?.resourceId, orphan.data.hash)
    t.same(found?.env, {}, 'no plaintext: it cannot be recovered, so recovery must recreate')
    t.same(found?.config, { limitUsd: null, limitReset: null, name: 'inst-3:openrouter' })
    t.same(
      sent.map((request) => request.query.get('offset')),
      ['0', '100', '151'],
      'every page, to the empty one (offset advances by the keys received)',
    )
    t.ok(
      sent.every((request) => request.query.get('include_disabled') === 'true'),
      'disabled keys count too',
    )

    sent.length = 0
    t.equal(await plugin.find({ instanceId: 'x', idempotencyKey: 'x:openrouter' }), undefined)
    t.equal(sent.length, 3, 'a miss reads all pages')
  },
)

pluginTest(
  'create after a crash replaces the orphaned key instead of adding one',
  {},
  async (t, { emulator, plugin }) => {
    const orphan = await createDirectly(emulator, 'inst-4:openrouter')
    for (let i = 0; i < 120; i++) await createDirectly(emulator, `filler-${i}`)
    const made = await plugin.create({ instanceId: 'inst-4', idempotencyKey: 'inst-4:openrouter' })
    const mine = live(emulator).filter((key) => key.name === 'inst-4:openrouter')
    t.same(
      mine.map((key) => key.hash),
      [made.resourceId],
    )
    t.not(made.resourceId, orphan.data.hash)
    t.equal(emulator.ledger.get('key', orphan.data.hash), undefined, 'the orphan on page 2 was deleted')
  },
)

pluginTest(
  'a create whose answer is lost is retried without leaving two keys',
  {},
  async (t, { emulator, plugin }) => {
    emulator.faults.add({ operation: 'createKeys', errorRate: 1, failAfterWork: true, times: 1 })
    const made = await plugin.create({ instanceId: 'inst-5', idempotencyKey: 'inst-5:openrouter' })
    t.same(
      live(emulator).map((key) => key.hash),
      [made.resourceId],
    )
    t.same(emulator.ledger.snapshot().created, { key: 2 }, 'the lost one was made, then removed')
    t.same(
      emulator.ledger.requests().map((entry) => [entry.operation, entry.status]),
      [
        ['list', 200],
        ['createKeys', 500],
        ['list', 200],
        ['list', 200],
        ['deleteKeys', 200],
        ['createKeys', 201],
      ],
    )
  },
)

pluginTest(
  'provider 5xx and 429 are retried; Retry-After is honoured',
  {},
  async (t, { emulator, plugin }) => {
    emulator.faults.add({ operation: 'createKeys', errorRate: 1, errorStatus: 502, times: 2 })
    emulator.faults.add({ operation: 'list', errorRate: 1, errorStatus: 500, times: 1 })
    const made = await plugin.create({ instanceId: 'inst-6', idempotencyKey: 'inst-6:openrouter' })
    t.same(
      emulator.ledger.requests().map((entry) => entry.status),
      [500, 200, 502, 200, 502, 200, 201],
    )
    t.equal(live(emulator).length, 1)

    emulator.faults.add({ operation: 'deleteKeys', rateLimitStorm: { retryAfterSeconds: 1 }, times: 1 })
    const began = performance.now()
    t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'destroyed')
    t.ok(performance.now() - began >= 900, 'waited for Retry-After (lower bound only)')

    emulator.faults.add({ operation: 'list', errorRate: 1, errorStatus: 503 })
    await t.rejects(plugin.find({ instanceId: 'x', idempotencyKey: 'x' }), {
      code: 'PROVIDER_UNAVAILABLE',
      status: 503,
    })
    const lists = emulator.ledger
      .requests()
      .filter((entry) => entry.operation === 'list' && entry.status === 503)
    t.equal(lists.length, FAST_RETRY.attempts, 'gives up after the configured attempts')
  },
)

pluginTest('destroy deletes the key; a second destroy is "gone"', {}, async (t, { emulator, plugin }) => {
  const made = await plugin.create({ instanceId: 'inst-7', idempotencyKey: 'inst-7:openrouter' })
  t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'destroyed')
  t.equal(live(emulator).length, 0)
  t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'gone')
  t.equal((await keyInfo(emulator, made.env.OPENROUTER_API_KEY ?? '')).status, 401)
})

pluginTest(
  'a wrong or non-management key is PROVIDER_UNAUTHORIZED and not retried',
  {},
  async (t, { emulator, plugin: good, dispatcher }) => {
    const inference =
      (await good.create({ instanceId: 'i', idempotencyKey: 'i' })).env.OPENROUTER_API_KEY ?? ''
    for (const managementKey of ['sk-or-v1-wrong', inference]) {
      const before = emulator.ledger.requests().length
      const plugin = createOpenRouterPlugin({
        apiUrl: emulator.url,
        managementKey,
        dispatcher,
        retry: FAST_RETRY,
      })
      const error = await plugin.create({ instanceId: 'j', idempotencyKey: 'j' }).catch((e: unknown) => e)
      t.ok(error instanceof ProviderError)
      t.match(error, { code: 'PROVIDER_UNAUTHORIZED', provider: 'openrouter' })
      t.notOk(String((error as Error).message).includes(managementKey), 'the message holds no credential')
      t.equal(emulator.ledger.requests().length - before, 1, 'one request, no retry')
    }
  },
)

pluginTest('update changes the limit with PATCH', {}, async (t, { emulator, plugin, sent }) => {
  const made = await plugin.create({ instanceId: 'u', idempotencyKey: 'u', options: { limitUsd: 1 } })
  emulator.faults.add({ operation: 'updateKeys', errorRate: 1, errorStatus: 500, times: 1 })
  const updated = await full(plugin).update(made, { limitUsd: 20, limitReset: 'daily' })
  t.same(updated.config, { limitUsd: 20, limitReset: 'daily', name: 'u' })
  t.same(updated.env, {})
  t.match(emulator.ledger.get('key', made.resourceId), { limit: 20, limit_reset: 'daily' })
  t.same(sent.at(-1)?.body, { limit: 20, limit_reset: 'daily' })
  t.equal(sent.filter((request) => request.method === 'PATCH').length, 2, 'the 500 was retried')
  await t.rejects(full(plugin).update({ resourceId: 'nope', config: {} }, { limitUsd: 1 }), {
    code: 'PROVIDER_NOT_FOUND',
  })
})

pluginTest(
  'user mode: the caller’s own key, checked with GET /key',
  {},
  async (t, { emulator, plugin, sent }) => {
    const own = await createDirectly(emulator, 'someone-elses-account')
    const used = await full(plugin).useUserConfig('inst-8', { apiKey: own.key })
    t.same(used.env, { OPENROUTER_API_KEY: own.key })
    t.match(used.resourceId, /^user:[0-9a-f]{24}$/)
    t.notOk(used.resourceId.includes(own.key.slice(9, 30)), 'the id does not reveal the key')
    t.same(used.config, { limitUsd: null, limitReset: null })
    t.equal(sent.at(-1)?.path, '/api/v1/key')
    t.equal(sent.at(-1)?.authorization, `Bearer ${own.key}`, 'checked with the user’s key, not ours')

    const again = await full(plugin).useUserConfig('inst-8', { apiKey: own.key })
    t.equal(again.resourceId, used.resourceId, 'deterministic for the same instance and key')

    await t.rejects(full(plugin).useUserConfig('inst-8', { apiKey: 'sk-or-v1-not-a-key' }), {
      code: 'PROVIDER_UNAUTHORIZED',
    })
    await t.rejects(full(plugin).useUserConfig('inst-8', { apiKey: emulator.managementKey }), {
      code: 'PROVIDER_REJECTED',
    })
    await t.rejects(full(plugin).useUserConfig('inst-8', {}), { code: 'PROVIDER_REJECTED' })

    const before = sent.length
    t.equal(await plugin.destroy({ resourceId: used.resourceId, config: {} }), 'gone')
    t.equal(sent.length, before, 'destroying a user key sends nothing: it is not ours')
    t.equal((await keyInfo(emulator, own.key)).status, 200)
  },
)
