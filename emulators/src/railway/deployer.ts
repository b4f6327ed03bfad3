import type { DeploymentRecord, DeploymentStatus, RailwayStore, ServiceRecord } from './store.js'

export type DeployOutcome = 'SUCCESS' | 'FAILED' | 'CRASHED'

// A build fails after BUILDING; a crash happens once the container is deploying.
const PATHS: Record<DeployOutcome, DeploymentStatus[]> = {
  SUCCESS: ['QUEUED', 'INITIALIZING', 'BUILDING', 'DEPLOYING', 'SUCCESS'],
  FAILED: ['QUEUED', 'INITIALIZING', 'BUILDING', 'FAILED'],
  CRASHED: ['QUEUED', 'INITIALIZING', 'BUILDING', 'DEPLOYING', 'CRASHED'],
}

const IN_PROGRESS = new Set<DeploymentStatus>(['QUEUED', 'WAITING', 'INITIALIZING', 'BUILDING', 'DEPLOYING'])
const LIVE = new Set<DeploymentStatus>(['SUCCESS', 'SLEEPING', 'CRASHED'])

export interface DeployHooks {
  /** The deployment is live: (re)start the service's runtime with its variables. */
  succeeded(deployment: DeploymentRecord): void
  crashed(deployment: DeploymentRecord): void
}

export interface DeployRequest {
  image: string | null
  variables: Record<string, string>
  reason: DeploymentRecord['reason']
  staticUrl: string | null
}

/**
 * Moves deployments through Railway's statuses, one step per `stepMs`, on timers that `close()` clears.
 * The outcome is fixed when a deployment is created. A newer deployment supersedes older unfinished ones
 * at once (REMOVED) and, when it goes live, the previous live one (REMOVED).
 */
export class Deployer {
  outcome: DeployOutcome
  readonly #timers = new Map<string, NodeJS.Timeout>()

  constructor(
    private readonly store: RailwayStore,
    private readonly stepMs: number,
    outcome: DeployOutcome,
    private readonly hooks: DeployHooks,
  ) {
    this.outcome = outcome
  }

  deploy(service: ServiceRecord, environmentId: string, request: DeployRequest): DeploymentRecord {
    for (const older of this.#deploymentsOf(service.id, environmentId)) {
      if (IN_PROGRESS.has(older.status)) this.#finishEarly(older, 'REMOVED')
    }
    const base = this.store.base()
    const deployment: DeploymentRecord = {
      ...base,
      projectId: service.projectId,
      serviceId: service.id,
      environmentId,
      status: 'QUEUED',
      statusUpdatedAt: base.createdAt,
      image: request.image,
      variables: { ...request.variables },
      reason: request.reason,
      staticUrl: request.staticUrl,
      url: null,
    }
    this.store.put('deployment', deployment)
    this.#schedule(deployment.id, PATHS[this.outcome], 1)
    return deployment
  }

  /** Stops a deployment's progression (its service or project is being deleted). */
  cancel(deploymentId: string) {
    clearTimeout(this.#timers.get(deploymentId))
    this.#timers.delete(deploymentId)
  }

  close() {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  #schedule(id: string, path: DeploymentStatus[], step: number) {
    const timer = setTimeout(() => {
      this.#timers.delete(id)
      const deployment = this.store.get('deployment', id)
      const status = path[step]
      if (!deployment || !status) return
      setStatus(deployment, status)
      if (step < path.length - 1) this.#schedule(id, path, step + 1)
      else this.#finish(deployment)
    }, this.stepMs)
    this.#timers.set(id, timer)
  }

  #finish(deployment: DeploymentRecord) {
    if (deployment.status === 'FAILED') return
    for (const older of this.#deploymentsOf(deployment.serviceId, deployment.environmentId)) {
      if (older.id !== deployment.id && LIVE.has(older.status)) setStatus(older, 'REMOVED')
    }
    if (deployment.status === 'SUCCESS') this.hooks.succeeded(deployment)
    else this.hooks.crashed(deployment)
  }

  #finishEarly(deployment: DeploymentRecord, status: DeploymentStatus) {
    this.cancel(deployment.id)
    setStatus(deployment, status)
  }

  #deploymentsOf(serviceId: string, environmentId: string) {
    return this.store.list(
      'deployment',
      (d) => d.serviceId === serviceId && d.environmentId === environmentId,
    )
  }
}

export function setStatus(deployment: DeploymentRecord, status: DeploymentStatus) {
  deployment.status = status
  deployment.statusUpdatedAt = new Date().toISOString()
  deployment.updatedAt = deployment.statusUpdatedAt
}
