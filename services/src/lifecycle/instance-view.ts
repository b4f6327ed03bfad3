import { createInstancesRepository } from '../db/instances-repository.js'
import type { Database } from '../db/open-database.js'
import type { InstanceInfra, InstanceLifecycle, InstanceService, InstanceStep } from '../db/schema.js'
import { createStepsRepository } from '../db/steps-repository.js'
import type {
  Instance,
  InstancePage,
  InstanceSummary,
  ToolConfig,
  ToolResource,
} from '../generated/schemas.js'
import { decodeCursor, encodeCursor } from './instance-cursor.js'
import { liveToolRows } from './tool-resources.js'

/**
 * The instance view of the contract, from its rows. Only ids and non-secret values are copied: never the
 * token hash, the runtime credential, a resource's sealed secret or the create request.
 *
 * - `tools`: the live resources (status other than `destroyed`; destroyed rows are history, the destroy
 *   steps tell what happened to them) that have a provider id. A row still waiting for the provider's
 *   answer has no resource id to show yet; its creation step shows the progress.
 *   Oldest first, so the order is stable.
 * - `steps`: the creation's, then the destroy's, each in its planned order.
 * - `error`: the instance's last recorded error, whatever the lifecycle (a destroy that keeps failing
 *   shows why), null when there is none.
 */
export function instanceFromRows(
  infra: InstanceInfra,
  tools: InstanceService[],
  steps: InstanceStep[],
): Instance {
  return {
    instanceId: infra.instanceId,
    name: infra.name,
    lifecycle: infra.lifecycle,
    legacy: infra.legacy,
    image: infra.image,
    url: infra.url,
    // Written only from Railway's DeploymentStatus enum, which the contract's enum mirrors.
    deployStatus: infra.deployStatus as Instance['deployStatus'],
    railway: {
      projectId: infra.railwayProjectId,
      environmentId: infra.railwayEnvironmentId,
      serviceId: infra.railwayServiceId,
      volumeId: infra.railwayVolumeId,
      domain: infra.railwayDomain,
    },
    tools: [...tools].sort(byCreationThenTool).flatMap(toolResource),
    steps: [...steps].sort(byOperationThenPosition).map(stepView),
    error: errorInfo(infra.errorCode, infra.errorMessage),
    createdAt: infra.createdAt.toISOString(),
    updatedAt: infra.updatedAt.toISOString(),
  }
}

/** The view of one instance, or undefined when the id is unknown (a destroyed instance is still shown). */
export async function loadInstance(db: Database, instanceId: string): Promise<Instance | undefined> {
  const infra = await createInstancesRepository(db).get(instanceId)
  if (!infra) return undefined
  const [tools, steps] = await Promise.all([
    liveToolRows(db, instanceId),
    createStepsRepository(db).list(instanceId),
  ])
  return instanceFromRows(infra, tools, steps)
}

export function summaryFromRow(infra: InstanceInfra): InstanceSummary {
  return {
    instanceId: infra.instanceId,
    name: infra.name,
    lifecycle: infra.lifecycle,
    legacy: infra.legacy,
    url: infra.url,
    createdAt: infra.createdAt.toISOString(),
  }
}

/** One page of `GET /instances`; `nextCursor` is null exactly when no row follows the page. */
export async function listInstances(
  db: Database,
  query: {
    lifecycle?: InstanceLifecycle | undefined
    limit?: number | undefined
    cursor?: string | undefined
  },
): Promise<InstancePage> {
  const limit = query.limit ?? 100
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  // One row more than the page tells whether another page follows, without a count.
  const rows = await createInstancesRepository(db).page({
    lifecycle: query.lifecycle,
    after,
    limit: limit + 1,
  })
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    items: page.map(({ row }) => summaryFromRow(row)),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ createdAt: last.createdAtExact, instanceId: last.row.instanceId })
        : null,
  }
}

function toolResource(row: InstanceService): ToolResource[] {
  if (row.status === 'destroyed' || row.resourceId === null) return []
  return [
    {
      toolId: row.toolId,
      resourceId: row.resourceId,
      mode: row.mode,
      status: row.status,
      config: scalarConfig(row.config),
      // Issue 5 tracks delivery of a tool's variables to the running instance.
      livePush: 'not_applicable',
    },
  ]
}

/** The contract's ToolConfig holds scalars only; anything nested is not shown rather than mangled. */
function scalarConfig(config: Record<string, unknown>): ToolConfig {
  const scalars: ToolConfig = {}
  for (const [key, value] of Object.entries(config)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      scalars[key] = value as string | number | boolean | null
    }
  }
  return scalars
}

function byCreationThenTool(a: InstanceService, b: InstanceService): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.toolId.localeCompare(b.toolId)
}

const OPERATION_ORDER = { create: 0, destroy: 1 } as const

function byOperationThenPosition(a: InstanceStep, b: InstanceStep): number {
  return OPERATION_ORDER[a.operation] - OPERATION_ORDER[b.operation] || a.position - b.position
}

export function stepView(step: InstanceStep): Instance['steps'][number] {
  return {
    operation: step.operation,
    name: step.name,
    state: step.state,
    attempts: step.attempts,
    startedAt: step.startedAt?.toISOString() ?? null,
    finishedAt: step.finishedAt?.toISOString() ?? null,
    error: errorInfo(step.errorCode, step.errorMessage),
  }
}

/** A recorded error as the contract shows it: null when there is none, the code standing in for a lost message. */
export function errorInfo(code: string | null, message: string | null): Instance['error'] {
  return code === null ? null : { code, message: message ?? code }
}
