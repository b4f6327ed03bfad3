import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'

/**
 * The one database type the repositories are written against. Both the postgres-js and the PGlite
 * drizzle databases are assignable to it, so the same code serves production and local runs.
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

export type DatabaseKind = 'postgres' | 'pglite'

export interface DatabaseHandle {
  readonly db: Database
  readonly kind: DatabaseKind
  /** Where the data lives, safe to log: the postgres URL with its password masked, or the PGlite folder. */
  readonly location: string
  /** Runs `select 1`; rejects within the ping timeout when the database is unreachable. Backs `/readyz`. */
  ping(): Promise<void>
  /** The postgres pool's size and use, for `/metrics`; absent with PGlite, which has no pool. */
  readonly pool?: DatabasePoolStats
  /** Closes the pool / the embedded database. Safe to call more than once. */
  close(): Promise<void>
}

export interface DatabasePoolStats {
  /** The most connections the pool opens. */
  readonly max: number
  /** This process's open connections by state (`active`, `idle`, ...), from pg_stat_activity. */
  connections(): Promise<Array<{ state: string; count: number }>>
}

/** The subset of a pino / Fastify logger this module uses. */
export interface DatabaseLogger {
  info(obj: object, msg?: string): void
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL. Unset: embedded PostgreSQL (PGlite) persisted in `<dataDir>/pglite`. */
  databaseUrl?: string | undefined
  /** Folder for local data; PGlite keeps its files in the `pglite` folder inside it. */
  dataDir: string
  logger?: DatabaseLogger | undefined
  /** Maximum connections of the postgres pool (at least 2, see migrate.ts). Default 10. */
  poolMax?: number
  /** How long `ping()` may take before it rejects. Default 3000 ms. */
  pingTimeoutMs?: number
}

const DEFAULT_POOL_MAX = 10
const DEFAULT_PING_TIMEOUT_MS = 3_000
const CONNECT_TIMEOUT_SECONDS = 5
const IDLE_TIMEOUT_SECONDS = 30

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const handle = options.databaseUrl
    ? openPostgres(options.databaseUrl, options)
    : await openPglite(join(resolve(options.dataDir), 'pglite'))
  options.logger?.info({ database: handle.kind, location: handle.location }, 'database opened')
  return handle
}

function openPostgres(url: string, options: OpenDatabaseOptions): DatabaseHandle {
  // migrateDatabase() holds an advisory lock on one reserved connection while it migrates on another.
  const max = Math.max(2, options.poolMax ?? DEFAULT_POOL_MAX)
  // Unique per handle, so pg_stat_activity tells this pool's connections from other replicas' and tests'.
  const applicationName = `agent-pool-services/${process.pid}/${randomBytes(4).toString('hex')}`
  const client = postgres(url, {
    max,
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    idle_timeout: IDLE_TIMEOUT_SECONDS,
    onnotice: () => {},
    connection: { application_name: applicationName },
  })
  const db = drizzlePostgres({ client, schema })
  const pool: DatabasePoolStats = {
    max,
    async connections() {
      const rows = await db.execute<{ state: string | null; count: number }>(
        sql`select state, count(*)::int as count from pg_stat_activity where application_name = ${applicationName} group by state`,
      )
      return [...rows].map((row) => ({ state: row.state ?? 'unknown', count: row.count }))
    },
  }
  return makeHandle({
    db,
    pool,
    kind: 'postgres',
    location: maskDatabaseUrl(url),
    pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
    close: () => client.end({ timeout: 5 }),
  })
}

async function openPglite(folder: string): Promise<DatabaseHandle> {
  await mkdir(folder, { recursive: true })
  const client = await PGlite.create(folder)
  const db = drizzlePglite({ client, schema })
  return makeHandle({
    db,
    kind: 'pglite',
    location: folder,
    pingTimeoutMs: DEFAULT_PING_TIMEOUT_MS,
    close: () => client.close(),
  })
}

function makeHandle(parts: {
  db: Database
  kind: DatabaseKind
  location: string
  pool?: DatabasePoolStats
  pingTimeoutMs: number
  close: () => Promise<void>
}): DatabaseHandle {
  let closing: Promise<void> | undefined
  return {
    db: parts.db,
    kind: parts.kind,
    location: parts.location,
    ...(parts.pool ? { pool: parts.pool } : {}),
    async ping() {
      if (closing) throw new Error(`${parts.kind} ping failed: the database handle is closed`)
      try {
        await withTimeout(parts.db.execute(sql`select 1`), parts.pingTimeoutMs, `${parts.kind} ping`)
      } catch (error) {
        // drizzle wraps driver errors ("Failed query: select 1"); say what actually went wrong.
        throw new Error(`${parts.kind} ping failed: ${rootCauseMessage(error)}`, { cause: error })
      }
    },
    close() {
      closing ??= parts.close()
      return closing
    },
  }
}

function rootCauseMessage(error: unknown): string {
  let current = error
  while (current instanceof Error && current.cause !== undefined) current = current.cause
  return current instanceof Error ? current.message : String(current)
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also masks a `password` query parameter. */
export function maskDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
  }
}
