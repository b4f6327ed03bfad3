import { type RunningEmulators, startEmulators } from '../../emulators/src/start-emulators.js'
import { createServicesClient, type ServicesClient } from '../../pool-client/src/index.js'
import { type Config, loadConfig } from '../../services/src/config.js'
import { createRailway, type Railway } from '../../services/src/infra/railway/index.js'
import { createTestDatabase, type TestPostgresHandle } from '../../services/test/helpers/database.js'
import type { BenchOptions } from '../options.js'
import { type BenchServer, startBenchServer } from './server-process.js'
import type { Teardown } from './teardown.js'

export const POOL_KEY = 'pk_bench_0123456789abcdef0123456789abcdef'
const ENCRYPTION_KEY = `bench:${Buffer.alloc(32, 9).toString('base64')}`

/**
 * One Railway workspace, three tokens: Railway limits each token on its own, so the fleet set up for a
 * scenario and the naive baseline never eat the budget services is measured on.
 */
export const TOKENS = {
  services: 'railway-token-services',
  setup: 'railway-token-fleet-setup',
  naive: 'railway-token-naive',
} as const

export interface BenchEnvironment {
  emulators: RunningEmulators
  database: TestPostgresHandle
  /** The configuration the server process loads from `serverEnv`. */
  config: Config
  serverEnv: Record<string, string>
  /** An adapter on the setup token, for building fleets (paced just under Railway's 50/s). */
  setup: Railway
  /** Starts the server process on this environment; it stops at teardown. */
  startServer(options?: { nodeArgs?: string[] }): Promise<BenchServer>
  client(server: BenchServer): ServicesClient
  /** Railway requests the emulator has received so far, every token included. */
  railwayRequests(): number
}

/** Fresh emulators at the bench latency, with Railway's limits on, and a fresh Postgres database. */
export async function startEnvironment(teardown: Teardown, options: BenchOptions): Promise<BenchEnvironment> {
  const emulators = await startEmulators({
    latencyMs: options.latencyMs,
    railway: { tokens: [TOKENS.services, TOKENS.setup, TOKENS.naive] },
  })
  teardown.teardown(() => emulators.close())
  const database = await createTestDatabase(teardown)
  const serverEnv: Record<string, string> = {
    ...emulators.env,
    RAILWAY_API_TOKEN: TOKENS.services,
    DATABASE_URL: database.url,
    SERVICES_API_KEY: POOL_KEY,
    SERVICES_ENCRYPTION_KEY: ENCRYPTION_KEY,
    HEALTH_TIMEOUT_MS: String(options.healthTimeoutMs),
  }
  const config = loadConfig(serverEnv)
  const setup = createRailway(
    { railway: { ...config.railway, apiToken: TOKENS.setup } },
    { governor: { perSecond: 50, safetyMargin: 0.02 }, transport: { connections: 64 } },
  )
  teardown.teardown(() => setup.close())

  return {
    emulators,
    database,
    config,
    serverEnv,
    setup,
    async startServer(serverOptions = {}) {
      const server = await startBenchServer(serverEnv, { ...serverOptions, entry: options.server })
      teardown.teardown(() => server.stop())
      return server
    },
    client: (server) =>
      createServicesClient({ baseUrl: server.url, apiKey: POOL_KEY }, { timeoutMs: 120_000 }),
    railwayRequests: () => emulators.railway.stats().requests,
  }
}
