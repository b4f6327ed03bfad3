import type { Dispatcher } from 'undici'
import type { Config } from '../config.js'
import type { ToolId } from '../generated/schemas.js'
import { createCryptoPlugin } from './crypto.js'
import { createEmailPlugin } from './email.js'
import { createOpenRouterPlugin } from './openrouter.js'
import type { NumberPool } from './sms.js'
import { createSmsPlugin } from './sms.js'
import type { ToolPlugin } from './tool-plugin.js'
import { createWalletPlugin } from './wallet.js'

export type ToolPlugins = Partial<Record<ToolId, ToolPlugin>>

export interface ToolPluginDeps {
  numberPool: NumberPool
  /** One shared undici dispatcher for all providers (tests inject theirs); default: undici's global one. */
  dispatcher?: Dispatcher
}

/**
 * One plugin per tool whose settings are present; a tool missing here is "not configured" (the registry
 * says which setting is missing, from the same config).
 */
export function createToolPlugins(config: Config, deps: ToolPluginDeps): ToolPlugins {
  const shared = {
    timeoutMs: config.tools.providerTimeoutMs,
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  }
  const plugins: ToolPlugins = { wallet: createWalletPlugin() }
  const { openrouter, agentmail, telnyx, bankr } = config
  if (openrouter.managementKey) {
    plugins.openrouter = createOpenRouterPlugin({
      apiUrl: openrouter.apiUrl,
      managementKey: openrouter.managementKey,
      ...shared,
    })
  }
  if (agentmail.apiKey) {
    plugins.email = createEmailPlugin({ apiUrl: agentmail.apiUrl, apiKey: agentmail.apiKey, ...shared })
  }
  if (telnyx.apiKey && telnyx.messagingProfileId) {
    plugins.sms = createSmsPlugin({
      apiUrl: telnyx.apiUrl,
      apiKey: telnyx.apiKey,
      messagingProfileId: telnyx.messagingProfileId,
      numberPool: deps.numberPool,
      ...shared,
    })
  }
  if (bankr.partnerKey) {
    plugins.crypto = createCryptoPlugin({ apiUrl: bankr.apiUrl, partnerKey: bankr.partnerKey, ...shared })
  }
  return plugins
}
