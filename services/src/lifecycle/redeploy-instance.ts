import { createInstancesRepository } from '../db/instances-repository.js'
import type { Database } from '../db/open-database.js'
import type { RedeployResult } from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { readyInstance, serviceTargetOf } from './running-instance.js'

export interface RedeployDeps {
  db: Database
  railway: RailwayClient
}

const conflict = (detail: string) => new ProblemError(409, 'CONFLICT', detail)

/**
 * A fresh deployment of the instance's service, switching its image first when `image` is given: one
 * Railway request either way. Legacy instances are redeployed like any other (only their service is
 * touched). A destroyed instance no longer exists for this operation (404); one that is creating,
 * destroying or failed has no running service to redeploy (409).
 */
export async function redeployInstance(
  deps: RedeployDeps,
  instanceId: string,
  image: string | undefined,
): Promise<RedeployResult> {
  const row = await readyInstance(deps.db, instanceId, 'be redeployed')
  const { serviceId, environmentId } = serviceTargetOf(row)

  const { deploymentId } = await deps.railway.redeploy({ serviceId, environmentId }, image)
  const updated = await createInstancesRepository(deps.db).recordRedeploy(instanceId, image)
  // Railway deployed, but a destroy began meanwhile: it deletes the service, deployment included.
  if (!updated) throw conflict(`instance ${instanceId} stopped being ready during the redeploy`)
  return { instanceId, image: updated.image, deploymentId }
}
