import type { Config } from '../config.js'
import { createInstancesRepository } from '../db/instances-repository.js'
import type { Database } from '../db/open-database.js'
import type { InstanceInfra } from '../db/schema.js'
import type { AdoptInstanceRequest, Instance } from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import type { RailwayClient, ServiceStatus } from '../infra/railway/index.js'
import type { SecretBox } from '../secrets/secret-box.js'
import { sealRuntimeCredential } from './instance-env.js'
import { instanceFromRows } from './instance-view.js'

export interface AdoptDeps {
  db: Database
  railway: RailwayClient
  config: Pick<Config, 'lifecycle' | 'railway'>
  secretBox: SecretBox
}

export interface AdoptOutcome {
  instance: Instance
  /** False when the same instance had been adopted before (an idempotent repeat). */
  created: boolean
}

const unprocessable = (detail: string) => new ProblemError(422, 'UNPROCESSABLE', detail)

/**
 * Registers an instance of the old shared Railway project as `legacy`, `ready`. Its URL must be on an
 * allowed domain (the status check pings it, so it must never be an arbitrary host) and Railway must
 * confirm that the service runs in that environment of that project: two requests, sent together.
 *
 * Idempotent on `instanceId`: a repeat with the same attributes answers the existing instance without
 * asking Railway again; other attributes, or an id that belongs to a created instance, are a conflict.
 */
export async function adoptInstance(deps: AdoptDeps, request: AdoptInstanceRequest): Promise<AdoptOutcome> {
  const instances = createInstancesRepository(deps.db)
  assertAllowedHost(request.url, deps.config.lifecycle.legacyDomainSuffixes)

  const existing = await instances.get(request.instanceId)
  if (existing) return { instance: sameOrConflict(existing, request), created: false }

  const service = await confirmService(deps.railway, request)
  const result = await instances.insertAdopted({
    instanceId: request.instanceId,
    name: request.name ?? null,
    lifecycle: 'ready',
    legacy: true,
    // A service built from a repository has no source image; the runtime image stands in for display,
    // and a redeploy without `image` deploys whatever source the service has.
    image: service.image ?? deps.config.railway.runtimeImage,
    url: request.url,
    railwayProjectId: request.railwayProjectId,
    railwayEnvironmentId: request.railwayEnvironmentId,
    railwayServiceId: request.railwayServiceId,
    railwayDomain: service.domain,
    deployStatus: service.deployStatus,
    // The legacy runtime's own POOL_API_KEY, for health pings; a repeat does not replace it.
    runtimeCredential: request.runtimeApiKey
      ? sealRuntimeCredential(deps.secretBox, request.instanceId, request.runtimeApiKey)
      : null,
  })
  if (result && 'taken' in result) {
    throw new ProblemError(
      409,
      'CONFLICT',
      `Railway service ${request.railwayServiceId} is already adopted as instance ${result.taken}`,
    )
  }
  if (result) return { instance: instanceFromRows(result, [], []), created: true }

  // A concurrent request inserted the id between our read and our insert.
  const winner = await instances.get(request.instanceId)
  if (!winner) throw new Error(`instance ${request.instanceId} was neither inserted nor found`)
  return { instance: sameOrConflict(winner, request), created: false }
}

/** The host is one of the suffixes or ends in `.<suffix>`: `a.up.railway.app`, never `evilup.railway.app`. */
export function isAllowedHost(url: string, suffixes: readonly string[]): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  // Credentials in the URL would be sent with every health check; a legacy runtime URL never has them.
  if (parsed.username !== '' || parsed.password !== '') return false
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '')
  return suffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))
}

function assertAllowedHost(url: string, suffixes: readonly string[]) {
  if (!isAllowedHost(url, suffixes)) {
    throw unprocessable(
      `url must be an https URL without credentials whose host ends in an allowed domain (${suffixes.join(', ')})`,
    )
  }
}

function sameOrConflict(row: InstanceInfra, request: AdoptInstanceRequest): Instance {
  const same =
    row.legacy &&
    row.name === (request.name ?? null) &&
    row.url === request.url &&
    row.railwayProjectId === request.railwayProjectId &&
    row.railwayEnvironmentId === request.railwayEnvironmentId &&
    row.railwayServiceId === request.railwayServiceId
  if (!same) {
    const what = row.legacy ? 'adopted with other attributes' : 'a created (not legacy) instance'
    throw new ProblemError(409, 'CONFLICT', `instance ${request.instanceId} already exists as ${what}`)
  }
  // No steps or tools: an adopted instance was created elsewhere and provisions nothing here.
  return instanceFromRows(row, [], [])
}

/**
 * Railway's word that the service exists in that environment of that project: the project and its
 * environments, the service's own project (a shared project lists its services 100 at a time, and the
 * old shared project holds more), and the service instance's deploy status and image. Three reads, sent
 * at once; adoption happens once per legacy instance.
 */
async function confirmService(railway: RailwayClient, request: AdoptInstanceRequest): Promise<ServiceStatus> {
  const {
    railwayProjectId: projectId,
    railwayEnvironmentId: environmentId,
    railwayServiceId: serviceId,
  } = request
  const [project, serviceProject, [status]] = await Promise.all([
    railway.getProject(projectId),
    railway.projectOfService(serviceId),
    railway.statusOf([{ serviceId, environmentId }]),
  ])
  if (!project)
    throw unprocessable(`Railway project ${projectId} does not exist or is not visible to the token`)
  if (!project.environments.some((e) => e.id === environmentId)) {
    throw unprocessable(`Railway environment ${environmentId} is not in project ${projectId}`)
  }
  if (serviceProject !== projectId) {
    throw unprocessable(`Railway service ${serviceId} is not in project ${projectId}`)
  }
  if (!status?.exists) {
    throw unprocessable(`Railway service ${serviceId} is not deployed in environment ${environmentId}`)
  }
  return status
}
