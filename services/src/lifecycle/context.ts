import type { Config } from '../config.js'
import type { Operation } from '../db/schema.js'
import type { RailwayClient } from '../infra/railway/index.js'
import type { CreationSlots } from '../replicas/creation-slots.js'
import type { InstanceLeases } from '../replicas/instance-leases.js'
import type { InstanceEvents } from './events.js'
import type { StatusBatcher } from './status-batcher.js'
import type { ToolResourceDeps } from './tool-resources.js'

/** Knobs of the engine that are not operator settings (tests shorten them). */
export interface LifecycleTuning {
  /** Attempts of one step for retryable failures, in all. */
  stepAttempts: number
  stepRetryBaseMs: number
  /** Pause between health pings while a new deployment comes up. */
  deployPollMs: number
  /** How often a creation waiting for its deployment asks Railway whether the deployment failed. */
  deployStatusCheckMs: number
}

export const DEFAULT_TUNING: LifecycleTuning = {
  stepAttempts: 4,
  stepRetryBaseMs: 1_000,
  deployPollMs: 1_000,
  deployStatusCheckMs: 20_000,
}

export interface LifecycleLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** How one attempt of a step ended: `retried` failed and runs again, `failed` stops the operation. */
export type StepOutcome = 'done' | 'retried' | 'failed' | 'interrupted'

/**
 * How a creation or destroy run ended in this process: a creation `ready`, `failed` (and undone) or
 * `interrupted` (a destroy or shutdown; resumed later); a destroy `released` everything or left some
 * for the reaper (`incomplete`); `error` is an unexpected throw (the reaper resumes it).
 */
export type OperationOutcome = 'ready' | 'failed' | 'interrupted' | 'released' | 'incomplete' | 'error'

/**
 * Hooks for metrics, called by the engine and the step runner; the lifecycle knows nothing of how they
 * are recorded. Observers must be quick and must not throw.
 */
export interface LifecycleObserver {
  /** A creation or destroy starts running in this process. */
  started(operation: Operation): void
  ended(operation: Operation, outcome: OperationOutcome): void
  /** One attempt of a step took `seconds` (the step's external calls and its database writes). */
  stepAttempted(operation: Operation, step: string, outcome: StepOutcome, seconds: number): void
  /** One pass of the reaper found this many instances with unfinished work. */
  reaperFound(instances: number): void
}

/** Everything the creation and destroy steps use. */
export interface LifecycleDeps extends ToolResourceDeps {
  railway: RailwayClient
  /** Batched deploy-status reads for creations waiting on their deployments. */
  deployStatus: StatusBatcher
  health: { check(url: string, credential?: string): Promise<{ answered: boolean }> }
  config: Pick<Config, 'runtime' | 'lifecycle' | 'railway'>
  tuning: LifecycleTuning
  log: LifecycleLogger
  events: InstanceEvents
  /** True once the server is shutting down: work stops at the next step boundary and resumes on restart. */
  stopping(): boolean
  observer?: LifecycleObserver
  /** Several replicas on one Postgres (REPLICA_COORDINATION=postgres): per-instance leases. */
  leases?: InstanceLeases
  /** Railway's creation slots; default: the governor's in-process ones. */
  creationSlots?: CreationSlots
}
