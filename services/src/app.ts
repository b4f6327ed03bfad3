import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { createServer } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import type { Config } from './config.js'
import { createInstancesRepository } from './db/instances-repository.js'
import { createNumberPoolRepository } from './db/number-pool-repository.js'
import type { DatabaseHandle } from './db/open-database.js'
import { registerAuth } from './http/auth.js'
import { answerClientError } from './http/client-errors.js'
import { registerDocs } from './http/docs.js'
import { registerInstanceRateLimit } from './http/instance-rate-limit.js'
import { createMetrics, recordHttpDurations, registerFleetMetrics } from './http/metrics.js'
import { registerProblemHandlers } from './http/problem-handlers.js'
import { createValidatorCompiler } from './http/validation.js'
import { createProviderAgent } from './infra/http/json-client.js'
import type { RailwayClient } from './infra/railway/index.js'
import { createRuntimeClient, type RuntimeClient } from './infra/runtime/runtime-client.js'
import { DEFAULT_TUNING, type LifecycleTuning } from './lifecycle/context.js'
import { createLifecycleEngine, type LifecycleEngine } from './lifecycle/engine.js'
import { createInstanceEvents } from './lifecycle/events.js'
import { createHealthChecker } from './lifecycle/health-checker.js'
import { periodicJobs } from './lifecycle/periodic-jobs.js'
import { createProvisioner } from './lifecycle/provision-tool.js'
import { createStatusService } from './lifecycle/status-batch.js'
import { createStatusBatcher } from './lifecycle/status-batcher.js'
import { createToolPlugins, type ToolPlugins } from './plugins/index.js'
import { createFleetCreationSlots } from './replicas/creation-slots.js'
import { createFleetLeader, onlyOnLeader } from './replicas/fleet-leader.js'
import { createInstanceLeases } from './replicas/instance-leases.js'
import { newReplicaId } from './replicas/replica-id.js'
import { registerRoutes } from './routes/index.js'
import { createSecretBox } from './secrets/secret-box.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The lifecycle engine (when Railway is wired in): `server.ts` starts its reaper, tests drive it. */
    lifecycle: LifecycleEngine | undefined
    /** Jobs `server.ts` runs with the reaper: live pushes, tool releases, the phone number pool. */
    periodicJobs: Array<() => Promise<unknown>>
  }
}

export interface AppDeps {
  database: DatabaseHandle
  /**
   * The Railway adapter; without it the app serves, `/readyz` does not check Railway and operations that
   * need it answer 503 (tests of other parts).
   */
  railway?: RailwayClient
  /** The tool plugins; default: one per tool configured in `config`. */
  plugins?: ToolPlugins
  /** Shorter engine timings (tests). */
  tuning?: Partial<LifecycleTuning>
  /** How services calls running instances; default: over its own keep-alive agent. */
  runtime?: RuntimeClient
  /** Where log lines go (stdout when absent); tests capture them to prove secrets never appear. */
  logStream?: { write(line: string): void }
}

/** Fields that may hold a credential anywhere in a log line; pino replaces their values. */
const SECRET_FIELDS = [
  'authorization',
  'apiKey',
  'token',
  'password',
  'secret',
  'privateKey',
  'managementKey',
  'partnerKey',
]
export const REDACTED_PATHS = [
  'req.headers.authorization',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
]

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** A caller's `x-request-id` is kept when it is a sane token, so logs can be joined across services. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * The whole HTTP application, ready to `inject` or `listen`. It never listens and never reads
 * `process.env`: `server.ts` does both, tests build it with their own config and database.
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    genReqId: requestId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // Node enforces these only when given at creation, and checks them every connectionsCheckingInterval
    // (30 s by default): set here, a client trickling its headers or body is answered 408 within a second
    // of its deadline. Without it, a slow body outlived REQUEST_TIMEOUT_MS (measured: over 60 s at 1 s).
    clientErrorHandler: answerClientError,
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: config.headersTimeoutMs,
          connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
        },
        handler,
      ),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  // Every body of the contract is JSON; without this, Fastify would accept text/plain bodies too.
  app.removeContentTypeParser('text/plain')
  registerProblemHandlers(app)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  // One registry per app, never prom-client's global one: tests build many apps in one process.
  const { railway } = deps
  const metrics = createMetrics({
    db: deps.database.db,
    log: app.log,
    ...(railway ? { railwayStats: () => railway.stats() } : {}),
    ...(deps.database.pool ? { databasePool: deps.database.pool } : {}),
  })
  recordHttpDurations(app, metrics)
  // The adapter outlives the app (server.ts makes it first): the observer is removed when the app closes.
  const stopObservingRailway = railway?.observe(metrics.railway)
  registerAuth(app, {
    poolApiKeys: config.poolApiKeys,
    metricsTokens: config.metricsTokens,
    instances: createInstancesRepository(deps.database.db),
  })
  await registerInstanceRateLimit(app, { perMinute: config.tools.instanceRateLimitPerMinute })
  await registerDocs(app)
  const numberPool = createNumberPoolRepository(deps.database.db)
  const plugins = deps.plugins ?? createToolPlugins(config, { numberPool })
  const secretBox = createSecretBox(config.encryptionKeys)
  const health = createHealthChecker({
    timeoutMs: config.runtime.healthTimeoutMs,
    concurrency: config.runtime.healthConcurrency,
  })
  const runtimeAgent = deps.runtime ? undefined : createProviderAgent()
  const runtime = deps.runtime ?? createRuntimeClient({ dispatcher: runtimeAgent })
  const events = createInstanceEvents()
  let stopping = false
  const coordinated = config.replicas.coordination === 'postgres' && deps.database.kind === 'postgres'
  const replicaId = newReplicaId()
  if (coordinated) {
    registerFleetMetrics(metrics, {
      db: deps.database.db,
      maxSlots: config.railway.maxConcurrentCreations,
      log: app.log,
      ...(railway ? { railwayStats: () => railway.stats() } : {}),
    })
  }
  const leases = coordinated
    ? createInstanceLeases(deps.database.db, replicaId, config.replicas.leaseMs)
    : undefined
  const lifecycle =
    deps.railway &&
    createLifecycleEngine(
      {
        db: deps.database.db,
        railway: deps.railway,
        deployStatus: createStatusBatcher(deps.railway),
        plugins,
        secretBox,
        health,
        config,
        tuning: { ...DEFAULT_TUNING, ...deps.tuning },
        log: app.log,
        events,
        stopping: () => stopping,
        observer: metrics.lifecycle,
        ...(leases
          ? {
              leases,
              creationSlots: createFleetCreationSlots(
                deps.database.db,
                replicaId,
                config.railway.maxConcurrentCreations,
              ),
            }
          : {}),
      },
      () => {
        stopping = true
      },
    )
  app.decorate('lifecycle', lifecycle)
  // Work in flight stops at its next step boundary (and resumes after a restart) before connections close.
  app.addHook('onClose', async () => {
    await lifecycle?.close()
    stopObservingRailway?.()
    await health.close()
    await runtimeAgent?.close()
  })
  // One provisioner for the routes and the reaper, so they share its in-flight attempts.
  const provision =
    deps.railway &&
    createProvisioner({
      db: deps.database.db,
      plugins,
      secretBox,
      runtime,
      log: app.log,
      railway: deps.railway,
      config,
    })
  const jobs = periodicJobs(config, {
    db: deps.database.db,
    plugins,
    secretBox,
    runtime,
    log: app.log,
    numberPool,
    provision,
  })
  // Resuming creations and destroys stays on every replica (the instance leases make it safe); pushes,
  // tool-release retries, finishing interrupted provisions and the number pool cleanup run on one. A
  // leader is renewed every reaper pass, so its term spans a few passes; a leader that dies is replaced
  // once the term lapses.
  const leader = coordinated
    ? createFleetLeader(
        deps.database.db,
        'periodic-jobs',
        replicaId,
        Math.max(config.replicas.leaseMs, 3 * config.lifecycle.reaperIntervalMs),
      )
    : undefined
  app.decorate('periodicJobs', leader ? onlyOnLeader(leader, jobs) : jobs)
  app.addHook('onClose', async () => {
    await leader?.resign().catch((err) => app.log.warn({ err }, 'could not resign the periodic jobs lease'))
  })
  registerRoutes(app, {
    config,
    database: deps.database,
    plugins,
    secretBox,
    health,
    status: createStatusService({
      db: deps.database.db,
      health,
      secretBox,
      logger: app.log,
      ...(deps.railway ? { railway: deps.railway } : {}),
    }),
    events,
    runtime,
    log: app.log,
    metrics,
    ...(deps.railway ? { railway: deps.railway } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    ...(provision ? { provision } : {}),
  })
  return app
}
