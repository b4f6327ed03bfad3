import type { Config } from '../config.js'
import type { RailwayClient } from '../infra/railway/index.js'
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
}
