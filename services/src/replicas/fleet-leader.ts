import { sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { execRows } from './rows.js'

/**
 * Leadership of one fleet-wide job through a named row of `fleet_leases`: whoever holds the unexpired row
 * leads; asking renews it. A lease row, not `pg_try_advisory_lock`, because an advisory lock lives on one
 * session: it would pin a pooled connection for the process's lifetime, and a connection dropped by the
 * pool or a proxy would silently hand leadership over while this replica still thinks it leads.
 */
export interface FleetLeader {
  /** Takes or renews the lease for `termMs` and says whether this replica leads now. */
  leads(): Promise<boolean>
  /** Gives leadership up (graceful stop), so another replica takes over at once instead of after the term. */
  resign(): Promise<void>
}

export function createFleetLeader(db: Database, name: string, owner: string, termMs: number): FleetLeader {
  return {
    async leads() {
      const rows = await execRows(
        db,
        sql`insert into fleet_leases (name, owner, expires_at)
            values (${name}, ${owner}, now() + ${termMs} * interval '1 millisecond')
            on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
              where fleet_leases.owner = excluded.owner or fleet_leases.expires_at < now()
            returning owner`,
      )
      return rows.length > 0
    },
    async resign() {
      await db.execute(sql`delete from fleet_leases where name = ${name} and owner = ${owner}`)
    },
  }
}

/**
 * Jobs that must run once across the fleet, each run only on the leading replica. Leadership is asked
 * before every job (one small statement), so a replica that lost it mid-pass stops after the current job.
 */
export function onlyOnLeader(
  leader: FleetLeader,
  jobs: Array<() => Promise<unknown>>,
): Array<() => Promise<unknown>> {
  return jobs.map((job) => async () => ((await leader.leads()) ? job() : undefined))
}
