import { sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { execRows } from './rows.js'

/** One rate shared by every replica: what the Railway governor asks before each request. */
export interface FleetTokens {
  /** Takes a token at `ratePerSecond`: 0 when taken, else the ms until the next one is due. */
  take(ratePerSecond: number): Promise<number>
  /** Nobody takes a token for `ms` (a 429's Retry-After applies to every replica: the limit is the token's). */
  pause(ms: number): Promise<void>
}

/**
 * A GCRA token bucket of capacity 1 in one `fleet_rate_buckets` row: `next_at` is when the next request may
 * go, moved on by `1 / rate` per token. One statement per token, and it never blocks on a row lock for
 * long (one UPDATE of one row). Postgres's clock is the only clock, so replicas' clocks need not agree.
 * The rate is passed on each take, so a replica pacing down for the hourly budget slows the fleet too.
 */
export function createFleetTokens(db: Database, name: string): FleetTokens {
  let ensured: Promise<unknown> | undefined
  const ensure = () => {
    ensured ??= db
      .execute(
        sql`insert into fleet_rate_buckets (name, next_at) values (${name}, now()) on conflict do nothing`,
      )
      .catch((error) => {
        ensured = undefined // asked again next time
        throw error
      })
    return ensured
  }
  return {
    async take(ratePerSecond) {
      await ensure()
      const interval = sql`(${1_000 / ratePerSecond} * interval '1 millisecond')`
      // The outer SELECT sees the row as it was before the UPDATE: when nothing was taken, its next_at is
      // the time to wait for. An idle bucket holds one token at most (no catch-up burst after a pause).
      const [row] = await execRows<{ taken: number; wait_ms: number }>(
        db,
        sql`with taken as (
              update fleet_rate_buckets
                 set next_at = greatest(next_at, clock_timestamp() - interval '1 millisecond') + ${interval}
               where name = ${name} and next_at <= clock_timestamp()
              returning 1)
            select (select count(*) from taken)::int as taken,
                   greatest(0, extract(epoch from (next_at - clock_timestamp())) * 1000)::float8 as wait_ms
              from fleet_rate_buckets where name = ${name}`,
      )
      if (!row) throw new Error(`fleet rate bucket ${name} is missing`)
      return row.taken > 0 ? 0 : Math.max(1, Math.ceil(row.wait_ms))
    },
    async pause(ms) {
      await ensure()
      await db.execute(
        sql`update fleet_rate_buckets
               set next_at = greatest(next_at, clock_timestamp() + ${ms} * interval '1 millisecond')
             where name = ${name}`,
      )
    },
  }
}
