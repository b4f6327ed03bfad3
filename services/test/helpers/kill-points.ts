import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import type { Faults } from '../../../emulators/src/kit/faults.js'
import type { DatabaseHandle } from '../../src/db/open-database.js'
import { queryRows } from './database.js'

/** Polls `probe` every few ms until it returns something truthy; throws `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T> | T,
  timeoutMs = 20_000,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * Holds chosen writes of the server in the database, so a SIGKILL can land at an exact point of the
 * engine: a trigger sleeps inside the writing statement (and its transaction) when the change matches an
 * armed hold. What a change is called:
 * - a step's state: `create/project:done`, `destroy/tool:openrouter:running`;
 * - a tool row's status: `tool:openrouter:active`, `tool:wallet:destroyed`;
 * - the instance's lifecycle: `instance:ready`, `instance:destroyed`.
 * A hold matches with SQL `like` (so `create/%:running` is "the next step begins"), optionally only once
 * the step `afterDone` is done. Test instrumentation only: it never exists in a migration.
 */
export const KILL_POINT_SQL = `
create table kill_test_hold (
  instance_id text not null,
  pattern text not null,
  after_done text,
  primary key (instance_id, pattern)
);
create function kill_test_hold() returns trigger language plpgsql as $$
declare
  changed text;
begin
  if tg_table_name = 'instance_steps' then
    if new.state is not distinct from old.state then return new; end if;
    changed := new.operation || '/' || new.name || ':' || new.state;
  elsif tg_table_name = 'instance_services' then
    if new.status is not distinct from old.status then return new; end if;
    changed := 'tool:' || new.tool_id || ':' || new.status;
  else
    if new.lifecycle is not distinct from old.lifecycle then return new; end if;
    changed := 'instance:' || new.lifecycle;
  end if;
  if exists (
    select 1 from kill_test_hold h
    where h.instance_id = new.instance_id and changed like h.pattern
      and (h.after_done is null or exists (
        select 1 from instance_steps s
        where s.instance_id = new.instance_id and s.operation || '/' || s.name = h.after_done
          and s.state = 'done'))
  ) then
    perform pg_sleep(600);
  end if;
  return new;
end $$;
create trigger kill_test_hold before update on instance_steps
  for each row execute function kill_test_hold();
create trigger kill_test_hold before update on instance_services
  for each row execute function kill_test_hold();
create trigger kill_test_hold before update on instance_infra
  for each row execute function kill_test_hold();
`

export interface DatabaseHolds {
  arm(instanceId: string, patterns: string[], afterDone?: string): Promise<void>
  /** Resolves once a write of the server is sleeping in the trigger. */
  held(): Promise<void>
  /**
   * Disarms and ends the held statement: its transaction rolls back, as Postgres does once it notices its
   * client is gone (a backend asleep in `pg_sleep` would only notice when it wakes).
   */
  release(): Promise<void>
}

export async function installDatabaseHolds(database: DatabaseHandle): Promise<DatabaseHolds> {
  await database.db.execute(sql.raw(KILL_POINT_SQL))
  const sleepers = () =>
    queryRows<{ pid: number }>(
      database,
      sql`select pid from pg_stat_activity
          where datname = current_database() and wait_event = 'PgSleep' and pid <> pg_backend_pid()`,
    )
  return {
    async arm(instanceId, patterns, afterDone) {
      for (const pattern of patterns) {
        await database.db.execute(
          sql`insert into kill_test_hold (instance_id, pattern, after_done)
              values (${instanceId}, ${pattern}, ${afterDone ?? null})`,
        )
      }
    },
    async held() {
      await until('a write held in the database', async () => (await sleepers()).length > 0)
    },
    async release() {
      await database.db.execute(sql`delete from kill_test_hold`)
      for (const { pid } of await sleepers()) {
        await database.db.execute(sql`select pg_terminate_backend(${pid})`)
      }
    },
  }
}

export type RequestHold = 'request lost' | 'in flight'

/**
 * Holds the next request for `operation` at an emulator: `request lost` never answers and never does the
 * work (the request died on the way); `in flight` does the work only after `latencyMs`, whoever still
 * listens. `arrived()` says whether the request has reached the emulator (before either happens).
 */
export function holdRequest(faults: Faults, operation: string, kind: RequestHold, latencyMs = 800) {
  let arrived = false
  // The kit asks each request's added latency first thing: that call is the request's arrival.
  const latencyFor = faults.latencyFor.bind(faults)
  faults.latencyFor = (name: string) => {
    if (name === operation) arrived = true
    return latencyFor(name)
  }
  faults.add(kind === 'request lost' ? { operation, hangRate: 1, times: 1 } : { operation, latencyMs })
  return {
    arrived: () => arrived,
    /** Removes the rule and the arrival watch (a request already held stays held). */
    clear() {
      Reflect.deleteProperty(faults, 'latencyFor')
      faults.clear()
    },
  }
}
