import { and, inArray, sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { instanceInfra } from '../db/schema.js'

/** What a status batch needs of an instance row (not its token hash or create request). */
export interface StatusRow {
  instanceId: string
  lifecycle: (typeof instanceInfra.$inferSelect)['lifecycle']
  image: string
  url: string | null
  railwayServiceId: string | null
  railwayEnvironmentId: string | null
  deployStatus: string | null
  /** Sealed POOL_API_KEY of the runtime: its health route asks for it too. */
  runtimeCredential: string | null
  /** The cause a failed creation recorded (shown as `error`). */
  errorCode: string | null
  errorMessage: string | null
  updatedAt: Date
}

/** The rows of the given instances, in one query; unknown ids are simply absent. */
export function readStatusRows(db: Database, instanceIds: readonly string[]): Promise<StatusRow[]> {
  return db
    .select({
      instanceId: instanceInfra.instanceId,
      lifecycle: instanceInfra.lifecycle,
      image: instanceInfra.image,
      url: instanceInfra.url,
      railwayServiceId: instanceInfra.railwayServiceId,
      railwayEnvironmentId: instanceInfra.railwayEnvironmentId,
      deployStatus: instanceInfra.deployStatus,
      runtimeCredential: instanceInfra.runtimeCredential,
      errorCode: instanceInfra.errorCode,
      errorMessage: instanceInfra.errorMessage,
      updatedAt: instanceInfra.updatedAt,
    })
    .from(instanceInfra)
    .where(inArray(instanceInfra.instanceId, [...instanceIds]))
}

/**
 * Records observed deploy statuses in one statement, each only if its row is still the version it was
 * observed for (a redeploy in between wins). Returns the new `updated_at` (ms) of each row it changed;
 * a row left out changed meanwhile. `updated_at` is compared at millisecond precision: that is all a JS
 * Date read from it holds.
 */
export async function saveDeployStatuses(
  db: Database,
  changes: readonly { row: Pick<StatusRow, 'instanceId' | 'updatedAt'>; deployStatus: string | null }[],
): Promise<Map<string, number>> {
  if (changes.length === 0) return new Map()
  const values = sql.join(
    changes.map(
      ({ row, deployStatus }) =>
        sql`(${row.instanceId}, ${deployStatus}::text, ${row.updatedAt.toISOString()}::timestamptz)`,
    ),
    sql`, `,
  )
  const saved = await db
    .update(instanceInfra)
    .set({ deployStatus: sql`observed.deploy_status` })
    .from(sql`(values ${values}) as observed(instance_id, deploy_status, version)`)
    .where(
      and(
        sql`${instanceInfra.instanceId} = observed.instance_id`,
        sql`date_trunc('milliseconds', ${instanceInfra.updatedAt}) = observed.version`,
      ),
    )
    .returning({ instanceId: instanceInfra.instanceId, updatedAt: instanceInfra.updatedAt })
  return new Map(saved.map((row) => [row.instanceId, row.updatedAt.getTime()]))
}
