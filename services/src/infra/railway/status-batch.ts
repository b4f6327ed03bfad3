import {
  type DeploymentStatus,
  type ServiceInstanceStatus,
  STATUS_BATCH_SIZE,
  statusDocument,
  statusVariables,
} from './documents.js'
import type { Governor } from './governor.js'
import { RailwayError } from './railway-error.js'

export interface ServiceRef {
  serviceId: string
  environmentId: string
}

/** What the pool's tick loop needs about one service. */
export interface ServiceStatus extends ServiceRef {
  /** False when Railway no longer knows the service instance (deleted, or never created). */
  exists: boolean
  deploymentId: string | null
  deployStatus: DeploymentStatus | null
  /** The public `*.up.railway.app` domain, without scheme. */
  domain: string | null
  image: string | null
}

const ALIAS = /^s(\d+)$/

/**
 * Status of many services in ⌈n/50⌉ requests, run concurrently through the governor (which paces them).
 * Results come back in the order of `refs`.
 */
export async function statusOf(governor: Governor, refs: readonly ServiceRef[]): Promise<ServiceStatus[]> {
  const chunks: ServiceRef[][] = []
  for (let i = 0; i < refs.length; i += STATUS_BATCH_SIZE) chunks.push(refs.slice(i, i + STATUS_BATCH_SIZE))
  const results = await Promise.all(chunks.map((chunk) => statusOfChunk(governor, chunk)))
  return results.flat()
}

/**
 * One aliased request. `serviceInstance` is non-null in the schema, so one unknown service nulls the whole
 * `data`: the errors' paths name the aliases that failed, those are reported as gone and the rest is
 * asked again (one extra request, only when something was deleted behind our back).
 */
async function statusOfChunk(governor: Governor, refs: readonly ServiceRef[]): Promise<ServiceStatus[]> {
  let data: Record<string, ServiceInstanceStatus | null>
  try {
    data = await governor.request(statusDocument(refs.length), statusVariables(refs), { priority: 'status' })
  } catch (error) {
    const missing = missingAliases(error, refs.length)
    if (!missing) throw error
    const rest = refs.filter((_, i) => !missing.has(i))
    const found = rest.length > 0 ? await statusOfChunk(governor, rest) : []
    const byRef = new Map(found.map((s) => [key(s), s]))
    return refs.map((ref) => byRef.get(key(ref)) ?? gone(ref))
  }
  return refs.map((ref, i) => toStatus(ref, data[`s${i}`]))
}

const key = (ref: ServiceRef) => `${ref.serviceId}/${ref.environmentId}`

/** The indexes of the services Railway said it does not know, when that is all it said. */
function missingAliases(error: unknown, count: number): Set<number> | undefined {
  if (!(error instanceof RailwayError) || error.code !== 'PROVIDER_NOT_FOUND') return undefined
  const indexes = new Set<number>()
  for (const entry of error.errors) {
    const match = ALIAS.exec(String(entry.path?.[0] ?? ''))
    if (!match) return undefined
    indexes.add(Number(match[1]))
  }
  return indexes.size > 0 && [...indexes].every((i) => i < count) ? indexes : undefined
}

function gone(ref: ServiceRef): ServiceStatus {
  return { ...ref, exists: false, deploymentId: null, deployStatus: null, domain: null, image: null }
}

function toStatus(ref: ServiceRef, instance: ServiceInstanceStatus | null | undefined): ServiceStatus {
  if (!instance) return gone(ref)
  return {
    serviceId: ref.serviceId,
    environmentId: ref.environmentId,
    exists: true,
    deploymentId: instance.latestDeployment?.id ?? null,
    deployStatus: instance.latestDeployment?.status ?? null,
    domain: instance.domains?.serviceDomains?.[0]?.domain ?? null,
    image: instance.source?.image ?? null,
  }
}
