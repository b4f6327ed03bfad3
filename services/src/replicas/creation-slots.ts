import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { execRows } from './rows.js'

/** Railway's concurrent-creation slots, as the creation and destroy steps use them. */
export interface CreationSlots {
  /**
   * Runs the Railway part of `instanceId`'s creation holding a slot. `checkpoint` is called while waiting
   * for one: when it throws (a shutdown, a destroy request, a lost lease), the wait ends with that error.
   */
  hold<T>(instanceId: string, fn: () => Promise<T>, checkpoint?: () => Promise<void>): Promise<T>
  /** The instance's Railway project is gone: whatever slot it kept is free. */
  release(instanceId: string): Promise<void>
}

/** One process: the governor's semaphore; a slot is held exactly while `fn` runs. */
export function inProcessSlots(railway: {
  withCreationSlot<T>(fn: () => Promise<T>): Promise<T>
}): CreationSlots {
  return { hold: (_instanceId, fn) => railway.withCreationSlot(fn), release: async () => undefined }
}

/**
 * The slots of all replicas, as rows of `railway_creation_slots`. A slot is the instance's: Railway counts
 * a creation in flight from its `projectCreate` until its domain exists (or the project is deleted), so a
 * creation that stops half-way (its replica died, a shutdown, a failure being undone) keeps its slot; the
 * replica that resumes it takes the same slot back, and the undo frees it once the project is deleted.
 * A slot of an instance that is `ready`, `destroyed` or gone is free whatever its row says (a lost release).
 *
 * Waiting is polling (`pollMs`); only one creation per replica polls at a time, so a fleet of busy replicas
 * costs a few statements per second, not one per waiting creation.
 */
export function createFleetCreationSlots(
  db: Database,
  owner: string,
  max: number,
  { pollMs = 100 }: { pollMs?: number } = {},
): CreationSlots {
  let ensured: Promise<unknown> | undefined
  let line: Promise<unknown> = Promise.resolve()

  const ensure = () => {
    ensured ??= db
      .execute(
        sql`insert into railway_creation_slots (slot) select generate_series(0, ${max - 1})
            on conflict do nothing`,
      )
      .catch((error) => {
        ensured = undefined
        throw error
      })
    return ensured
  }

  const tryTake = async (instanceId: string) => {
    await ensure()
    const rows = await execRows(
      db,
      sql`update railway_creation_slots s
             set instance_id = ${instanceId}, owner = ${owner}, taken_at = now()
           where s.slot = (
             select c.slot from railway_creation_slots c
              where c.slot < ${max}
                and (c.instance_id is null or c.instance_id = ${instanceId}
                     or not exists (select 1 from instance_infra i
                                     where i.instance_id = c.instance_id
                                       and i.lifecycle in ('creating', 'destroying', 'failed')))
              order by (c.instance_id is not distinct from ${instanceId}) desc, c.slot
              limit 1
              for update skip locked)
          returning s.slot`,
    )
    return rows.length > 0
  }

  const release = async (instanceId: string) => {
    await db.execute(
      sql`update railway_creation_slots set instance_id = null, owner = null, taken_at = null
           where instance_id = ${instanceId}`,
    )
  }

  /** Whether Railway may still count the creation in flight: its project was tried, its domain not made. */
  const midCreation = async (instanceId: string) => {
    const rows = await execRows<{ name: string; state: string; attempts: number }>(
      db,
      sql`select name, state, attempts from instance_steps
           where instance_id = ${instanceId} and operation = 'create' and name in ('project', 'volume_domain')`,
    )
    const project = rows.find((row) => row.name === 'project')
    const domain = rows.find((row) => row.name === 'volume_domain')
    return (project?.attempts ?? 0) > 0 && domain?.state !== 'done'
  }

  const acquire = async (instanceId: string, checkpoint?: () => Promise<void>) => {
    // A resumed creation finds its own slot at once, without queueing behind new ones (which may be
    // waiting for exactly the slots resumed creations hold).
    if (await tryTake(instanceId)) return
    const turn = line.then(async () => {
      for (;;) {
        await checkpoint?.()
        if (await tryTake(instanceId)) return
        await sleep(pollMs + Math.random() * pollMs)
      }
    })
    line = turn.catch(() => undefined)
    await turn
  }

  return {
    async hold(instanceId, fn, checkpoint) {
      await acquire(instanceId, checkpoint)
      let keep = false
      try {
        return await fn()
      } catch (error) {
        keep = await midCreation(instanceId).catch(() => true)
        throw error
      } finally {
        if (!keep) await release(instanceId)
      }
    },
    release,
  }
}
