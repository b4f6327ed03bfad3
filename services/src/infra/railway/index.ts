import type { Dispatcher } from 'undici'
import type { Config } from '../../config.js'
import type { Clock } from './clock.js'
import { createGovernor, type GovernorOptions } from './governor.js'
import { createRailwayClient, type RailwayClient } from './railway-client.js'
import { createTransport, type TransportOptions } from './transport.js'

export type { Clock } from './clock.js'
export type { DeploymentStatus } from './documents.js'
export type { GovernorObserver, GovernorOptions, GovernorStats, Priority } from './governor.js'
export { projectNameFor } from './project-name.js'
export type {
  ProjectDetails,
  ProjectSummary,
  RailwayClient,
  ServiceRef,
  ServiceStatus,
  ServiceTarget,
} from './railway-client.js'
export { RailwayError } from './railway-error.js'

export interface RailwayOptions {
  /** Instead of the adapter's own undici Pool (tests); the caller closes it. */
  dispatcher?: Dispatcher
  /** The governor's time (tests); also used for `X-RateLimit-Reset` in seconds. */
  clock?: Clock
  /** Rate, creation slots, hourly policy, retries. */
  governor?: Omit<GovernorOptions, 'clock'>
  transport?: Pick<TransportOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'connections'>
}

export interface Railway extends RailwayClient {
  /** Stops the governor (queued calls fail) and closes the connections. */
  close(): Promise<void>
}

/**
 * The Railway adapter from config: transport → governor → typed operations. Throws when the token or
 * the workspace id is missing, naming the setting.
 */
type RailwaySettings = Config['railway']
type Pacing = 'rateLimitPerSecond' | 'maxConcurrentCreations'

export function createRailway(
  config: { railway: Omit<RailwaySettings, Pacing> & Partial<Pick<RailwaySettings, Pacing>> },
  options: RailwayOptions = {},
): Railway {
  const { apiUrl, apiToken, workspaceId, ghcrUsername, ghcrToken } = config.railway
  const missing = [!apiToken && 'RAILWAY_API_TOKEN', !workspaceId && 'RAILWAY_WORKSPACE_ID'].filter(Boolean)
  if (missing.length > 0) throw new Error(`Railway is not configured: set ${missing.join(' and ')}`)

  const clock = options.clock
  const transport = createTransport({
    apiUrl,
    token: apiToken as string,
    ...options.transport,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(clock ? { now: () => clock.now() } : {}),
  })
  const governor = createGovernor(transport, {
    ...(config.railway.rateLimitPerSecond ? { perSecond: config.railway.rateLimitPerSecond } : {}),
    ...(config.railway.maxConcurrentCreations
      ? { maxConcurrentCreations: config.railway.maxConcurrentCreations }
      : {}),
    ...options.governor,
    ...(clock ? { clock } : {}),
  })
  const client = createRailwayClient(governor, {
    workspaceId: workspaceId as string,
    ...(ghcrUsername && ghcrToken
      ? { registryCredentials: { username: ghcrUsername, password: ghcrToken } }
      : {}),
  })
  return {
    ...client,
    async close() {
      governor.close()
      await transport.close()
    },
  }
}
