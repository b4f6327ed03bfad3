import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import type { Sql } from 'postgres'
import type { DatabaseHandle } from './open-database.js'
import type * as schema from './schema.js'

export interface MigrateOptions {
  /** The drizzle-kit output folder. Default: see resolveMigrationsFolder(). */
  migrationsFolder?: string
}

/**
 * Arbitrary fixed key of the session-level advisory lock that serialises migrations across replicas:
 * drizzle's migrator reads the last applied migration outside its transaction, so two replicas
 * starting together would otherwise both apply the same migration.
 */
const MIGRATION_LOCK_KEY = 7_318_505_214_112_001n

/**
 * Finds `migrations/` (the folder holding `meta/_journal.json`) in this file's folder or the nearest
 * ancestor. From services/src/db (tsx) and services/dist/db (built server) alike, that is the repo root's
 * migrations/ — or, in an image, a migrations/ copied to the app root or next to dist/.
 */
export function resolveMigrationsFolder(startDir = dirname(fileURLToPath(import.meta.url))): string {
  let dir = startDir
  for (;;) {
    const candidate = join(dir, 'migrations')
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) {
      throw new Error(
        `no migrations folder (migrations/meta/_journal.json) in ${startDir} or any parent folder`,
      )
    }
    dir = parent
  }
}

/** Applies every pending migration. Idempotent; safe to run from several processes at once on postgres. */
export async function migrateDatabase(handle: DatabaseHandle, options: MigrateOptions = {}): Promise<void> {
  const migrationsFolder = options.migrationsFolder ?? resolveMigrationsFolder()
  if (handle.kind === 'pglite') {
    // One process owns a PGlite data folder, so there is nobody to race with.
    await migratePglite(handle.db as unknown as PgliteDatabase<typeof schema>, { migrationsFolder })
    return
  }
  const db = handle.db as unknown as PostgresJsDatabase<typeof schema> & { $client: Sql }
  const lockConnection = await db.$client.reserve()
  try {
    await lockConnection`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`
    try {
      await migratePostgres(db, { migrationsFolder })
    } finally {
      await lockConnection`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`
    }
  } finally {
    lockConnection.release()
  }
}
