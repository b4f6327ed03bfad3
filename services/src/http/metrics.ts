import { count, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Database, DatabasePoolStats } from '../db/open-database.js'
import {
  INSTANCE_LIFECYCLES,
  instanceInfra,
  instanceServices,
  OPERATIONS,
  SERVICE_STATUSES,
  TOOL_IDS,
} from '../db/schema.js'
import type { GovernorObserver, GovernorStats } from '../infra/railway/index.js'
import type { LifecycleLogger, LifecycleObserver } from '../lifecycle/context.js'
import { execRows } from '../replicas/rows.js'

/** What `/metrics` serves, and the observers that feed it. One per app: tests build many apps at once. */
export interface Metrics {
  registry: Registry
  /** Given to the Railway governor (`railway.observe`). */
  railway: GovernorObserver
  /** Given to the lifecycle engine and its step runners (`LifecycleDeps.observer`). */
  lifecycle: LifecycleObserver
  /** One HTTP request answered (`recordHttpDurations`). */
  httpRequest(route: string, method: string, status: number, seconds: number): void
}

export interface MetricsDeps {
  db: Database
  /** The governor's numbers, read at each scrape; absent when the app has no Railway. */
  railwayStats?: () => GovernorStats
  /** The postgres pool's size and its connections by state; absent with PGlite (no pool). */
  databasePool?: DatabasePoolStats
  log: LifecycleLogger
}

// Seconds. A create-instance request may wait up to CREATE_WAIT_MS (60 s) and an SSE stream much longer.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
// A step runs from milliseconds (a tool key) to DEPLOY_TIMEOUT_MS (15 min, waiting for the deployment).
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900]
// The governor paces at 45 req/s: waits are milliseconds, unless a 429 pause or the hourly budget holds them.
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10, 30, 60]

/**
 * The app's Prometheus registry (never the global default one) with every metric services exports.
 * `docs/operations.md` explains each metric and the alerts to set on them.
 */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry()
  const registers = [registry]

  // How long each HTTP request took, by route pattern (`/destroy/:instanceId`, never the raw URL, so the
  // number of series stays bounded), method and status; `unmatched` for requests no route serves.
  const httpDuration = new Histogram({
    name: 'services_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'],
    buckets: HTTP_BUCKETS,
    registers,
  })
  // Every attempt sent to Railway, by GraphQL operation (projectCreate, ...) and outcome (`ok` or the
  // error code). Retries count once each: this is what the Railway budget is spent on.
  const railwayRequests = new Counter({
    name: 'services_railway_requests_total',
    help: 'Railway GraphQL requests (attempts) by operation and outcome (ok or error code).',
    labelNames: ['operation', 'outcome'],
    registers,
  })
  // HTTP 429s from Railway: each one pauses every Railway caller for Retry-After.
  const railway429s = new Counter({
    name: 'services_railway_rate_limited_total',
    help: 'HTTP 429 answers received from Railway, by operation.',
    labelNames: ['operation'],
    registers,
  })
  // Time a Railway request waited in the governor's queue for its turn, by priority.
  const railwayWait = new Histogram({
    name: 'services_railway_queue_wait_seconds',
    help: 'Time Railway requests waited in the governor queue, by priority (destroy, create, status).',
    labelNames: ['priority'],
    buckets: WAIT_BUCKETS,
    registers,
  })
  const railwayStats = deps.railwayStats
  if (railwayStats) {
    // What Railway last said is left of the hourly budget (X-RateLimit-Remaining); NaN until Railway has
    // said it (or once its reset time has passed), so an alert on it never fires on a guess.
    new Gauge({
      name: 'services_railway_hourly_budget_remaining',
      help: 'Railway requests left this hour as Railway last reported them (NaN while unknown).',
      registers,
      collect() {
        this.set(railwayStats().hourly.remaining ?? Number.NaN)
      },
    })
    // The hourly limit: Railway's X-RateLimit-Limit as last reported, else the Pro plan's 10,000.
    new Gauge({
      name: 'services_railway_hourly_budget_limit',
      help: 'The hourly Railway request limit (X-RateLimit-Limit as last reported, else 10000).',
      registers,
      collect() {
        this.set(railwayStats().hourly.limit)
      },
    })
    // Requests the per-second bucket could send at once right now (0: callers are queueing).
    new Gauge({
      name: 'services_railway_bucket_tokens',
      help: 'Tokens in the governor per-second bucket (requests that may leave at once).',
      registers,
      collect() {
        this.set(Math.floor(railwayStats().tokens))
      },
    })
    // Requests waiting in the governor's queue, by priority.
    new Gauge({
      name: 'services_railway_queued',
      help: 'Railway requests waiting in the governor queue, by priority.',
      labelNames: ['priority'],
      registers,
      collect() {
        for (const [priority, queued] of Object.entries(railwayStats().queued)) this.set({ priority }, queued)
      },
    })
    // Creation slots (RAILWAY_MAX_CONCURRENT_CREATIONS): running, waiting for a slot, and the maximum.
    new Gauge({
      name: 'services_railway_creation_slots',
      help: 'Creation slots of the governor: running, waiting and max.',
      labelNames: ['state'],
      registers,
      collect() {
        const { running, waiting, max } = railwayStats().creations
        this.set({ state: 'running' }, running)
        this.set({ state: 'waiting' }, waiting)
        this.set({ state: 'max' }, max)
      },
    })
  }

  // Creations and destroys running in this process right now.
  const inFlight = new Gauge({
    name: 'services_lifecycle_in_flight',
    help: 'Creations and destroys running in this process, by operation.',
    labelNames: ['operation'],
    registers,
  })
  // Finished creation and destroy runs, by how they ended (ready, failed, interrupted / released,
  // incomplete / error): the failure rate of creations is the headline number of the control plane.
  const runs = new Counter({
    name: 'services_lifecycle_runs_total',
    help: 'Finished creation and destroy runs in this process, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    registers,
  })
  // One attempt of one step (tool:openrouter, project, service, volume_domain, deploy, railway, ...),
  // by operation, step and outcome (done, retried, failed, interrupted).
  const stepDuration = new Histogram({
    name: 'services_lifecycle_step_duration_seconds',
    help: 'Duration of one attempt of a creation or destroy step, by operation, step and outcome.',
    labelNames: ['operation', 'step', 'outcome'],
    buckets: STEP_BUCKETS,
    registers,
  })
  // Instances with unfinished work the reaper's last pass found (it reads at most 500 per pass).
  const reaperBacklog = new Gauge({
    name: 'services_reaper_backlog',
    help: 'Instances with unfinished work found by the last reaper pass (at most 500).',
    registers,
  })
  for (const operation of OPERATIONS) inFlight.set({ operation }, 0)

  // Read from the database at each scrape, so every replica reports the same whole-system numbers. Every
  // known label value is set (0 when absent) so a state that empties shows 0 instead of vanishing.
  const fromDatabase = async (
    gauge: Gauge<string>,
    what: string,
    query: () => Promise<Array<Record<string, unknown> & { count: number }>>,
    zeros: Array<Record<string, string>>,
  ) => {
    try {
      const rows = await query()
      gauge.reset()
      for (const labels of zeros) gauge.set(labels, 0)
      for (const { count, ...labels } of rows) gauge.set(labels as Record<string, string>, count)
    } catch (err) {
      // A database outage must not take the Railway and HTTP metrics down with it: no samples instead.
      gauge.reset()
      deps.log.warn({ err }, `metrics: could not count ${what}`)
    }
  }
  // Tool resources (OpenRouter keys, wallets, inboxes, numbers, crypto accounts) by tool and row status.
  new Gauge({
    name: 'services_tool_resources',
    help: 'Tool resources by tool and status (from the database).',
    labelNames: ['tool', 'status'],
    registers,
    collect() {
      return fromDatabase(
        this,
        'tool resources',
        () =>
          deps.db
            .select({ tool: instanceServices.toolId, status: instanceServices.status, count: count() })
            .from(instanceServices)
            .groupBy(instanceServices.toolId, instanceServices.status),
        TOOL_IDS.flatMap((tool) => SERVICE_STATUSES.map((status) => ({ tool, status }))),
      )
    },
  })
  // Instances by lifecycle state (creating, ready, failed, destroying, destroyed).
  new Gauge({
    name: 'services_instances',
    help: 'Instances by lifecycle state (from the database).',
    labelNames: ['lifecycle'],
    registers,
    collect() {
      return fromDatabase(
        this,
        'instances',
        () =>
          deps.db
            .select({ lifecycle: instanceInfra.lifecycle, count: count() })
            .from(instanceInfra)
            .groupBy(instanceInfra.lifecycle),
        INSTANCE_LIFECYCLES.map((lifecycle) => ({ lifecycle })),
      )
    },
  })

  const databasePool = deps.databasePool
  if (databasePool) {
    // The postgres pool of this process: connections open and the most it opens (postgres.js keeps no
    // counter of its own, so `open` is read from pg_stat_activity by this process's application name).
    new Gauge({
      name: 'services_database_connections',
      help: 'Database connections of services, by state (pg_stat_activity: active, idle, ...), and max.',
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const rows = await databasePool.connections()
          this.reset()
          this.set({ state: 'max' }, databasePool.max)
          for (const { state, count } of rows) this.set({ state }, count)
        } catch (err) {
          this.reset()
          deps.log.warn({ err }, 'metrics: could not count database connections')
        }
      },
    })
  }

  return {
    registry,
    httpRequest(route, method, status, seconds) {
      httpDuration.observe({ route, method, status }, seconds)
    },
    railway: {
      attempted(operation, outcome) {
        railwayRequests.inc({ operation, outcome })
        if (outcome === 'PROVIDER_RATE_LIMITED') railway429s.inc({ operation })
      },
      waited(priority, ms) {
        railwayWait.observe({ priority }, ms / 1000)
      },
    },
    lifecycle: {
      started(operation) {
        inFlight.inc({ operation })
      },
      ended(operation, outcome) {
        inFlight.dec({ operation })
        runs.inc({ operation, outcome })
      },
      stepAttempted(operation, step, outcome, seconds) {
        stepDuration.observe({ operation, step, outcome }, seconds)
      },
      reaperFound(instances) {
        reaperBacklog.set(instances)
      },
    },
  }
}

/** Times every request, the 404s and the `/metrics` scrapes included, by the route pattern it matched. */
export function recordHttpDurations(app: FastifyInstance, metrics: Metrics) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000)
  })
}

/**
 * With `REPLICA_COORDINATION=postgres`: the fleet's creation slots as the database holds them (the
 * in-process `services_railway_creation_slots` then stays idle), and how often the shared Railway bucket
 * could not be asked (its requests waited meanwhile).
 */
export function registerFleetMetrics(
  metrics: Metrics,
  deps: { db: Database; maxSlots: number; railwayStats?: () => GovernorStats; log: LifecycleLogger },
) {
  const registers = [metrics.registry]
  new Gauge({
    name: 'services_railway_fleet_creation_slots',
    help: 'Creation slots of the whole fleet (from the database): taken and max.',
    labelNames: ['state'],
    registers,
    async collect() {
      try {
        const [row] = await execRows<{ taken: number }>(
          deps.db,
          sql`select count(*)::int as taken from railway_creation_slots c
                join instance_infra i on i.instance_id = c.instance_id
               where c.slot < ${deps.maxSlots} and i.lifecycle in ('creating', 'destroying', 'failed')`,
        )
        this.set({ state: 'taken' }, row?.taken ?? 0)
        this.set({ state: 'max' }, deps.maxSlots)
      } catch (err) {
        this.reset()
        deps.log.warn({ err }, 'metrics: could not count the fleet creation slots')
      }
    },
  })
  const railwayStats = deps.railwayStats
  if (railwayStats) {
    new Gauge({
      name: 'services_railway_fleet_bucket_errors',
      help: 'Times this process could not ask the fleet-wide Railway bucket (the database did not answer).',
      registers,
      collect() {
        this.set(railwayStats().fleetErrors)
      },
    })
  }
}
