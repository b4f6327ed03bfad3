import { and, eq, lt, sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { instanceInfra, instanceServices } from '../db/schema.js'
import type { LifecycleLogger } from './context.js'
import type { Provisioner } from './provision-tool.js'

/**
 * Finishes pool-mode provisions that a crash interrupted: their row says `provisioning` and has not moved
 * for `staleMs`. Each is provisioned again the way the caller asked, with the row's idempotency key, so
 * the provider hands back (or makes) the one resource; it is recorded, written to Railway and pushed to
 * the agent, as the lost request would have done. Without this it stayed unrecorded until the instance
 * was destroyed, and the agent never got it.
 */
export async function resumeInterruptedProvisions(
  deps: { db: Database; log: LifecycleLogger },
  provision: Provisioner,
  staleMs: number,
): Promise<number> {
  const stale = await deps.db
    .select({ instanceId: instanceServices.instanceId, toolId: instanceServices.toolId })
    .from(instanceServices)
    .innerJoin(instanceInfra, eq(instanceInfra.instanceId, instanceServices.instanceId))
    .where(
      and(
        eq(instanceServices.status, 'provisioning'),
        eq(instanceServices.mode, 'pool'),
        eq(instanceInfra.lifecycle, 'ready'),
        lt(instanceServices.updatedAt, sql`now() - make_interval(secs => ${staleMs / 1000})`),
      ),
    )
    .limit(100)
  for (const { instanceId, toolId } of stale) {
    await provision({ instanceId, toolId, principal: { kind: 'pool' }, body: { mode: 'pool' } }).then(
      () => deps.log.info({ instanceId, toolId }, 'finished an interrupted provision'),
      (err) =>
        deps.log.warn({ err, instanceId, toolId }, 'an interrupted provision failed again; retried later'),
    )
  }
  return stale.length
}
