import {
  CreateDomain,
  CreateProject,
  CreateService,
  CreateVolume,
  CreateVolumeAndDomain,
  DEFAULT_ENVIRONMENT_NAME,
  DeleteProject,
  DeleteService,
  DeleteVariable,
  DeleteVolume,
  DeployService,
  deleteVariablesDocument,
  GetProject,
  GetWorkspace,
  ListProjects,
  type NamedNode,
  PROJECTS_PAGE_SIZE,
  type RegistryCredentials,
  ServiceProject,
  STATUS_BATCH_SIZE,
  UpdateImageAndDeploy,
  UpsertVariables,
  VOLUMES_PAGE_SIZE,
  VolumeAndDomainOf,
  VolumesOfEnvironment,
} from './documents.js'
import type { Governor, GovernorObserver, GovernorStats } from './governor.js'
import { RailwayError } from './railway-error.js'
import { type ServiceRef, type ServiceStatus, statusOf } from './status-batch.js'

export type { ServiceRef, ServiceStatus } from './status-batch.js'

/** Where a service's variables live: Railway needs all three ids (the old code's bug was to omit them). */
export interface ServiceTarget extends ServiceRef {
  projectId: string
}

export interface ProjectSummary {
  id: string
  name: string
}

export interface ProjectDetails extends ProjectSummary {
  environments: NamedNode[]
  services: NamedNode[]
  volumeIds: string[]
}

export interface RailwayClientOptions {
  workspaceId: string
  /** GHCR credentials for a private image; when absent the image must be public. */
  registryCredentials?: RegistryCredentials
}

/** The typed Railway operations services uses. Every call goes through the governor. */
export interface RailwayClient {
  createProject(name: string): Promise<{ projectId: string; environmentId: string }>
  createService(input: {
    projectId: string
    environmentId: string
    name: string
    image: string
    variables: Record<string, string>
  }): Promise<{ serviceId: string }>
  /**
   * Volume and domain of a new service in one request. With `resume` (a crash may have left one or both
   * behind), what exists is read first and only what is missing is created.
   */
  createVolumeAndDomain(
    input: ServiceTarget & { targetPort: number; resume?: boolean },
  ): Promise<{ volumeId: string; domain: string }>
  statusOf(refs: readonly ServiceRef[]): Promise<ServiceStatus[]>
  redeploy(ref: ServiceRef, image?: string): Promise<{ deploymentId: string }>
  upsertVariables(
    target: ServiceTarget,
    variables: Record<string, string>,
    options: { skipDeploys: boolean },
  ): Promise<void>
  deleteVariables(target: ServiceTarget, names: readonly string[]): Promise<void>
  deleteProject(projectId: string): Promise<'deleted' | 'gone'>
  deleteService(ref: ServiceRef): Promise<'deleted' | 'gone'>
  deleteVolume(volumeId: string): Promise<'deleted' | 'gone'>
  /**
   * The ids of the volumes mounted in this service in its environment, those already being deleted left
   * out; none when the environment is gone. Never a volume of another service, nor a detached one.
   */
  volumesOf(target: ServiceTarget): Promise<string[]>
  findProjectByName(name: string): Promise<ProjectSummary | undefined>
  /** The ids of the project named `name` and its production environment, if it exists (crash recovery). */
  findProjectIds(name: string): Promise<{ projectId: string; environmentId: string } | undefined>
  listProjects(): Promise<ProjectSummary[]>
  getProject(projectId: string): Promise<ProjectDetails | undefined>
  /** The id of the project the service belongs to, or undefined when Railway knows no such service. */
  projectOfService(serviceId: string): Promise<string | undefined>
  checkWorkspace(): Promise<{ id: string; name: string }>
  withCreationSlot<T>(fn: () => Promise<T>): Promise<T>
  stats(): GovernorStats
  /** Adds a metrics observer to the governor; returns the function that removes it. */
  observe(observer: GovernorObserver): () => void
}

// Rounds of "try, and on an ambiguous failure look up" before giving up: each round costs 1-3 requests.
const MAX_ROUNDS = 3
// Pages of projects read before concluding something is wrong with the cursor (100,000 projects).
const MAX_PAGES = 1_000

const isNotFound = (error: unknown) => error instanceof RailwayError && error.code === 'PROVIDER_NOT_FOUND'
/** Railway may have done the work although the call failed: look it up before doing it again. */
const isAmbiguous = (error: unknown) => !(error instanceof RailwayError) || error.mayHaveHappened
/**
 * For a document with two root mutations, an error in a 200 can come from the second after the first
 * succeeded; only a refusal of the whole request (4xx, 429, never connected) proves nothing happened.
 */
const mayBeHalfDone = (error: unknown) =>
  isAmbiguous(error) || (error instanceof RailwayError && error.status !== undefined && error.status < 300)

const productionOf = (environments: readonly NamedNode[]) =>
  environments.find((e) => e.name === DEFAULT_ENVIRONMENT_NAME) ?? environments[0]

const nodes = <T>(connection: { edges: { node: T }[] } | undefined | null): T[] =>
  connection?.edges.map((edge) => edge.node) ?? []

/**
 * The operations over the governor. The rule for every mutation when Railway may have done the work
 * without our knowing (timeout, reset, 5xx):
 * - projectCreate → find the project by its deterministic name; adopt it if there, else create again.
 * - serviceCreate → look for a service of that name in the project; adopt it, else create again.
 * - volumeCreate + serviceDomainCreate → read the project's volumes and the service's domains; create
 *   only what is missing.
 * - variableCollectionUpsert, variableDelete, serviceInstanceUpdate + DeployV2 (same config, same
 *   result), projectDelete/serviceDelete/volumeDelete (where "not found" means done) → safe to repeat:
 *   retried by the governor like queries.
 */
export function createRailwayClient(governor: Governor, options: RailwayClientOptions): RailwayClient {
  const credentials = options.registryCredentials ? { registryCredentials: options.registryCredentials } : {}

  const destroy = async (send: () => Promise<unknown>): Promise<'deleted' | 'gone'> => {
    try {
      await send()
      return 'deleted'
    } catch (error) {
      if (isNotFound(error)) return 'gone'
      throw error
    }
  }

  const client: RailwayClient = {
    async createProject(name) {
      let lastError: unknown
      for (let round = 0; round < MAX_ROUNDS; round++) {
        try {
          const { projectCreate } = await governor.request(
            CreateProject,
            { name, workspaceId: options.workspaceId },
            { priority: 'create' },
          )
          const environment = productionOf(nodes(projectCreate.environments))
          if (environment) return { projectId: projectCreate.id, environmentId: environment.id }
          return await adoptProject(projectCreate.id)
        } catch (error) {
          if (!isAmbiguous(error)) throw error
          lastError = error
          const found = await client.findProjectByName(name)
          if (found) return await adoptProject(found.id)
        }
      }
      throw lastError
    },

    async createService(input) {
      let lastError: unknown
      for (let round = 0; round < MAX_ROUNDS; round++) {
        try {
          const { serviceCreate } = await governor.request(
            CreateService,
            { ...input, ...credentials },
            { priority: 'create' },
          )
          return { serviceId: serviceCreate.id }
        } catch (error) {
          if (!isAmbiguous(error)) throw error
          lastError = error
          const project = await client.getProject(input.projectId)
          const existing = project?.services.find((s) => s.name === input.name)
          if (existing) return { serviceId: existing.id }
        }
      }
      throw lastError
    },

    async createVolumeAndDomain(input) {
      const variables = {
        projectId: input.projectId,
        environmentId: input.environmentId,
        serviceId: input.serviceId,
        targetPort: input.targetPort,
      }
      let lastError: unknown
      if (!input.resume) {
        try {
          const data = await governor.request(CreateVolumeAndDomain, variables, { priority: 'create' })
          return { volumeId: data.volumeCreate.id, domain: data.serviceDomainCreate.domain }
        } catch (error) {
          if (!mayBeHalfDone(error)) throw error
          lastError = error
        }
      }
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const existing = await governor.request(
          VolumeAndDomainOf,
          { projectId: input.projectId, environmentId: input.environmentId, serviceId: input.serviceId },
          { priority: 'create' },
        )
        let volumeId = nodes(existing.project.volumes)[0]?.id
        let domain = existing.serviceInstance.domains.serviceDomains[0]?.domain
        try {
          if (!volumeId) {
            const { projectId, environmentId, serviceId } = variables
            volumeId = (
              await governor.request(
                CreateVolume,
                { projectId, environmentId, serviceId },
                { priority: 'create' },
              )
            ).volumeCreate.id
          }
          if (!domain) {
            const { environmentId, serviceId, targetPort } = variables
            domain = (
              await governor.request(
                CreateDomain,
                { environmentId, serviceId, targetPort },
                { priority: 'create' },
              )
            ).serviceDomainCreate.domain
          }
          return { volumeId, domain }
        } catch (error) {
          if (!isAmbiguous(error)) throw error
          lastError = error
        }
      }
      throw lastError
    },

    statusOf(refs) {
      return statusOf(governor, refs)
    },

    async redeploy(ref, image) {
      if (image === undefined) {
        const data = await governor.request(DeployService, ref, { priority: 'create', idempotent: true })
        return { deploymentId: data.serviceInstanceDeployV2 }
      }
      const data = await governor.request(
        UpdateImageAndDeploy,
        { ...ref, image, ...credentials },
        { priority: 'create', idempotent: true },
      )
      return { deploymentId: data.serviceInstanceDeployV2 }
    },

    async upsertVariables(target, variables, { skipDeploys }) {
      await governor.request(
        UpsertVariables,
        { ...targetIds(target), variables, skipDeploys },
        { priority: 'create', idempotent: true },
      )
    },

    async deleteVariables(target, names) {
      const ids = targetIds(target)
      for (let i = 0; i < names.length; i += STATUS_BATCH_SIZE) {
        const chunk = names.slice(i, i + STATUS_BATCH_SIZE)
        const variables: Record<string, string> = { ...ids }
        chunk.forEach((name, j) => {
          variables[`n${j}`] = name
        })
        try {
          await governor.request(deleteVariablesDocument(chunk.length), variables, {
            priority: 'create',
            idempotent: true,
          })
        } catch (error) {
          if (!isNotFound(error)) throw error
          // One name already gone stops the rest of the batch (root mutations run in order and stop at a
          // non-null error): delete one by one, where "not found" means done.
          for (const name of chunk) {
            await destroy(() =>
              governor.request(DeleteVariable, { ...ids, name }, { priority: 'create', idempotent: true }),
            )
          }
        }
      }
    },

    deleteProject(projectId) {
      return destroy(() =>
        governor.request(DeleteProject, { id: projectId }, { priority: 'destroy', idempotent: true }),
      )
    },

    deleteService(ref) {
      return destroy(() =>
        governor.request(
          DeleteService,
          { id: ref.serviceId, environmentId: ref.environmentId },
          { priority: 'destroy', idempotent: true },
        ),
      )
    },

    deleteVolume(volumeId) {
      return destroy(() =>
        governor.request(DeleteVolume, { volumeId }, { priority: 'destroy', idempotent: true }),
      )
    },

    async volumesOf(target) {
      const ids = new Set<string>()
      let after: string | undefined
      for (let page = 0; page < MAX_PAGES; page++) {
        const instances = await volumeInstancesPage(target, after)
        if (!instances) return []
        for (const volume of nodes(instances)) {
          const live = !volume.isPendingDeletion && volume.deletedAt === null
          if (live && volume.serviceId === target.serviceId) ids.add(volume.volumeId)
        }
        if (!instances.pageInfo.hasNextPage || !instances.pageInfo.endCursor) return [...ids]
        after = instances.pageInfo.endCursor
      }
      throw new RailwayError({
        code: 'PROVIDER_BAD_RESPONSE',
        operation: 'VolumesOfEnvironment',
        message: `more than ${MAX_PAGES} pages of volumes: the cursor does not advance`,
        mayHaveHappened: false,
      })
    },

    async findProjectByName(name) {
      let found: ProjectSummary | undefined
      await eachProjectPage((page) => {
        found = page.find((p) => p.name === name)
        return found === undefined
      })
      return found
    },

    async findProjectIds(name) {
      const found = await client.findProjectByName(name)
      return found && (await adoptProject(found.id))
    },

    async listProjects() {
      const all: ProjectSummary[] = []
      await eachProjectPage((page) => {
        all.push(...page)
        return true
      })
      return all
    },

    async getProject(projectId) {
      try {
        const { project } = await governor.request(GetProject, { id: projectId }, { priority: 'create' })
        return {
          id: project.id,
          name: project.name,
          environments: nodes(project.environments),
          services: nodes(project.services),
          volumeIds: nodes(project.volumes).map((v) => v.id),
        }
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    },

    async projectOfService(serviceId) {
      try {
        const { service } = await governor.request(ServiceProject, { id: serviceId }, { priority: 'create' })
        return service.projectId
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    },

    async checkWorkspace() {
      try {
        const { workspace } = await governor.request(
          GetWorkspace,
          { workspaceId: options.workspaceId },
          { priority: 'create' },
        )
        return { id: workspace.id, name: workspace.name }
      } catch (error) {
        if (!(error instanceof RailwayError)) throw error
        if (error.code !== 'PROVIDER_UNAUTHORIZED' && error.code !== 'PROVIDER_NOT_FOUND') throw error
        throw new RailwayError({
          code: 'PROVIDER_UNAUTHORIZED',
          operation: error.operation,
          message:
            `RAILWAY_API_TOKEN cannot see the workspace RAILWAY_WORKSPACE_ID=${options.workspaceId}. ` +
            'Use an account token, or a workspace token created in that workspace. A project token cannot ' +
            'create projects, so it cannot run services.',
          ...(error.status !== undefined ? { status: error.status } : {}),
          errors: [...error.errors],
          mayHaveHappened: false,
          cause: error,
        })
      }
    },

    withCreationSlot(fn) {
      return governor.withCreationSlot(fn)
    },

    stats() {
      return governor.stats()
    },

    observe(observer) {
      return governor.observe(observer)
    },
  }

  /** The ids of an existing project's production environment (after an adoption, or a bare response). */
  async function adoptProject(projectId: string) {
    const project = await client.getProject(projectId)
    const environment = project && productionOf(project.environments)
    if (!environment) {
      throw new RailwayError({
        code: 'PROVIDER_BAD_RESPONSE',
        operation: 'GetProject',
        message: `project ${projectId} has no environment`,
        mayHaveHappened: false,
      })
    }
    return { projectId, environmentId: environment.id }
  }

  /** One page of an environment's volume instances; undefined when the environment is gone. */
  async function volumeInstancesPage(target: ServiceTarget, after: string | undefined) {
    try {
      const { environment } = await governor.request(
        VolumesOfEnvironment,
        {
          projectId: target.projectId,
          environmentId: target.environmentId,
          first: VOLUMES_PAGE_SIZE,
          ...(after ? { after } : {}),
        },
        { priority: 'destroy' },
      )
      return environment.volumeInstances
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  /** Reads the workspace's projects page by page while `onPage` returns true and pages remain. */
  async function eachProjectPage(onPage: (page: ProjectSummary[]) => boolean) {
    let after: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const { projects } = await governor.request(
        ListProjects,
        { workspaceId: options.workspaceId, first: PROJECTS_PAGE_SIZE, ...(after ? { after } : {}) },
        { priority: 'create' },
      )
      if (!onPage(nodes(projects))) return
      if (!projects.pageInfo.hasNextPage || !projects.pageInfo.endCursor) return
      after = projects.pageInfo.endCursor
    }
    throw new RailwayError({
      code: 'PROVIDER_BAD_RESPONSE',
      operation: 'ListProjects',
      message: `more than ${MAX_PAGES} pages of projects: the cursor does not advance`,
      mayHaveHappened: false,
    })
  }

  return client
}

const targetIds = (target: ServiceTarget) => ({
  projectId: target.projectId,
  environmentId: target.environmentId,
  serviceId: target.serviceId,
})
