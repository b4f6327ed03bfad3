import { startAgentMailEmulator } from './agentmail/index.js'
import { startBankrEmulator } from './bankr/index.js'
import type { FaultRule } from './kit/faults.js'
import { startOpenRouterEmulator } from './openrouter/index.js'
import { type RailwayEmulatorOptions, startRailwayEmulator } from './railway/index.js'
import { startTelnyxEmulator } from './telnyx/index.js'

export interface EmulatorsOptions {
  host?: string
  /** Fixed ports per emulator (0 or absent: any free port). */
  ports?: Partial<Record<'railway' | 'openrouter' | 'agentmail' | 'telnyx' | 'bankr', number>>
  /** Latency added to every provider request, in ms. */
  latencyMs?: number
  seed?: number
  faults?: FaultRule[]
  railway?: Omit<RailwayEmulatorOptions, 'host' | 'port'>
}

export type RunningEmulators = Awaited<ReturnType<typeof startEmulators>>

/**
 * Every provider emulator at once, for tests and `npm run emulators`. `env` holds the settings that point
 * services at them, exactly as an operator would set them for the real providers.
 */
export async function startEmulators(options: EmulatorsOptions = {}) {
  const host = options.host ?? '127.0.0.1'
  const common = {
    host,
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  }
  const port = (name: keyof NonNullable<EmulatorsOptions['ports']>) => ({ port: options.ports?.[name] ?? 0 })
  const [railway, openrouter, agentmail, telnyx, bankr] = await Promise.all([
    startRailwayEmulator({ ...common, ...options.railway, ...port('railway') }),
    startOpenRouterEmulator({ ...common, ...port('openrouter') }),
    startAgentMailEmulator({ ...common, ...port('agentmail') }),
    startTelnyxEmulator({ ...common, ...port('telnyx') }),
    startBankrEmulator({ ...common, ...port('bankr') }),
  ])
  const env = {
    RAILWAY_API_URL: railway.url,
    RAILWAY_API_TOKEN: railway.token,
    RAILWAY_WORKSPACE_ID: railway.workspaceId,
    OPENROUTER_API_URL: openrouter.url,
    OPENROUTER_MANAGEMENT_KEY: openrouter.managementKey,
    AGENTMAIL_API_URL: agentmail.url,
    AGENTMAIL_API_KEY: agentmail.apiKey,
    TELNYX_API_URL: telnyx.url,
    TELNYX_API_KEY: telnyx.apiKey,
    ...(telnyx.messagingProfileId ? { TELNYX_MESSAGING_PROFILE_ID: telnyx.messagingProfileId } : {}),
    BANKR_API_URL: bankr.url,
    BANKR_PARTNER_KEY: bankr.partnerKey,
    // The runtime emulator serves instances over plain HTTP on loopback ports.
    RUNTIME_URL_SCHEME: 'http',
  }
  return {
    railway,
    openrouter,
    agentmail,
    telnyx,
    bankr,
    env,
    async close() {
      await Promise.all([
        railway.close(),
        openrouter.close(),
        agentmail.close(),
        telnyx.close(),
        bankr.close(),
      ])
    },
  }
}
