import type { SQL } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'

/** Rows of a raw statement, whatever the driver (postgres-js returns an array, PGlite `{ rows }`). */
export async function execRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query)
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}
