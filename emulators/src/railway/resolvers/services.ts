import { randomBytes, randomUUID } from 'node:crypto'
import { userError } from '../errors.js'
import { type DomainRecord, type ServiceRecord, touch, type VolumeRecord } from '../store.js'
import { field, mustEnvironment, mustInstance, mustProject, mustService, type Resolver } from './resolver.js'

interface RegistryCredentialsInput {
  username: string
  password: string
}

interface ServiceCreateInput {
  projectId: string
  environmentId?: string | null
  name?: string | null
  source?: { image?: string | null } | null
  variables?: Record<string, string> | null
  registryCredentials?: RegistryCredentialsInput | null
}

interface ServiceInstanceUpdateInput {
  source?: { image?: string | null } | null
  registryCredentials?: RegistryCredentialsInput | null
  startCommand?: string | null
}

interface VolumeCreateInput {
  projectId: string
  mountPath: string
  serviceId?: string | null
  environmentId?: string | null
}

interface ServiceDomainCreateInput {
  serviceId: string
  environmentId: string
  targetPort?: number | null
}

/** Railway names an image service after the image: `ghcr.io/org/convos-runtime:tag` → `convos-runtime`. */
function nameFromImage(image: string | null | undefined): string | undefined {
  return image?.split('/').at(-1)?.split(/[:@]/)[0] || undefined
}

export const serviceResolvers: Record<string, Resolver> = {
  /**
   * Creates the service in the given environment (else in every environment of the project) with its
   * variables and registry credentials; with `source.image` it starts deploying at once.
   */
  serviceCreate: field<unknown, { input: ServiceCreateInput }>((_, { input }, state) => {
    const project = mustProject(state, input.projectId)
    const environments = input.environmentId
      ? [mustEnvironment(state, input.environmentId, project.id)]
      : state.store.list('environment', (e) => e.projectId === project.id)
    const image = input.source?.image || null
    const base = state.store.base()
    const service: ServiceRecord = {
      ...base,
      projectId: project.id,
      name: input.name || nameFromImage(image) || `service-${randomBytes(3).toString('hex')}`,
      icon: null,
      instances: {},
    }
    for (const environment of environments) {
      service.instances[environment.id] = {
        id: randomUUID(),
        environmentId: environment.id,
        image,
        registryUsername: input.registryCredentials?.username ?? null,
        startCommand: null,
        variables: { ...input.variables },
        createdAt: base.createdAt,
        updatedAt: base.createdAt,
      }
    }
    state.store.put('service', service)
    touch(project)
    if (image) for (const environment of environments) state.deploy(service, environment.id, image, 'deploy')
    return service
  }),

  /** Changes the instance's settings for the next deployment; it does not deploy by itself. */
  serviceInstanceUpdate: field<
    unknown,
    { serviceId: string; environmentId?: string | null; input: ServiceInstanceUpdateInput }
  >((_, { serviceId, environmentId, input }, state) => {
    const service = mustService(state, serviceId)
    const instances = environmentId
      ? [mustInstance(state, serviceId, environmentId).instance]
      : Object.values(service.instances)
    for (const instance of instances) {
      if (input.source?.image !== undefined) instance.image = input.source.image || null
      if (input.registryCredentials !== undefined)
        instance.registryUsername = input.registryCredentials?.username ?? null
      if (input.startCommand !== undefined) instance.startCommand = input.startCommand
      touch(instance)
    }
    return true
  }),

  /** Deletes the service in one environment, or everywhere; the project's other services stay. */
  serviceDelete: field<unknown, { id: string; environmentId?: string | null }>(
    async (_, { id, environmentId }, state) => {
      const service = mustService(state, id)
      if (environmentId) mustInstance(state, id, environmentId)
      await state.deleteService(service, environmentId ?? undefined)
      return true
    },
  ),

  /**
   * `environmentId` left out mounts the volume in the project's environments (here: its first one);
   * an explicit null creates it without mounting it anywhere, as Railway documents.
   */
  volumeCreate: field<unknown, { input: VolumeCreateInput }>((_, { input }, state) => {
    const project = mustProject(state, input.projectId)
    if (input.serviceId) mustService(state, input.serviceId, project.id)
    const environmentId =
      input.environmentId === undefined
        ? (state.store.list('environment', (e) => e.projectId === project.id)[0]?.id ?? null)
        : input.environmentId === null
          ? null
          : mustEnvironment(state, input.environmentId, project.id).id
    const volume: VolumeRecord = {
      ...state.store.base(),
      projectId: project.id,
      name: `volume-${randomBytes(3).toString('hex')}`,
      serviceId: input.serviceId ?? null,
      environmentId,
      instanceId: randomUUID(),
      mountPath: input.mountPath,
    }
    state.store.put('volume', volume)
    touch(project)
    return volume
  }),

  volumeDelete: field<unknown, { volumeId: string }>((_, { volumeId }, state) => {
    if (!state.store.get('volume', volumeId)) throw userError('Volume not found')
    state.store.delete('volume', volumeId)
    return true
  }),

  /**
   * Gives the service a domain: a real HTTP server on a fresh 127.0.0.1 port, so the domain is
   * `127.0.0.1:PORT`. The project's creation counts as finished from here.
   */
  serviceDomainCreate: field<unknown, { input: ServiceDomainCreateInput }>(async (_, { input }, state) => {
    const { service } = mustInstance(state, input.serviceId, input.environmentId)
    const port = await state.runtimes.ensure(service.id).listen()
    if (!state.store.get('service', service.id)) {
      // Deleted while the server was starting: do not leave a server behind.
      await state.runtimes.remove(service.id)
      throw userError('Service not found')
    }
    const domain: DomainRecord = {
      ...state.store.base(),
      projectId: service.projectId,
      serviceId: service.id,
      environmentId: input.environmentId,
      domain: `127.0.0.1:${port}`,
      suffix: null,
      targetPort: input.targetPort ?? null,
      syncStatus: 'ACTIVE',
    }
    state.store.put('domain', domain)
    state.creations.end(service.projectId)
    return domain
  }),
}
