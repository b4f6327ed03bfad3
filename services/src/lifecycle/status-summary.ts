import type { InstanceLifecycle } from '../db/schema.js'
import { DeployStatus, type SummaryStatus } from '../generated/schemas.js'

// The deployment will not serve (again) without a new deploy: the pool should replace the instance.
const DEPLOY_FAILED = new Set<DeployStatus>(['FAILED', 'CRASHED', 'REMOVED'])
// Railway is still working on the latest deployment; it may yet become healthy.
const DEPLOY_IN_PROGRESS = new Set<DeployStatus>([
  'QUEUED',
  'INITIALIZING',
  'BUILDING',
  'DEPLOYING',
  'WAITING',
])
const KNOWN_DEPLOY_STATUSES = new Set<unknown>(DeployStatus.enum as unknown[])

/**
 * The pool's one-word summary of an instance.
 * - `creating` → deploying: the creation engine is still at work, whatever Railway says.
 * - `failed` → deploy_failed: the creation failed for good and was compensated; nothing will serve.
 * - `destroying`, `destroyed` → unreachable: being torn down or gone, never to be handed out; the
 *   lifecycle field says why. Neither is pinged nor read from Railway.
 * - `ready`: a failed/crashed/removed latest deployment → deploy_failed; else a runtime that says ready →
 *   healthy (even while a redeploy builds, the old deployment serves); else a deployment in progress →
 *   deploying; else (no answer, not ready yet, service gone at Railway) → unreachable.
 */
export function summaryStatus(
  lifecycle: InstanceLifecycle,
  deployStatus: DeployStatus,
  healthReady: boolean | undefined,
): SummaryStatus {
  if (lifecycle === 'creating') return 'deploying'
  if (lifecycle === 'failed') return 'deploy_failed'
  if (lifecycle !== 'ready') return 'unreachable'
  if (deployStatus !== null && DEPLOY_FAILED.has(deployStatus)) return 'deploy_failed'
  if (healthReady) return 'healthy'
  if (deployStatus !== null && DEPLOY_IN_PROGRESS.has(deployStatus)) return 'deploying'
  return 'unreachable'
}

/** A `deploy_status` column value as the contract's enum; anything unknown reads as "not known" (null). */
export function asDeployStatus(value: string | null): DeployStatus {
  return KNOWN_DEPLOY_STATUSES.has(value) ? (value as DeployStatus) : null
}
