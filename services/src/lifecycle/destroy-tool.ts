import { and, desc, eq, lt, sql } from 'drizzle-orm'
import { createInstancesRepository } from '../db/instances-repository.js'
import { type InstanceService, instanceInfra, instanceServices } from '../db/schema.js'
import type { DestroyToolResult } from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { catalogEntry } from '../plugins/tool-catalog.js'
import { describeFailure } from './failure.js'
import { deliverLivePush, type LivePushDeps, queueLivePush } from './live-push.js'
import { serviceTargetOf } from './running-instance.js'
import { recordReleaseFailure, releaseToolRow, type ToolResourceDeps } from './tool-resources.js'

export interface DestroyToolDeps extends ToolResourceDeps, LivePushDeps {
  railway: RailwayClient
}

const notFound = (detail: string) => new ProblemError(404, 'NOT_FOUND', detail)

/**
 * `DELETE /destroy/{instanceId}/{toolId}/{resourceId}`. The variables are blanked on the instance's
 * Railway service first (the request fails cleanly if Railway does), then the provider releases the resource: `destroyed`
 * once it confirms (or no longer knows it), `releasing` when it fails, and the reaper retries. The running
 * agent gets the variables cleared. A resource destroyed before answers `destroyed` again.
 */
export async function destroyTool(
  deps: DestroyToolDeps,
  input: { instanceId: string; toolId: string; resourceId: string },
): Promise<{ result: DestroyToolResult; done: boolean }> {
  const entry = catalogEntry(input.toolId)
  if (!entry) throw notFound(`there is no tool ${input.toolId}; GET /registry lists them`)
  const instance = await createInstancesRepository(deps.db).get(input.instanceId)
  if (!instance) throw notFound(`instance ${input.instanceId} does not exist`)
  const [row] = await deps.db
    .select()
    .from(instanceServices)
    .where(
      and(
        eq(instanceServices.instanceId, input.instanceId),
        eq(instanceServices.toolId, entry.toolId),
        eq(instanceServices.resourceId, input.resourceId),
      ),
    )
    .orderBy(desc(instanceServices.createdAt))
    .limit(1)
  if (!row) throw notFound(`instance ${input.instanceId} has no ${entry.toolId} resource ${input.resourceId}`)
  const answer = (status: DestroyToolResult['status']) => ({
    result: { toolId: entry.toolId, resourceId: input.resourceId, status },
    done: status === 'destroyed',
  })
  if (row.status === 'destroyed') return answer('destroyed')
  if (instance.lifecycle !== 'ready') {
    // Creation and destroy own their instance's tools; the engine releases this one with the rest.
    throw new ProblemError(
      409,
      'CONFLICT',
      `instance ${input.instanceId} is ${instance.lifecycle}; its tools are released with it`,
    )
  }

  if (row.envKeys.length > 0) {
    // Blanked with skipDeploys rather than deleted: Railway's variableDelete has no skipDeploys, so it
    // would redeploy (restart) the agent, and a deployment started then would also miss any variable
    // set later with skipDeploys. The live push clears them in the running process.
    const blank = Object.fromEntries(row.envKeys.map((key) => [key, '']))
    await deps.railway.upsertVariables(serviceTargetOf(instance), blank, { skipDeploys: true })
    await queueLivePush(deps, instance.instanceId, blank)
  }
  const released = await release(deps, row)
  await deliverLivePush(deps, instance.instanceId)
  return answer(released ? 'destroyed' : 'releasing')
}

async function release(deps: ToolResourceDeps, row: InstanceService): Promise<boolean> {
  try {
    await releaseToolRow(deps, row)
    return true
  } catch (error) {
    await recordReleaseFailure(deps.db, row, describeFailure(error))
    return false
  }
}

/**
 * The reaper's job for tools released one by one on ready instances (a destroyed or failed instance's
 * tools are the engine's): each release that failed is tried again, at most once per `intervalMs`.
 */
export async function retryToolReleases(deps: ToolResourceDeps, intervalMs: number): Promise<void> {
  const rows = await deps.db
    .select({ service: instanceServices })
    .from(instanceServices)
    .innerJoin(instanceInfra, eq(instanceInfra.instanceId, instanceServices.instanceId))
    .where(
      and(
        eq(instanceServices.status, 'releasing'),
        eq(instanceInfra.lifecycle, 'ready'),
        lt(instanceServices.updatedAt, sql`now() - ${intervalMs} * interval '1 millisecond'`),
      ),
    )
    .limit(500)
  for (const { service } of rows) await release(deps, service)
}
