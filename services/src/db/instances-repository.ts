import { and, asc, eq, ne, sql } from 'drizzle-orm'
import type { Database } from './open-database.js'
import { type InstanceInfra, type InstanceLifecycle, instanceInfra, type NewInstanceInfra } from './schema.js'

export type InstancesRepository = ReturnType<typeof createInstancesRepository>

/** A row of a page, with its `created_at` to the microsecond (the keyset a cursor needs). */
export interface PagedInstance {
  row: InstanceInfra
  createdAtExact: string
}

/** `created_at` as Postgres stores it, in UTC with microseconds: a JS Date would drop the last 3 digits. */
const exactCreatedAt = sql<string>`to_char(${instanceInfra.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

export function createInstancesRepository(db: Database) {
  return {
    /**
     * The live (not destroyed) instance whose INSTANCE_SERVICES_TOKEN hashes to `tokenHash`.
     * An indexed lookup of a SHA-256 of a high-entropy token: its timing reveals nothing about the token.
     */
    async findByTokenHash(tokenHash: string): Promise<InstanceInfra | undefined> {
      const [row] = await db
        .select()
        .from(instanceInfra)
        .where(and(eq(instanceInfra.tokenHash, tokenHash), ne(instanceInfra.lifecycle, 'destroyed')))
        .limit(1)
      return row
    },

    /** The instance, whatever its lifecycle, or undefined. */
    async get(instanceId: string): Promise<InstanceInfra | undefined> {
      const [row] = await db
        .select()
        .from(instanceInfra)
        .where(eq(instanceInfra.instanceId, instanceId))
        .limit(1)
      return row
    },

    async insert(row: NewInstanceInfra): Promise<InstanceInfra> {
      const [inserted] = await db.insert(instanceInfra).values(row).returning()
      if (!inserted) throw new Error(`insert of instance ${row.instanceId} returned no row`)
      return inserted
    },

    /**
     * One page in a stable order, oldest first: (created_at, instance_id) after `after`, so rows created
     * while a client pages never shift the pages it has not read yet.
     */
    async page(options: {
      lifecycle?: InstanceLifecycle | undefined
      after?: { createdAt: string; instanceId: string } | undefined
      limit: number
    }): Promise<PagedInstance[]> {
      const { lifecycle, after, limit } = options
      return db
        .select({ row: instanceInfra, createdAtExact: exactCreatedAt })
        .from(instanceInfra)
        .where(
          and(
            lifecycle ? eq(instanceInfra.lifecycle, lifecycle) : undefined,
            after
              ? sql`(${instanceInfra.createdAt}, ${instanceInfra.instanceId}) > (${after.createdAt}::timestamptz, ${after.instanceId})`
              : undefined,
          ),
        )
        .orderBy(asc(instanceInfra.createdAt), asc(instanceInfra.instanceId))
        .limit(limit)
    },

    /**
     * Inserts an adopted (legacy) instance unless its id exists, and unless another live instance
     * already holds its Railway service: two ids on one service would let one's destroy delete the
     * other's service. The advisory lock on the service id makes check and insert one step across
     * concurrent adopts. Returns the new row, `{ taken }` with the other holder's id, or undefined when
     * the id existed (the caller re-reads it).
     */
    async insertAdopted(
      row: NewInstanceInfra & { railwayServiceId: string },
    ): Promise<InstanceInfra | { taken: string } | undefined> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`adopt:${row.railwayServiceId}`}))`)
        const [holder] = await tx
          .select({ instanceId: instanceInfra.instanceId })
          .from(instanceInfra)
          .where(
            and(
              eq(instanceInfra.railwayServiceId, row.railwayServiceId),
              ne(instanceInfra.lifecycle, 'destroyed'),
              ne(instanceInfra.instanceId, row.instanceId),
            ),
          )
          .limit(1)
        if (holder) return { taken: holder.instanceId }
        const [inserted] = await tx.insert(instanceInfra).values(row).onConflictDoNothing().returning()
        return inserted
      })
    },

    /**
     * Records a redeploy that Railway accepted: the new image (when switched) and a `QUEUED` deploy
     * status. The write bumps `updated_at`, which invalidates status cached from the previous deployment.
     * Only while the instance is `ready`: undefined when a destroy began meanwhile.
     */
    async recordRedeploy(instanceId: string, image: string | undefined): Promise<InstanceInfra | undefined> {
      const [updated] = await db
        .update(instanceInfra)
        .set({ deployStatus: 'QUEUED', ...(image === undefined ? {} : { image }) })
        .where(and(eq(instanceInfra.instanceId, instanceId), eq(instanceInfra.lifecycle, 'ready')))
        .returning()
      return updated
    },
  }
}
