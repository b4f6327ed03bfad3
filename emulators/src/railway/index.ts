import type { FaultRule, Faults } from '../kit/faults.js'
import { Ledger } from '../kit/ledger.js'
import { createEmulatorServer } from '../kit/server.js'
import type { RuntimeView } from '../runtime/agent-runtime.js'
import type { DeployOutcome } from './deployer.js'
import { errorBody, newTraceId } from './errors.js'
import { registerGraphqlRoute } from './graphql-route.js'
import { RateLimiter } from './rate-limit.js'
import { GRAPHQL_PATH, operationOf } from './request.js'
import { resolvers } from './resolvers/index.js'
import { createRailwaySchema } from './schema.js'
import { RailwayState, type ServiceDeleteVolumes } from './state.js'
import type { RailwayKind } from './store.js'

export type { DeployOutcome } from './deployer.js'
export type { ServiceDeleteVolumes } from './state.js'
export type { RailwayKind } from './store.js'

export interface RailwayEmulatorOptions {
  host?: string
  port?: number
  /** Accepted Bearer tokens; default `['railway-emulator-token']`. */
  tokens?: string[]
  /** The workspace the tokens belong to; default `'ws-emulator'`. */
  workspaceId?: string
  /** Per token; default Railway Pro's 50/s and 10,000/h. `false` turns limiting (and its headers) off. */
  rateLimit?: { perSecond: number; perHour: number } | false
  /** Added to every GraphQL request, in ms. */
  latencyMs?: number
  /** Time per deployment status step (default 200 ms) and how new deployments end (default SUCCESS). */
  deploy?: { stepMs?: number; outcome?: DeployOutcome }
  /** A runtime answers `ready:false` this long after it (re)starts (default 500 ms). */
  runtime?: { warmupMs?: number }
  /** What `serviceDelete` does to the service's volumes (default `delete`; see state.ts). */
  serviceDeleteVolumes?: ServiceDeleteVolumes
  faults?: FaultRule[]
  seed?: number
}

export interface RailwayStats {
  /** GraphQL requests received, 429s included. */
  requests: number
  /** The most requests accepted in any rolling second, over all tokens. */
  peakPerSecond: number
  /** 429 responses sent (rate limits and fault storms). */
  rateLimited: number
  /** Most creations (projectCreate → its service has a domain) in flight at once. */
  peakConcurrentCreations: number
  inFlightCreations: number
}

export interface RunningRailwayEmulator {
  /** `http://127.0.0.1:PORT/graphql/v2`: what RAILWAY_API_URL is set to. */
  url: string
  token: string
  workspaceId: string
  faults: Faults
  ledger: Ledger<RailwayKind>
  stats(): RailwayStats
  /** The service's runtime crashes: connections refused, its live deployment CRASHED, until a deploy succeeds. */
  killRuntime(serviceId: string): void
  /** How deployments created from now on end. */
  setDeployOutcome(outcome: DeployOutcome): void
  /** What a service's runtime has received (env, provisions, restarts); undefined if it has none. */
  runtimeOf(serviceId: string): RuntimeView | undefined
  close(): Promise<void>
}

/** Starts the Railway public API emulator (providers.md §1), with a runtime emulator behind every domain. */
export async function startRailwayEmulator(
  options: RailwayEmulatorOptions = {},
): Promise<RunningRailwayEmulator> {
  const tokens = options.tokens ?? ['railway-emulator-token']
  const token = tokens[0]
  if (token === undefined) throw new Error('the Railway emulator needs at least one token')
  const workspaceId = options.workspaceId ?? 'ws-emulator'
  const ledger = new Ledger<RailwayKind>()
  const state = new RailwayState({
    ledger,
    workspaceId,
    stepMs: options.deploy?.stepMs ?? 200,
    outcome: options.deploy?.outcome ?? 'SUCCESS',
    warmupMs: options.runtime?.warmupMs ?? 500,
    serviceDeleteVolumes: options.serviceDeleteVolumes ?? 'delete',
  })
  const { app, faults } = createEmulatorServer(
    {
      name: 'railway',
      ledger,
      errorBody: (status, message) =>
        errorBody(message, status >= 500 ? 'INTERNAL_SERVER_ERROR' : undefined, newTraceId()),
      operationOf,
    },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    },
  )
  const rateLimit = options.rateLimit ?? { perSecond: 50, perHour: 10_000 }
  const counters = registerGraphqlRoute(app, {
    schema: createRailwaySchema(resolvers),
    state,
    tokens,
    limiter: rateLimit === false ? undefined : new RateLimiter(rateLimit),
  })
  const host = options.host ?? '127.0.0.1'
  try {
    await app.listen({ host, port: options.port ?? 0 })
  } catch (error) {
    await state.close()
    throw error
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    token,
    workspaceId,
    faults,
    ledger,
    stats: () => ({
      requests: counters.requests,
      peakPerSecond: counters.peak.peak,
      rateLimited: counters.rateLimited,
      peakConcurrentCreations: state.creations.peak,
      inFlightCreations: state.creations.inFlight,
    }),
    killRuntime: (serviceId) => {
      void state.killRuntime(serviceId)
    },
    setDeployOutcome: (outcome) => {
      state.deployer.outcome = outcome
    },
    runtimeOf: (serviceId) => state.runtimes.get(serviceId)?.view(),
    close: async () => {
      await state.close()
      await app.close()
    },
  }
}
