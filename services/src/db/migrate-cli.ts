// `npm run db:migrate`: applies migrations/ to DATABASE_URL, or to the PGlite folder in DATA_DIR (default .data).
import { migrateDatabase } from './migrate.js'
import { openDatabase } from './open-database.js'

const databaseUrl = process.env.DATABASE_URL || undefined
const dataDir = process.env.DATA_DIR || '.data'

try {
  const handle = await openDatabase({ databaseUrl, dataDir })
  try {
    await migrateDatabase(handle)
    console.log(`migrations applied to ${handle.kind} database at ${handle.location}`)
  } finally {
    await handle.close()
  }
} catch (error) {
  console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
