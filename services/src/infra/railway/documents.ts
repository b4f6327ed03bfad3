/**
 * Every GraphQL document services sends to Railway, with the types of its variables and result. Contract
 * tests validate each one against Railway's published schema, so a field or argument Railway does not have
 * fails CI instead of production.
 *
 * Rules kept here: input objects are written out field by field (so schema validation checks every input
 * field name, which a `$input: XInput!` variable would hide); selections ask only for what the adapter
 * reads; no deprecated field (`Service.deployments`, `Service.serviceInstances`) is ever selected; ids are
 * always variables, never interpolated into the text.
 */

/** A document plus the TypeScript types of its variables and its `data`. */
export interface GraphqlDocument<Variables, Result> {
  /** The operation name; also the name in errors and metrics. */
  readonly operationName: string
  /** Mutations are retried only when they provably did not happen; queries whenever retryable. */
  readonly kind: 'query' | 'mutation'
  readonly source: string
  /** Type carrier only (never set): ties `Variables` and `Result` to the value. */
  readonly types?: { variables: Variables; result: Result }
}

export type VariablesOf<D> = D extends GraphqlDocument<infer V, unknown> ? V : never
export type ResultOf<D> = D extends GraphqlDocument<unknown, infer R> ? R : never

function document<Variables, Result>(
  kind: 'query' | 'mutation',
  operationName: string,
  source: string,
): GraphqlDocument<Variables, Result> {
  return { kind, operationName, source: source.trim() }
}

/** Railway's `DeploymentStatus` enum, complete as of the published schema. */
export type DeploymentStatus =
  | 'BUILDING'
  | 'CRASHED'
  | 'DEPLOYING'
  | 'FAILED'
  | 'INITIALIZING'
  | 'NEEDS_APPROVAL'
  | 'QUEUED'
  | 'REMOVED'
  | 'REMOVING'
  | 'SKIPPED'
  | 'SLEEPING'
  | 'SUCCESS'
  | 'WAITING'

export interface RegistryCredentials {
  username: string
  password: string
}

interface Connection<Node> {
  edges: { node: Node }[]
}

interface PageInfo {
  hasNextPage: boolean
  endCursor: string | null
}

export interface NamedNode {
  id: string
  name: string
}

/** The mount path of every agent volume; the runtime keeps its state there. */
export const VOLUME_MOUNT_PATH = '/data'
/** The environment every new project gets; `projectCreate` returns it in the same response. */
export const DEFAULT_ENVIRONMENT_NAME = 'production'

// ---- 1. project --------------------------------------------------------------------------------------

export const CreateProject = document<
  { name: string; workspaceId: string },
  { projectCreate: { id: string; name: string; environments: Connection<NamedNode> } }
>(
  'mutation',
  'CreateProject',
  `
mutation CreateProject($name: String!, $workspaceId: String!) {
  projectCreate(input: { name: $name, workspaceId: $workspaceId, defaultEnvironmentName: "${DEFAULT_ENVIRONMENT_NAME}" }) {
    id
    name
    environments { edges { node { id name } } }
  }
}`,
)

// ---- 2. service: image, variables and registry credentials in one call --------------------------------

export const CreateService = document<
  {
    projectId: string
    environmentId: string
    name: string
    image: string
    variables: Record<string, string>
    /** Left out (not null) when no GHCR credentials are configured: the image is then public. */
    registryCredentials?: RegistryCredentials
  },
  { serviceCreate: { id: string } }
>(
  'mutation',
  'CreateService',
  `
mutation CreateService(
  $projectId: String!
  $environmentId: String!
  $name: String!
  $image: String!
  $variables: EnvironmentVariables!
  $registryCredentials: RegistryCredentialsInput
) {
  serviceCreate(
    input: {
      projectId: $projectId
      environmentId: $environmentId
      name: $name
      source: { image: $image }
      variables: $variables
      registryCredentials: $registryCredentials
    }
  ) {
    id
  }
}`,
)

// ---- 3. volume + public domain: two root mutations, one request ---------------------------------------

interface VolumeAndDomainVariables {
  projectId: string
  environmentId: string
  serviceId: string
  targetPort: number
}

/**
 * Root mutation fields run one after the other, so this is one request instead of two. A failure can leave
 * the first done and not the second: the client then looks both up and creates only what is missing.
 */
export const CreateVolumeAndDomain = document<
  VolumeAndDomainVariables,
  { volumeCreate: { id: string }; serviceDomainCreate: { id: string; domain: string } }
>(
  'mutation',
  'CreateVolumeAndDomain',
  `
mutation CreateVolumeAndDomain($projectId: String!, $environmentId: String!, $serviceId: String!, $targetPort: Int!) {
  volumeCreate(
    input: { projectId: $projectId, serviceId: $serviceId, environmentId: $environmentId, mountPath: "${VOLUME_MOUNT_PATH}" }
  ) {
    id
  }
  serviceDomainCreate(input: { serviceId: $serviceId, environmentId: $environmentId, targetPort: $targetPort }) {
    id
    domain
  }
}`,
)

/** Repair after a half-done `CreateVolumeAndDomain`: the volume alone. */
export const CreateVolume = document<
  Omit<VolumeAndDomainVariables, 'targetPort'>,
  { volumeCreate: { id: string } }
>(
  'mutation',
  'CreateVolume',
  `
mutation CreateVolume($projectId: String!, $environmentId: String!, $serviceId: String!) {
  volumeCreate(
    input: { projectId: $projectId, serviceId: $serviceId, environmentId: $environmentId, mountPath: "${VOLUME_MOUNT_PATH}" }
  ) {
    id
  }
}`,
)

/** Repair after a half-done `CreateVolumeAndDomain`: the domain alone. */
export const CreateDomain = document<
  Omit<VolumeAndDomainVariables, 'projectId'>,
  { serviceDomainCreate: { id: string; domain: string } }
>(
  'mutation',
  'CreateDomain',
  `
mutation CreateDomain($environmentId: String!, $serviceId: String!, $targetPort: Int!) {
  serviceDomainCreate(input: { serviceId: $serviceId, environmentId: $environmentId, targetPort: $targetPort }) {
    id
    domain
  }
}`,
)

/**
 * What exists after an ambiguous `CreateVolumeAndDomain`: the project's volumes (an agent project holds
 * only the agent's volume) and the service's domains.
 */
export const VolumeAndDomainOf = document<
  { projectId: string; environmentId: string; serviceId: string },
  {
    project: { volumes: Connection<{ id: string }> }
    serviceInstance: { domains: { serviceDomains: { domain: string }[] } }
  }
>(
  'query',
  'VolumeAndDomainOf',
  `
query VolumeAndDomainOf($projectId: String!, $environmentId: String!, $serviceId: String!) {
  project(id: $projectId) {
    volumes { edges { node { id } } }
  }
  serviceInstance(serviceId: $serviceId, environmentId: $environmentId) {
    domains { serviceDomains { domain } }
  }
}`,
)

// ---- 4. status of many services: aliases, one request per 50 ------------------------------------------

/** Most services in one status document: bounds the query's size and cost at Railway. */
export const STATUS_BATCH_SIZE = 50

export interface ServiceInstanceStatus {
  latestDeployment: { id: string; status: DeploymentStatus } | null
  domains: { serviceDomains: { domain: string }[] }
  source: { image: string | null } | null
}

/** Variables `s0, e0, s1, e1, …` (service id, environment id per alias). */
export type StatusVariables = Record<string, string>
/** `s0, s1, …` → the service instance. */
export type StatusResult = Record<string, ServiceInstanceStatus | null>

const statusDocuments = new Map<number, GraphqlDocument<StatusVariables, StatusResult>>()

/**
 * The status document for `count` services (1..50): `s<i>: serviceInstance(serviceId: $s<i>,
 * environmentId: $e<i>)`. Built once per size and cached, so the text is stable (and identical requests
 * stay identical for Railway's caches and our tests).
 */
export function statusDocument(count: number): GraphqlDocument<StatusVariables, StatusResult> {
  if (!Number.isInteger(count) || count < 1 || count > STATUS_BATCH_SIZE) {
    throw new RangeError(`a status document covers 1 to ${STATUS_BATCH_SIZE} services, not ${count}`)
  }
  const cached = statusDocuments.get(count)
  if (cached) return cached
  const indexes = [...Array(count).keys()]
  const variables = indexes.map((i) => `$s${i}: String!, $e${i}: String!`).join(', ')
  const fields = indexes
    .map(
      (i) =>
        `  s${i}: serviceInstance(serviceId: $s${i}, environmentId: $e${i}) {
    latestDeployment { id status }
    domains { serviceDomains { domain } }
    source { image }
  }`,
    )
    .join('\n')
  const built = document<StatusVariables, StatusResult>(
    'query',
    'ServiceStatus',
    `query ServiceStatus(${variables}) {\n${fields}\n}`,
  )
  statusDocuments.set(count, built)
  return built
}

/** The variables for `statusDocument(refs.length)`. */
export function statusVariables(
  refs: readonly { serviceId: string; environmentId: string }[],
): StatusVariables {
  const variables: StatusVariables = {}
  refs.forEach((ref, i) => {
    variables[`s${i}`] = ref.serviceId
    variables[`e${i}`] = ref.environmentId
  })
  return variables
}

// ---- 5. redeploy -------------------------------------------------------------------------------------

/**
 * A deploy of the service instance's current config (image tag pulled again, current variables). V2
 * returns the new deployment's id, so status can follow that deployment and not mistake the previous
 * SUCCESS for the new one.
 */
export const DeployService = document<
  { serviceId: string; environmentId: string },
  { serviceInstanceDeployV2: string }
>(
  'mutation',
  'DeployService',
  `
mutation DeployService($serviceId: String!, $environmentId: String!) {
  serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId)
}`,
)

/**
 * New image, then a deploy of it, in one request: root mutations run in order and a failed (non-null)
 * update stops the deploy, so the deploy never runs with the old image by accident.
 */
export const UpdateImageAndDeploy = document<
  { serviceId: string; environmentId: string; image: string; registryCredentials?: RegistryCredentials },
  { serviceInstanceUpdate: boolean; serviceInstanceDeployV2: string }
>(
  'mutation',
  'UpdateImageAndDeploy',
  `
mutation UpdateImageAndDeploy(
  $serviceId: String!
  $environmentId: String!
  $image: String!
  $registryCredentials: RegistryCredentialsInput
) {
  serviceInstanceUpdate(
    serviceId: $serviceId
    environmentId: $environmentId
    input: { source: { image: $image }, registryCredentials: $registryCredentials }
  )
  serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId)
}`,
)

// ---- 6. variables ------------------------------------------------------------------------------------

export const UpsertVariables = document<
  {
    projectId: string
    environmentId: string
    serviceId: string
    variables: Record<string, string>
    skipDeploys: boolean
  },
  { variableCollectionUpsert: boolean }
>(
  'mutation',
  'UpsertVariables',
  `
mutation UpsertVariables(
  $projectId: String!
  $environmentId: String!
  $serviceId: String!
  $variables: EnvironmentVariables!
  $skipDeploys: Boolean!
) {
  variableCollectionUpsert(
    input: {
      projectId: $projectId
      environmentId: $environmentId
      serviceId: $serviceId
      variables: $variables
      skipDeploys: $skipDeploys
    }
  )
}`,
)

/** `variableDelete` takes one name: a single variable (used alone, and as the fallback of the batch). */
export const DeleteVariable = document<
  { projectId: string; environmentId: string; serviceId: string; name: string },
  { variableDelete: boolean }
>(
  'mutation',
  'DeleteVariable',
  `
mutation DeleteVariable($projectId: String!, $environmentId: String!, $serviceId: String!, $name: String!) {
  variableDelete(input: { projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, name: $name })
}`,
)

/** `d0, d1, …: variableDelete` for `count` names (`$n0, $n1, …`) in one request. */
export function deleteVariablesDocument(
  count: number,
): GraphqlDocument<Record<string, string>, Record<string, boolean>> {
  if (!Number.isInteger(count) || count < 1 || count > STATUS_BATCH_SIZE) {
    throw new RangeError(`a variable-delete document covers 1 to ${STATUS_BATCH_SIZE} names, not ${count}`)
  }
  const indexes = [...Array(count).keys()]
  const names = indexes.map((i) => `$n${i}: String!`).join(', ')
  const fields = indexes
    .map(
      (i) =>
        `  d${i}: variableDelete(input: { projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, name: $n${i} })`,
    )
    .join('\n')
  return document(
    'mutation',
    'DeleteVariables',
    `mutation DeleteVariables($projectId: String!, $environmentId: String!, $serviceId: String!, ${names}) {\n${fields}\n}`,
  )
}

// ---- 7. deletes --------------------------------------------------------------------------------------

export const DeleteProject = document<{ id: string }, { projectDelete: boolean }>(
  'mutation',
  'DeleteProject',
  `
mutation DeleteProject($id: String!) {
  projectDelete(id: $id)
}`,
)

export const DeleteService = document<{ id: string; environmentId: string }, { serviceDelete: boolean }>(
  'mutation',
  'DeleteService',
  `
mutation DeleteService($id: String!, $environmentId: String!) {
  serviceDelete(id: $id, environmentId: $environmentId)
}`,
)

export const DeleteVolume = document<{ volumeId: string }, { volumeDelete: boolean }>(
  'mutation',
  'DeleteVolume',
  `
mutation DeleteVolume($volumeId: String!) {
  volumeDelete(volumeId: $volumeId)
}`,
)

// ---- 8. reads ----------------------------------------------------------------------------------------

/** Railway pages; 100 a page keeps a 1,000-project workspace to 10 requests. */
export const PROJECTS_PAGE_SIZE = 100

export const ListProjects = document<
  { workspaceId: string; first: number; after?: string },
  { projects: Connection<NamedNode> & { pageInfo: PageInfo } }
>(
  'query',
  'ListProjects',
  `
query ListProjects($workspaceId: String!, $first: Int!, $after: String) {
  projects(workspaceId: $workspaceId, first: $first, after: $after) {
    edges { node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}`,
)

/**
 * A project with its environments, services and volumes. Connections default to 20 a page at Railway;
 * 100 is its cap on services per project, so one page holds them all.
 */
/**
 * The project a service belongs to (a service id is global). Adoption checks a legacy service this way:
 * the shared project's own service list is paged (100 at a time) and may hold far more.
 */
export const ServiceProject = document<{ id: string }, { service: { id: string; projectId: string } }>(
  'query',
  'ServiceProject',
  `
query ServiceProject($id: String!) {
  service(id: $id) { id projectId }
}`,
)

export const GetProject = document<
  { id: string },
  {
    project: {
      id: string
      name: string
      environments: Connection<NamedNode>
      services: Connection<NamedNode>
      volumes: Connection<{ id: string }>
    }
  }
>(
  'query',
  'GetProject',
  `
query GetProject($id: String!) {
  project(id: $id) {
    id
    name
    environments(first: 100) { edges { node { id name } } }
    services(first: 100) { edges { node { id name } } }
    volumes(first: 100) { edges { node { id } } }
  }
}`,
)

/** Volume instances per page; Railway caps a page at 100. */
export const VOLUMES_PAGE_SIZE = 100

export interface VolumeInstanceNode {
  volumeId: string
  /** The service it is mounted in; null when detached. */
  serviceId: string | null
  isPendingDeletion: boolean
  deletedAt: string | null
}

/**
 * The volumes deployed in one environment, with the service each is mounted in: how a legacy instance's
 * volume is found (`environment.volumeInstances`; `Volume.volumeInstances` is deprecated). A shared
 * project holds a volume per agent, hence the paging.
 */
export const VolumesOfEnvironment = document<
  { projectId: string; environmentId: string; first: number; after?: string },
  {
    environment: {
      volumeInstances: Connection<VolumeInstanceNode> & { pageInfo: PageInfo }
    }
  }
>(
  'query',
  'VolumesOfEnvironment',
  `
query VolumesOfEnvironment($projectId: String!, $environmentId: String!, $first: Int!, $after: String) {
  environment(id: $environmentId, projectId: $projectId) {
    volumeInstances(first: $first, after: $after) {
      edges { node { volumeId serviceId isPendingDeletion deletedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`,
)

/** The start-up check: a cheap query only a token that can see the workspace answers. */
export const GetWorkspace = document<{ workspaceId: string }, { workspace: { id: string; name: string } }>(
  'query',
  'GetWorkspace',
  `
query GetWorkspace($workspaceId: String!) {
  workspace(workspaceId: $workspaceId) {
    id
    name
  }
}`,
)

/** A document without its types: what the contract test needs. */
export type DocumentText = Pick<GraphqlDocument<unknown, unknown>, 'operationName' | 'kind' | 'source'>

/** Every fixed document, for the contract test (the built ones are checked there with their builders). */
export const FIXED_DOCUMENTS: readonly DocumentText[] = [
  CreateProject,
  CreateService,
  CreateVolumeAndDomain,
  CreateVolume,
  CreateDomain,
  VolumeAndDomainOf,
  DeployService,
  UpdateImageAndDeploy,
  UpsertVariables,
  DeleteVariable,
  DeleteProject,
  DeleteService,
  DeleteVolume,
  ListProjects,
  GetProject,
  ServiceProject,
  VolumesOfEnvironment,
  GetWorkspace,
]
