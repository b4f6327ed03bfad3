import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from 'graphql'
import type { Test } from 'tap'
import { request } from 'undici'
import {
  type RailwayEmulatorOptions,
  type RunningRailwayEmulator,
  startRailwayEmulator,
} from '../src/railway/index.js'

/** Railway's published schema, kept outside the repository (`../shared/contracts`). */
export const RAILWAY_SCHEMA_JSON = fileURLToPath(
  new URL('../../../shared/contracts/railway-schema.json', import.meta.url),
)
export const CONTRACTS_MISSING = 'provider contracts not found at ../shared/contracts'

let contractSchema: GraphQLSchema | undefined

/** Railway's real schema, or undefined when the contracts folder is absent. */
export function railwayContractSchema(): GraphQLSchema | undefined {
  if (!existsSync(RAILWAY_SCHEMA_JSON)) return undefined
  contractSchema ??= buildClientSchema(
    (JSON.parse(readFileSync(RAILWAY_SCHEMA_JSON, 'utf8')) as { data: IntrospectionQuery }).data,
  )
  return contractSchema
}

/** The documents the services adapter sends, as the tests send them (each validates against Railway). */
export const DOCS = {
  projectCreate: `mutation projectCreate($input: ProjectCreateInput!) {
    projectCreate(input: $input) {
      id name workspaceId
      environments { edges { node { id name } } }
      services { edges { node { id name } } }
    }
  }`,
  serviceCreate: `mutation serviceCreate($input: ServiceCreateInput!) {
    serviceCreate(input: $input) { id name projectId }
  }`,
  volumeAndDomain: `mutation volumeAndDomain($volume: VolumeCreateInput!, $domain: ServiceDomainCreateInput!) {
    volumeCreate(input: $volume) { id name projectId }
    serviceDomainCreate(input: $domain) { id domain serviceId environmentId targetPort }
  }`,
  serviceInstance: `query serviceInstance($serviceId: String!, $environmentId: String!) {
    serviceInstance(serviceId: $serviceId, environmentId: $environmentId) {
      latestDeployment { id status }
      domains { serviceDomains { domain } customDomains { domain } }
      source { image }
    }
  }`,
  variableCollectionUpsert: `mutation variableCollectionUpsert($input: VariableCollectionUpsertInput!) {
    variableCollectionUpsert(input: $input)
  }`,
  variableDelete: `mutation variableDelete($input: VariableDeleteInput!) { variableDelete(input: $input) }`,
  serviceInstanceUpdate: `mutation serviceInstanceUpdate($serviceId: String!, $environmentId: String, $input: ServiceInstanceUpdateInput!) {
    serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)
  }`,
  serviceInstanceRedeploy: `mutation serviceInstanceRedeploy($serviceId: String!, $environmentId: String!) {
    serviceInstanceRedeploy(serviceId: $serviceId, environmentId: $environmentId)
  }`,
  serviceInstanceDeployV2: `mutation serviceInstanceDeployV2($serviceId: String!, $environmentId: String!) {
    serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId)
  }`,
  deploymentRedeploy: `mutation deploymentRedeploy($id: String!) {
    deploymentRedeploy(id: $id, usePreviousImageTag: false) { id status }
  }`,
  deployment: `query deployment($id: String!) { deployment(id: $id) { id status serviceId environmentId } }`,
  deployments: `query deployments($input: DeploymentListInput!, $first: Int) {
    deployments(input: $input, first: $first) { edges { node { id status } } pageInfo { hasNextPage endCursor } }
  }`,
  projects: `query projects($workspaceId: String, $first: Int, $after: String) {
    projects(workspaceId: $workspaceId, first: $first, after: $after) {
      edges { cursor node { id name } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  project: `query project($id: String!) {
    project(id: $id) {
      id name
      environments { edges { node { id name } } }
      services { edges { node { id name } } }
      volumes { edges { node { id name } } }
    }
  }`,
  workspace: `query workspace($workspaceId: String!) { workspace(workspaceId: $workspaceId) { id name } }`,
  environments: `query environments($projectId: String!) {
    environments(projectId: $projectId) { edges { node { id name } } }
  }`,
  variables: `query variables($projectId: String!, $environmentId: String!, $serviceId: String) {
    variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId)
  }`,
  projectDelete: `mutation projectDelete($id: String!) { projectDelete(id: $id) }`,
  serviceDelete: `mutation serviceDelete($id: String!, $environmentId: String) {
    serviceDelete(id: $id, environmentId: $environmentId)
  }`,
  volumeDelete: `mutation volumeDelete($volumeId: String!) { volumeDelete(volumeId: $volumeId) }`,
  volumeInstances: `query volumeInstances($id: String!, $projectId: String, $first: Int, $after: String) {
    environment(id: $id, projectId: $projectId) {
      volumeInstances(first: $first, after: $after) {
        edges { node { id volumeId serviceId environmentId mountPath isPendingDeletion deletedAt state volume { id name } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`,
} as const

export const IMAGE = 'ghcr.io/xmtplabs/convos-runtime:sha-abc1234'

export interface GraphqlReply {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response JSON
  body: any
}

/** Starts an emulator that `t` closes. Fast deployments unless the test says otherwise. */
export async function startRailway(t: Test, options: RailwayEmulatorOptions = {}) {
  const emulator = await startRailwayEmulator({
    deploy: { stepMs: 10 },
    runtime: { warmupMs: 50 },
    ...options,
  })
  t.teardown(() => emulator.close())
  return emulator
}

/** One GraphQL request over HTTP, as services sends it. */
export async function gql(
  emulator: Pick<RunningRailwayEmulator, 'url' | 'token'>,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string | null; operationName?: string } = {},
): Promise<GraphqlReply> {
  const token = options.token === undefined ? emulator.token : options.token
  const response = await fetch(emulator.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({
      query,
      variables,
      ...(options.operationName ? { operationName: options.operationName } : {}),
    }),
  })
  return { status: response.status, headers: response.headers, body: await response.json() }
}

/** `gql` that fails the test unless the answer is a 200 without errors; returns `data`. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response JSON
export async function gqlData(emulator: RunningRailwayEmulator, query: string, variables = {}): Promise<any> {
  const reply = await gql(emulator, query, variables)
  if (reply.status !== 200 || reply.body.errors) {
    throw new Error(`GraphQL failed (${reply.status}): ${JSON.stringify(reply.body)}`)
  }
  return reply.body.data
}

export interface CreatedInstance {
  projectId: string
  environmentId: string
  serviceId: string
  volumeId: string
  domain: string
  url: string
}

/** The creation flow services runs, in its three requests. */
export async function createInstance(
  emulator: RunningRailwayEmulator,
  name: string,
  variables: Record<string, string> = {},
): Promise<CreatedInstance> {
  const { projectCreate } = await gqlData(emulator, DOCS.projectCreate, {
    input: { name, workspaceId: emulator.workspaceId, isPublic: false, prDeploys: false },
  })
  const environmentId = projectCreate.environments.edges[0].node.id as string
  const { serviceCreate } = await gqlData(emulator, DOCS.serviceCreate, {
    input: {
      projectId: projectCreate.id,
      environmentId,
      name: 'runtime',
      source: { image: IMAGE },
      variables,
      registryCredentials: { username: 'xmtp-bot', password: 'ghp_example' },
    },
  })
  const both = await gqlData(emulator, DOCS.volumeAndDomain, {
    volume: { projectId: projectCreate.id, serviceId: serviceCreate.id, environmentId, mountPath: '/data' },
    domain: { serviceId: serviceCreate.id, environmentId, targetPort: 8080 },
  })
  return {
    projectId: projectCreate.id,
    environmentId,
    serviceId: serviceCreate.id,
    volumeId: both.volumeCreate.id,
    domain: both.serviceDomainCreate.domain,
    url: `http://${both.serviceDomainCreate.domain}`,
  }
}

/** Polls `read` until `done` holds; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(value)}`)
    await sleep(20)
  }
}

export async function latestStatus(
  emulator: RunningRailwayEmulator,
  serviceId: string,
  environmentId: string,
) {
  const data = await gqlData(emulator, DOCS.serviceInstance, { serviceId, environmentId })
  return data.serviceInstance.latestDeployment as { id: string; status: string } | null
}

export interface RuntimeReply {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response JSON
  body: any
}

/**
 * One request to a runtime, on a fresh connection (`reset`), so a closed runtime shows as a refused
 * connection rather than a dead pooled socket.
 */
export async function callRuntime(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: { key?: string; body?: string | object } = {},
): Promise<RuntimeReply> {
  const response = await request(url + path, {
    method,
    reset: true,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
  })
  const text = await response.body.text()
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined }
}

/** The error code of a request that never got an answer (e.g. ECONNREFUSED), or 'answered'. */
export async function connectionError(url: string): Promise<string> {
  try {
    await callRuntime(url, 'GET', '/pool/health')
    return 'answered'
  } catch (error) {
    const { code, cause } = error as { code?: string; cause?: { code?: string } }
    return cause?.code ?? code ?? 'unknown'
  }
}
