import { and, eq, ne } from 'drizzle-orm'
import type { Database } from './open-database.js'
import { type InstanceInfra, instanceInfra, type NewInstanceInfra } from './schema.js'

export type InstancesRepository = ReturnType<typeof createInstancesRepository>

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
  }
}
