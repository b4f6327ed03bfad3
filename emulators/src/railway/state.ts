import type { Ledger } from '../kit/ledger.js'
import { CreationTracker } from './creations.js'
import { Deployer, type DeployOutcome, setStatus } from './deployer.js'
import { RuntimeRegistry } from './runtimes.js'
import {
  type DeploymentRecord,
  type ProjectRecord,
  type RailwayKind,
  RailwayStore,
  type ServiceRecord,
  touch,
  type VolumeRecord,
} from './store.js'

export interface RailwayStateOptions {
  ledger: Ledger<RailwayKind>
  workspaceId: string
  stepMs: number
  outcome: DeployOutcome
  warmupMs: number
  serviceDeleteVolumes: ServiceDeleteVolumes
}

/**
 * What `serviceDelete` does to the service's volumes. Railway documents that `projectDelete` removes a
 * project's volumes but says nothing for `serviceDelete` ([I]): `delete` removes them with the service,
 * `detach` leaves them in the project unattached (serviceId null), so a test can prove that a caller
 * deletes them itself rather than counting on it.
 */
export type ServiceDeleteVolumes = 'delete' | 'detach'

/**
 * Everything the resolvers act on (it is the GraphQL context): the store, deployments, runtimes and the
 * creation counter, plus the operations that touch several of them at once.
 */
export class RailwayState {
  readonly store: RailwayStore
  readonly deployer: Deployer
  readonly runtimes: RuntimeRegistry
  readonly creations = new CreationTracker()
  readonly workspace: { id: string; name: string; createdAt: string; updatedAt: string }
  readonly #serviceDeleteVolumes: ServiceDeleteVolumes

  constructor(options: RailwayStateOptions) {
    this.#serviceDeleteVolumes = options.serviceDeleteVolumes
    this.store = new RailwayStore(options.ledger)
    this.runtimes = new RuntimeRegistry(options.warmupMs)
    this.deployer = new Deployer(this.store, options.stepMs, options.outcome, {
      succeeded: (deployment) => this.#startRuntime(deployment),
      crashed: (deployment) => this.runtimes.get(deployment.serviceId)?.crash(),
    })
    const now = new Date().toISOString()
    this.workspace = { id: options.workspaceId, name: 'Emulated workspace', createdAt: now, updatedAt: now }
  }

  /** A new deployment of a service instance from `image` with the instance's current variables. */
  deploy(
    service: ServiceRecord,
    environmentId: string,
    image: string | null,
    reason: DeploymentRecord['reason'],
  ): DeploymentRecord {
    const instance = service.instances[environmentId]
    const domain = this.store.list(
      'domain',
      (d) => d.serviceId === service.id && d.environmentId === environmentId,
    )[0]
    return this.deployer.deploy(service, environmentId, {
      image,
      variables: { ...instance?.variables },
      reason,
      staticUrl: domain?.domain ?? null,
    })
  }

  /** The newest deployment of a service instance, whatever its status. */
  latestDeployment(serviceId: string, environmentId: string): DeploymentRecord | undefined {
    return this.store
      .list('deployment', (d) => d.serviceId === serviceId && d.environmentId === environmentId)
      .at(-1)
  }

  async deleteProject(project: ProjectRecord): Promise<void> {
    for (const service of this.store.list('service', (s) => s.projectId === project.id)) {
      await this.deleteService(service)
    }
    for (const volume of this.store.list('volume', (v) => v.projectId === project.id)) {
      this.store.delete('volume', volume.id)
    }
    for (const environment of this.store.list('environment', (e) => e.projectId === project.id)) {
      this.store.delete('environment', environment.id)
    }
    this.store.delete('project', project.id)
    this.creations.end(project.id)
  }

  /**
   * Deletes a service in one environment, or everywhere. When its last instance goes, the service goes
   * with its domains, deployments and runtime; its volumes go too, or are detached (`serviceDeleteVolumes`).
   */
  async deleteService(service: ServiceRecord, environmentId?: string): Promise<void> {
    const environments = environmentId === undefined ? Object.keys(service.instances) : [environmentId]
    for (const envId of environments) {
      for (const deployment of this.store.list(
        'deployment',
        (d) => d.serviceId === service.id && d.environmentId === envId,
      )) {
        this.deployer.cancel(deployment.id)
        this.store.delete('deployment', deployment.id)
      }
      for (const domain of this.store.list(
        'domain',
        (d) => d.serviceId === service.id && d.environmentId === envId,
      )) {
        this.store.delete('domain', domain.id)
      }
      for (const volume of this.store.list(
        'volume',
        (v) => v.serviceId === service.id && v.environmentId === envId,
      )) {
        this.#releaseVolume(volume)
      }
      delete service.instances[envId]
    }
    if (Object.keys(service.instances).length > 0) return
    for (const volume of this.store.list('volume', (v) => v.serviceId === service.id)) {
      this.#releaseVolume(volume)
    }
    this.store.delete('service', service.id)
    await this.runtimes.remove(service.id)
  }

  /** The process crashed: its servers stop answering and its live deployment shows CRASHED. */
  async killRuntime(serviceId: string): Promise<void> {
    for (const deployment of this.store.list('deployment', (d) => d.serviceId === serviceId)) {
      if (deployment.status === 'SUCCESS') setStatus(deployment, 'CRASHED')
    }
    await this.runtimes.get(serviceId)?.kill()
  }

  async close(): Promise<void> {
    this.deployer.close()
    await this.runtimes.closeAll()
  }

  #releaseVolume(volume: VolumeRecord) {
    if (this.#serviceDeleteVolumes === 'delete') {
      this.store.delete('volume', volume.id)
      return
    }
    volume.serviceId = null
    touch(volume)
  }

  #startRuntime(deployment: DeploymentRecord) {
    const service = this.store.get('service', deployment.serviceId)
    const environment = this.store.get('environment', deployment.environmentId)
    if (!service || !environment) return
    const domain = this.store.list('domain', (d) => d.serviceId === service.id)[0]
    // What Railway injects into every deployment; the service's own variables win.
    const provided: Record<string, string> = {
      PORT: '8080',
      RAILWAY_PROJECT_ID: service.projectId,
      RAILWAY_ENVIRONMENT_ID: environment.id,
      RAILWAY_ENVIRONMENT_NAME: environment.name,
      RAILWAY_SERVICE_ID: service.id,
      RAILWAY_SERVICE_NAME: service.name,
      RAILWAY_DEPLOYMENT_ID: deployment.id,
      ...(domain ? { RAILWAY_PUBLIC_DOMAIN: domain.domain } : {}),
    }
    this.runtimes
      .ensure(service.id)
      .start({ ...provided, ...deployment.variables })
      .catch(() => {
        // Rebinding a dead runtime's port can fail if another process took it; it then stays unreachable.
      })
  }
}
