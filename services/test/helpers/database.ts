import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { SQL } from 'drizzle-orm'
import postgres from 'postgres'
import { migrateDatabase, resolveMigrationsFolder } from '../../src/db/migrate.js'
import { type DatabaseHandle, openDatabase } from '../../src/db/open-database.js'

/** What the helpers need from a tap test: somewhere to register cleanup. */
export interface TeardownHost {
  teardown(fn: () => unknown): void
}

export interface TestDatabaseOptions {
  /** Apply migrations/ before returning (default true). */
  migrate?: boolean
}

export type TestPostgresHandle = DatabaseHandle & {
  /** URL of the fresh database, to open more connections to it. */
  readonly url: string
  readonly name: string
}

export type TestPgliteHandle = DatabaseHandle & {
  /** The data dir given to openDatabase (PGlite lives in `<dataDir>/pglite`). */
  readonly dataDir: string
}

/** The Postgres server tests create their databases on. */
export function testServerUrl(): string {
  return (
    process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
  )
}

/**
 * A fresh, uniquely named database on the test server (tests run in parallel processes), migrated
 * unless told otherwise, and closed and dropped when the test ends.
 */
export async function createTestDatabase(
  t: TeardownHost,
  options: TestDatabaseOptions = {},
): Promise<TestPostgresHandle> {
  const serverUrl = testServerUrl()
  const name = `svc_test_${process.pid}_${randomBytes(6).toString('hex')}`
  await withAdmin(serverUrl, (admin) => admin.unsafe(`create database "${name}"`))

  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const dataDir = join(tmpdir(), 'unused-pglite-dir')
  let handle: DatabaseHandle | undefined
  t.teardown(async () => {
    await handle?.close()
    await withAdmin(serverUrl, (admin) => admin.unsafe(`drop database if exists "${name}" with (force)`))
  })

  handle = await openDatabase({ databaseUrl: url.toString(), dataDir })
  if (options.migrate !== false) await migrateDatabase(handle)
  return Object.assign(handle, { url: url.toString(), name })
}

/**
 * A PGlite database in a fresh temp folder, migrated unless told otherwise, closed and removed at teardown.
 * A migrated one starts as a copy of a template cluster (about 1 s instead of the 4-12 s of a fresh initdb
 * on a busy machine); `{ migrate: false }` gets a truly fresh, empty one.
 */
export async function createTestPglite(
  t: TeardownHost,
  options: TestDatabaseOptions = {},
): Promise<TestPgliteHandle> {
  const migrate = options.migrate !== false
  const template = migrate ? await migratedPgliteTemplate() : undefined
  const dataDir = await mkdtemp(join(tmpdir(), 'svc-pglite-'))
  let handle: DatabaseHandle | undefined
  t.teardown(async () => {
    await handle?.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  if (template) await cp(template, dataDir, { recursive: true })
  handle = await openDatabase({ dataDir })
  if (migrate) await migrateDatabase(handle)
  return Object.assign(handle, { dataDir })
}

/**
 * A closed, migrated PGlite data dir in the temp folder, shared by every test process and keyed by the
 * PGlite version and the migration files. Built once; it appears by an atomic rename, so it is complete
 * whenever it exists, and a process that loses the race to build it just throws its own copy away.
 */
async function migratedPgliteTemplate(): Promise<string> {
  const template = join(tmpdir(), `svc-pglite-template-${await templateKey()}`)
  if (existsSync(join(template, 'pglite', 'PG_VERSION'))) return template
  const building = await mkdtemp(`${template}-building-`)
  try {
    const handle = await openDatabase({ dataDir: building })
    try {
      await migrateDatabase(handle)
    } finally {
      await handle.close()
    }
    await rename(building, template)
  } catch (error) {
    await rm(building, { recursive: true, force: true })
    if (!existsSync(join(template, 'pglite', 'PG_VERSION'))) throw error
  }
  return template
}

async function templateKey(): Promise<string> {
  const hash = createHash('sha256')
  const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  const pglitePackage = JSON.parse(await readFile(join(dirname(pgliteEntry), '..', 'package.json'), 'utf8'))
  hash.update(`pglite ${pglitePackage.version}\n`)
  const folder = resolveMigrationsFolder()
  const files = (await readdir(folder, { recursive: true })).map(String).sort()
  for (const file of files) {
    if (file.endsWith('.sql') || file.endsWith('.json'))
      hash.update(`${file}\n`).update(await readFile(join(folder, file)))
  }
  return hash.digest('hex').slice(0, 16)
}

async function withAdmin<T>(serverUrl: string, fn: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(serverUrl, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    return await fn(admin)
  } finally {
    await admin.end({ timeout: 5 })
  }
}

/** Rows of a raw query, whatever the driver (postgres-js returns an array, PGlite `{ rows }`). */
export async function queryRows<T = Record<string, unknown>>(
  handle: DatabaseHandle,
  query: SQL,
): Promise<T[]> {
  const result: unknown = await handle.db.execute(query)
  if (Array.isArray(result)) return result as T[]
  return (result as { rows: T[] }).rows
}

/** The SQLSTATE of a database error, looking through drizzle's DrizzleQueryError wrapper. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** Resolves to the SQLSTATE the promise rejects with; fails if it resolves. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return pgErrorCode(error) ?? `no SQLSTATE: ${String(error)}`
  }
  return 'resolved'
}
