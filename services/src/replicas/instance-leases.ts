import { sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { execRows } from './rows.js'

/**
 * Per-instance leases on `instance_infra` (lease_owner, lease_expires_at): one replica at a time runs an
 * instance's creation or destroy. A conditional UPDATE claims it, so no connection is held while working
 * and a replica that dies simply stops renewing; after `leaseMs` another replica may take the work over
 * and resumes it under the usual crash-safety rules (a `running` step is looked up before it is redone).
 *
 * Raw SQL on purpose: drizzle's `$onUpdate` would bump `updated_at`, which orders the reaper's work.
 */
export interface InstanceLeases {
  readonly owner: string
  readonly leaseMs: number
  /** Takes the lease when it is free, lapsed, or already ours; false when another replica holds it. */
  claim(instanceId: string): Promise<boolean>
  /** Extends our lease; false when it is no longer ours (it lapsed and another replica took it). */
  renew(instanceId: string): Promise<boolean>
  /** Gives the lease up (only ours). */
  release(instanceId: string): Promise<void>
  /**
   * Whether the lease is still ours. A lease that lapsed but nobody took is still ours (the next renewal
   * extends it); one another replica took is not, and the work must stop before its next step.
   */
  holds(instanceId: string): Promise<boolean>
}

export function createInstanceLeases(db: Database, owner: string, leaseMs: number): InstanceLeases {
  const ttl = sql`(${leaseMs} * interval '1 millisecond')`
  return {
    owner,
    leaseMs,
    async claim(instanceId) {
      const rows = await execRows(
        db,
        sql`update instance_infra set lease_owner = ${owner}, lease_expires_at = now() + ${ttl}
            where instance_id = ${instanceId}
              and (lease_owner is null or lease_owner = ${owner} or lease_expires_at < now())
            returning instance_id`,
      )
      return rows.length > 0
    },
    async renew(instanceId) {
      const rows = await execRows(
        db,
        sql`update instance_infra set lease_expires_at = now() + ${ttl}
            where instance_id = ${instanceId} and lease_owner = ${owner}
            returning instance_id`,
      )
      return rows.length > 0
    },
    async release(instanceId) {
      await db.execute(
        sql`update instance_infra set lease_owner = null, lease_expires_at = null
            where instance_id = ${instanceId} and lease_owner = ${owner}`,
      )
    },
    async holds(instanceId) {
      const rows = await execRows(
        db,
        sql`select 1 from instance_infra
            where instance_id = ${instanceId} and lease_owner = ${owner}`,
      )
      return rows.length > 0
    },
  }
}
