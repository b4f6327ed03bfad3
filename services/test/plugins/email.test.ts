import t, { type Test } from 'tap'
import {
  type AgentMailEmulator,
  type AgentMailEmulatorOptions,
  type Inbox,
  startAgentMailEmulator,
} from '../../../emulators/src/agentmail/index.js'
import { CONTRACTS_MISSING, loadProviderContract } from '../../../emulators/test/support/provider-contract.js'
import { ProviderError } from '../../src/infra/http/provider-error.js'
import { clientIdFor, createEmailPlugin, type EmailPluginOptions } from '../../src/plugins/email.js'
import type { ToolPlugin } from '../../src/plugins/tool-plugin.js'
import { definePluginTest } from '../helpers/plugin-test.js'
import { recordingDispatcher } from '../helpers/recording-dispatcher.js'

const contract = loadProviderContract('agentmail')
if (!contract) t.comment(CONTRACTS_MISSING)

const FAST_RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 }
// `ascending` is in the newer Fern definition; the 2026-03 OpenAPI document lists the other two.
const LIST_QUERY = new Set(['limit', 'page_token', 'ascending'])
const USER_KEY = 'am_user_own_account_key_000000000000000'

/** An emulator and a plugin whose every request is recorded by an undici interceptor. */
async function setup(
  test: Test,
  options: { plugin?: Partial<EmailPluginOptions>; emulator?: AgentMailEmulatorOptions } = {},
) {
  const emulator = await startAgentMailEmulator({ otherApiKeys: [USER_KEY], ...options.emulator })
  const { dispatcher, sent } = recordingDispatcher(test, emulator)
  const plugin = createEmailPlugin({
    apiUrl: emulator.url,
    apiKey: emulator.apiKey,
    dispatcher,
    retry: FAST_RETRY,
    ...options.plugin,
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
    provider: 'AgentMail',
    /** Body by schema, list query by its declared names. */
    violations({ method, path, query, body }) {
      const found = contract.requestViolations(method, path, body).map((v) => `${method} ${path}: ${v}`)
      for (const [name] of query) {
        if (path !== '/v0/inboxes' || !LIST_QUERY.has(name))
          found.push(`${method} ${path}: undeclared ?${name}`)
      }
      if (path.startsWith('/v0/inboxes/') && path.slice('/v0/inboxes/'.length).includes('@')) {
        found.push(`${path}: the inbox id is not URL-encoded`)
      }
      return found
    },
  },
)

/** An inbox made at the provider behind the plugin's back, as a crashed earlier attempt would have. */
async function createDirectly(
  emulator: AgentMailEmulator,
  body: Record<string, unknown>,
  key = emulator.apiKey,
) {
  const response = await fetch(`${emulator.url}/inboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return (await response.json()) as Inbox
}

const live = (emulator: AgentMailEmulator) => emulator.ledger.all<Inbox>('inbox')

pluginTest('create makes an inbox keyed by client_id', {}, async (t, { emulator, plugin, sent }) => {
  const made = await plugin.create({ instanceId: 'inst-1', idempotencyKey: 'inst-1@email' })
  const [inbox] = live(emulator)
  t.equal(live(emulator).length, 1)
  t.equal(made.resourceId, inbox?.inbox_id)
  t.same(made.env, { AGENTMAIL_API_KEY: emulator.apiKey, AGENTMAIL_INBOX_ID: inbox?.inbox_id })
  t.same(made.config, { inboxId: inbox?.inbox_id, email: inbox?.email })
  t.match(inbox, { display_name: 'Agent inst-1', metadata: { instance_id: 'inst-1' } })
  t.equal(inbox?.client_id, clientIdFor('inst-1@email'))
  t.notOk(inbox?.client_id?.includes('@'), 'the @ of the idempotency key is encoded away')
  t.not(clientIdFor('a@b'), clientIdFor('a_b'), 'the encoding never makes two keys collide')
  t.equal(sent[0]?.authorization, `Bearer ${emulator.apiKey}`)
})

pluginTest(
  'a configured domain is used for new inboxes',
  { plugin: { domain: 'mail.example.com' }, emulator: { domains: ['mail.example.com'] } },
  async (t, { plugin }) => {
    const made = await plugin.create({
      instanceId: 'd',
      idempotencyKey: 'd:email',
      options: { displayName: 'Dee' },
    })
    t.match(made.resourceId, /@mail\.example\.com$/)
  },
)

pluginTest(
  'create again with the same key returns the same inbox; one in the ledger',
  {},
  async (t, { emulator, plugin }) => {
    const input = { instanceId: 'inst-2', idempotencyKey: 'inst-2:email' }
    const first = await plugin.create(input)
    const second = await plugin.create(input)
    t.same(second, first)
    t.equal(live(emulator).length, 1)
    t.same(emulator.ledger.snapshot().created, { inbox: 1 })
  },
)

pluginTest(
  'find pages through every page (the match is on page 3)',
  {},
  async (t, { emulator, plugin, sent }) => {
    const orphan = await createDirectly(emulator, { client_id: clientIdFor('inst-3:email') })
    for (let i = 0; i < 25; i++) await createDirectly(emulator, { client_id: `filler-${i}` })

    const found = await plugin.find({ instanceId: 'inst-3', idempotencyKey: 'inst-3:email' })
    t.equal(found?.resourceId, orphan.inbox_id)
    t.same(found?.env, { AGENTMAIL_API_KEY: emulator.apiKey, AGENTMAIL_INBOX_ID: orphan.inbox_id })
    t.equal(sent.length, 3, 'newest first, 10 per page: the oldest inbox is on the third page')
    t.same(
      sent.map((request) => request.query.has('page_token')),
      [false, true, true],
      'follows next_page_token',
    )
    t.equal(sent.filter((request) => request.method === 'POST').length, 0, 'find never creates')

    sent.length = 0
    t.equal(await plugin.find({ instanceId: 'x', idempotencyKey: 'x:email' }), undefined)
    t.equal(sent.length, 3, 'a miss reads every page')
    t.equal(live(emulator).length, 26, 'and creates nothing')
  },
)

pluginTest(
  'destroy deletes the inbox; a second destroy is "gone"',
  {},
  async (t, { emulator, plugin, sent }) => {
    const made = await plugin.create({ instanceId: 'inst-4', idempotencyKey: 'inst-4:email' })
    t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'destroyed')
    t.equal(live(emulator).length, 0)
    t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'gone')
    t.equal(sent.at(-1)?.path, `/v0/inboxes/${encodeURIComponent(made.resourceId)}`)
  },
)

pluginTest(
  'provider 5xx and 429 are retried; a lost answer adopts the inbox',
  {},
  async (t, { emulator, plugin }) => {
    emulator.faults.add({ operation: 'inboxes_create', errorRate: 1, errorStatus: 500, times: 1 })
    emulator.faults.add({ operation: 'inboxes_create', errorRate: 1, failAfterWork: true, times: 1 })
    emulator.faults.add({ operation: 'inboxes_create', rateLimitStorm: { retryAfterSeconds: 0 }, times: 1 })
    const made = await plugin.create({ instanceId: 'inst-5', idempotencyKey: 'inst-5:email' })
    t.same(
      emulator.ledger.requests().map((entry) => entry.status),
      [500, 500, 429, 200],
    )
    t.same(
      live(emulator).map((inbox) => inbox.inbox_id),
      [made.resourceId],
      'the inbox the lost answer made is the one returned',
    )
    t.same(emulator.ledger.snapshot().created, { inbox: 1 })

    emulator.faults.add({ operation: 'inboxes_delete', errorRate: 1, errorStatus: 503, times: 2 })
    t.equal(await plugin.destroy({ resourceId: made.resourceId, config: made.config }), 'destroyed')

    emulator.faults.add({ operation: 'inboxes_list', errorRate: 1, errorStatus: 502 })
    await t.rejects(plugin.find({ instanceId: 'x', idempotencyKey: 'x' }), { code: 'PROVIDER_UNAVAILABLE' })
    const failedLists = emulator.ledger.requests().filter((entry) => entry.operation === 'inboxes_list')
    t.equal(failedLists.length, FAST_RETRY.attempts, 'gives up after the configured attempts')
  },
)

pluginTest(
  'a wrong API key is PROVIDER_UNAUTHORIZED and not retried',
  {},
  async (t, { emulator, dispatcher }) => {
    const plugin = createEmailPlugin({
      apiUrl: emulator.url,
      apiKey: 'am_wrong',
      dispatcher,
      retry: FAST_RETRY,
    })
    const error = await plugin.create({ instanceId: 'i', idempotencyKey: 'i' }).catch((e: unknown) => e)
    t.ok(error instanceof ProviderError)
    t.match(error, { code: 'PROVIDER_UNAUTHORIZED', providerCode: 'unknown_api_key', status: 401 })
    t.notOk(String((error as Error).message).includes('am_wrong'))
    t.equal(emulator.ledger.requests().length, 1, 'one request, no retry')
  },
)

pluginTest(
  'the plan’s inbox cap is PROVIDER_REJECTED, not an auth failure',
  { emulator: { inboxCap: 1 } },
  async (t, { emulator, plugin }) => {
    await plugin.create({ instanceId: 'a', idempotencyKey: 'a' })
    await t.rejects(plugin.create({ instanceId: 'b', idempotencyKey: 'b' }), {
      code: 'PROVIDER_REJECTED',
      providerCode: 'limit_exceeded',
      status: 403,
    })
    t.equal(live(emulator).length, 1)
  },
)

pluginTest(
  'user mode: the caller’s own key and inbox, checked with GET',
  {},
  async (t, { emulator, plugin, sent }) => {
    const theirs = await createDirectly(emulator, { username: 'users-own' }, USER_KEY)
    const used = await full(plugin).useUserConfig('inst-6', { apiKey: USER_KEY, inboxId: theirs.inbox_id })
    t.same(used.env, { AGENTMAIL_API_KEY: USER_KEY, AGENTMAIL_INBOX_ID: theirs.inbox_id })
    t.equal(used.resourceId, `user:${theirs.inbox_id}`)
    t.same(used.config, { inboxId: theirs.inbox_id, email: theirs.inbox_id })
    t.equal(sent.at(-1)?.authorization, `Bearer ${USER_KEY}`, 'checked with the user’s key, not ours')

    await t.rejects(full(plugin).useUserConfig('inst-6', { apiKey: 'am_bad', inboxId: theirs.inbox_id }), {
      code: 'PROVIDER_UNAUTHORIZED',
    })
    const ours = await plugin.create({ instanceId: 'p', idempotencyKey: 'p' })
    await t.rejects(full(plugin).useUserConfig('inst-6', { apiKey: USER_KEY, inboxId: ours.resourceId }), {
      code: 'PROVIDER_REJECTED',
      status: 404,
    })
    await t.rejects(full(plugin).useUserConfig('inst-6', { apiKey: USER_KEY }), {
      code: 'PROVIDER_REJECTED',
    })

    const before = sent.length
    t.equal(await plugin.destroy({ resourceId: used.resourceId, config: {} }), 'gone')
    t.equal(sent.length, before, 'destroying a user inbox sends nothing: it is not ours')
    t.ok(emulator.ledger.get('inbox', theirs.inbox_id), 'the user’s inbox is still there')
  },
)
