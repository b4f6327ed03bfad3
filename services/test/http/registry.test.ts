import t from 'tap'
import { build, poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'

t.test('GET /registry lists the five tools and what each still needs', async (t) => {
  const { app } = await build(t)
  const response = await request(t, app, { method: 'GET', url: '/registry', headers: poolAuth() })
  t.equal(response.statusCode, 200)
  const tools = response.json().tools as Array<Record<string, unknown>>
  t.same(
    tools.map((tool) => tool.toolId),
    ['openrouter', 'wallet', 'email', 'sms', 'crypto'],
  )
  const byId = Object.fromEntries(tools.map((tool) => [tool.toolId, tool]))
  t.match(byId.openrouter, {
    configured: false,
    missingSettings: ['OPENROUTER_MANAGEMENT_KEY'],
    alwaysProvisioned: true,
  })
  t.match(byId.wallet, { configured: true, missingSettings: [], modes: ['pool'] })
  t.match(byId.sms, { configured: false, selfProvisionable: false, userConfigSchema: 'SmsUserConfig' })
  t.match(byId.email, { modes: ['pool', 'user'], envKeys: ['AGENTMAIL_API_KEY', 'AGENTMAIL_INBOX_ID'] })
})

t.test('a tool is configured once its settings are present', async (t) => {
  const { app } = await build(t, {
    env: {
      OPENROUTER_MANAGEMENT_KEY: 'sk-or-mgmt-test',
      TELNYX_API_KEY: 'KEYtest',
      BANKR_PARTNER_KEY: 'bk_ptr_x',
    },
  })
  const response = await request(t, app, { method: 'GET', url: '/registry', headers: poolAuth() })
  const byId = Object.fromEntries(
    (response.json().tools as Array<{ toolId: string }>).map((tool) => [tool.toolId, tool]),
  )
  t.match(byId.openrouter, { configured: true, missingSettings: [] })
  t.match(byId.crypto, { configured: true })
  t.match(
    byId.sms,
    { configured: false, missingSettings: ['TELNYX_MESSAGING_PROFILE_ID'] },
    'names the one still missing',
  )
  t.notMatch(response.body, /sk-or-mgmt-test|KEYtest|bk_ptr_x/, 'never shows the settings themselves')
})
