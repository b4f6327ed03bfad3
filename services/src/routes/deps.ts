import type { Config } from '../config.js'
import type { DatabaseHandle } from '../db/open-database.js'
import type { Metrics } from '../http/metrics.js'
import { ProblemError } from '../http/problem.js'
import type { RailwayClient } from '../infra/railway/index.js'
import type { RuntimeClient } from '../infra/runtime/runtime-client.js'
import type { LifecycleLogger } from '../lifecycle/context.js'
import type { LifecycleEngine } from '../lifecycle/engine.js'
import type { InstanceEvents } from '../lifecycle/events.js'
import type { HealthChecker } from '../lifecycle/health-checker.js'
import type { Provisioner } from '../lifecycle/provision-tool.js'
import type { StatusService } from '../lifecycle/status-batch.js'
import type { ToolPlugins } from '../plugins/index.js'
import type { SecretBox } from '../secrets/secret-box.js'

/** What every handler may use. Routes call lifecycle code with these; they never call a provider's API. */
export interface RouteDeps {
  config: Config
  database: DatabaseHandle
  /** Absent only in tests that do not need Railway; operations that do answer 503 without it. */
  railway?: RailwayClient
  plugins: ToolPlugins
  secretBox: SecretBox
  /** Pings of running instances, shared by status batches and creations. */
  health: HealthChecker
  /** `POST /status/batch`: deploy status (cached, shared between batches) and health of many instances. */
  status: StatusService
  /** Step changes of creations and destroys in flight (for `/events`). */
  events: InstanceEvents
  /** Calls to running instances' pool routes (live env pushes, configure). */
  runtime: RuntimeClient
  log: LifecycleLogger
  /** Creations and destroys; present when `railway` is. */
  lifecycle?: LifecycleEngine
  /** Tool provisions (shared with the reaper, which finishes interrupted ones); present when `railway` is. */
  provision?: Provisioner
  /** The app's Prometheus registry, served at `/metrics`. */
  metrics: Metrics
}

/** The lifecycle engine, or the same 503 as `requireRailway` (it cannot run without Railway). */
export function requireLifecycle(deps: Pick<RouteDeps, 'railway' | 'lifecycle'>): LifecycleEngine {
  requireRailway(deps)
  return deps.lifecycle as LifecycleEngine
}

/** The provisioner, or the same 503 as `requireRailway` (it writes the instance's Railway variables). */
export function requireProvisioner(deps: Pick<RouteDeps, 'railway' | 'provision'>): Provisioner {
  requireRailway(deps)
  return deps.provision as Provisioner
}

/** The Railway client, or a 503 saying the server runs without one (a test or a half-built app). */
export function requireRailway(deps: Pick<RouteDeps, 'railway'>): RailwayClient {
  if (deps.railway) return deps.railway
  throw new ProblemError(503, 'RAILWAY_NOT_CONFIGURED', 'this server has no Railway connection')
}
