import { createInstancesRepository } from '../db/instances-repository.js'
import type { Database } from '../db/open-database.js'
import type { InstanceInfra } from '../db/schema.js'
import { ProblemError } from '../http/problem.js'
import type { ServiceTarget } from '../infra/railway/index.js'

/**
 * The instance an operation on a running agent acts on: 404 when it does not exist (or no longer does),
 * 409 while it is creating, failed or being destroyed. `what` completes "only a ready instance can …".
 */
export async function readyInstance(db: Database, instanceId: string, what: string): Promise<InstanceInfra> {
  const row = await createInstancesRepository(db).get(instanceId)
  if (!row || row.lifecycle === 'destroyed') {
    throw new ProblemError(404, 'NOT_FOUND', `instance ${instanceId} does not exist`)
  }
  if (row.lifecycle !== 'ready') {
    throw new ProblemError(
      409,
      'CONFLICT',
      `instance ${instanceId} is ${row.lifecycle}; only a ready instance can ${what}`,
    )
  }
  return row
}

/** The Railway service of a ready instance (its own project, or the shared one for a legacy instance). */
export function serviceTargetOf(row: InstanceInfra): ServiceTarget {
  const {
    railwayProjectId: projectId,
    railwayServiceId: serviceId,
    railwayEnvironmentId: environmentId,
  } = row
  if (!projectId || !serviceId || !environmentId) {
    throw new Error(`ready instance ${row.instanceId} lacks its Railway project, service or environment id`)
  }
  return { projectId, serviceId, environmentId }
}
