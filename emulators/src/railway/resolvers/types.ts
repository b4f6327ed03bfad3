import { connection, type PageArgs } from '../connection.js'
import { userError } from '../errors.js'
import type { RailwayState } from '../state.js'
import type {
  DeploymentRecord,
  DeploymentStatus,
  EnvironmentRecord,
  ProjectRecord,
  ServiceRecord,
  VolumeRecord,
} from '../store.js'
import { projectOrder } from './query.js'
import { field, type InstanceRef, type ResolverMap } from './resolver.js'

const STOPPED = new Set<DeploymentStatus>(['REMOVED', 'FAILED', 'CRASHED', 'SKIPPED'])

function projectOf(state: RailwayState, record: { projectId: string }) {
  const project = state.store.get('project', record.projectId)
  if (!project) throw userError('Project not found')
  return project
}

function serviceOf(state: RailwayState, record: { serviceId: string }) {
  const service = state.store.get('service', record.serviceId)
  if (!service) throw userError('Service not found')
  return service
}

/** A `VolumeInstance` of `volume` in the environment it is deployed to. */
function volumeInstanceOf(volume: VolumeRecord, environmentId: string) {
  return {
    id: volume.instanceId,
    volumeId: volume.id,
    volume,
    environmentId,
    serviceId: volume.serviceId,
    mountPath: volume.mountPath,
    createdAt: volume.createdAt,
    deletedAt: null,
    // volumeDelete removes it at once here, so it is never seen half-deleted.
    isPendingDeletion: false,
    state: 'READY',
  }
}

/** Field resolvers of the object types whose fields are not plain properties of the stored records. */
export const typeResolvers: ResolverMap = {
  Workspace: {
    projects: field<unknown, PageArgs>((_, args, state) =>
      connection(state.store.list('project'), projectOrder(undefined), args),
    ),
    projectCount: field((_, _args, state) => state.store.list('project').length),
  },

  Project: {
    environments: field<
      ProjectRecord,
      PageArgs & { isEphemeral?: boolean | null; sort?: 'asc' | 'desc' | null }
    >((project, args, state) => {
      const environments = state.store.list(
        'environment',
        (e) => e.projectId === project.id && (args.isEphemeral == null || e.isEphemeral === args.isEphemeral),
      )
      return connection(environments, (e) => [args.sort === 'desc' ? -e.seq : e.seq], args)
    }),
    services: field<ProjectRecord, PageArgs>((project, args, state) =>
      connection(
        state.store.list('service', (s) => s.projectId === project.id),
        (s) => [s.seq],
        args,
      ),
    ),
    volumes: field<ProjectRecord, PageArgs>((project, args, state) =>
      connection(
        state.store.list('volume', (v) => v.projectId === project.id),
        (v) => [v.seq],
        args,
      ),
    ),
    workspace: field<ProjectRecord>((project, _args, state) =>
      project.workspaceId === state.workspace.id ? state.workspace : null,
    ),
  },

  Environment: {
    // The emulator deploys a volume to one environment at most: its instance there is the volume itself.
    volumeInstances: field<EnvironmentRecord, PageArgs>((environment, args, state) =>
      connection(
        state.store
          .list('volume', (v) => v.environmentId === environment.id)
          .map((volume) => volumeInstanceOf(volume, environment.id)),
        (instance) => [instance.volume.seq],
        args,
      ),
    ),
  },

  Service: {
    project: field<ServiceRecord>((service, _args, state) => projectOf(state, service)),
  },

  Volume: {
    project: field<VolumeRecord>((volume, _args, state) => projectOf(state, volume)),
  },

  ServiceInstance: {
    id: field<InstanceRef>(({ instance }) => instance.id),
    serviceId: field<InstanceRef>(({ service }) => service.id),
    serviceName: field<InstanceRef>(({ service }) => service.name),
    environmentId: field<InstanceRef>(({ instance }) => instance.environmentId),
    createdAt: field<InstanceRef>(({ instance }) => instance.createdAt),
    updatedAt: field<InstanceRef>(({ instance }) => instance.updatedAt),
    deletedAt: field(() => null),
    numReplicas: field(() => 1),
    startCommand: field<InstanceRef>(({ instance }) => instance.startCommand),
    source: field<InstanceRef>(({ instance }) =>
      instance.image ? { image: instance.image, repo: null } : null,
    ),
    service: field<InstanceRef>(({ service }) => service),
    latestDeployment: field<InstanceRef>(
      ({ service, instance }, _args, state) =>
        state.latestDeployment(service.id, instance.environmentId) ?? null,
    ),
    activeDeployments: field<InstanceRef>(({ service, instance }, _args, state) =>
      state.store.list(
        'deployment',
        (d) =>
          d.serviceId === service.id && d.environmentId === instance.environmentId && d.status === 'SUCCESS',
      ),
    ),
    domains: field<InstanceRef>(({ service, instance }, _args, state) => ({
      serviceDomains: state.store.list(
        'domain',
        (d) => d.serviceId === service.id && d.environmentId === instance.environmentId,
      ),
      customDomains: [],
    })),
  },

  Deployment: {
    canRedeploy: field(() => true),
    canRollback: field(() => false),
    deploymentStopped: field<DeploymentRecord>((deployment) => STOPPED.has(deployment.status)),
    meta: field<DeploymentRecord>((deployment) => ({ image: deployment.image, reason: deployment.reason })),
    service: field<DeploymentRecord>((deployment, _args, state) => serviceOf(state, deployment)),
    environment: field<DeploymentRecord>((deployment, _args, state) => {
      const environment = state.store.get('environment', deployment.environmentId)
      if (!environment) throw userError('Environment not found')
      return environment
    }),
  },
}
