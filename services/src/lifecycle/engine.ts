import { setTimeout as sleep } from 'node:timers/promises'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { instanceInfra } from '../db/schema.js'
import type { LifecycleDeps, OperationOutcome } from './context.js'
import { runCreation } from './create-instance.js'
import { runCleanup } from './destroy-instance.js'

type Kind = 'create' | 'destroy'

export interface LifecycleEngine {
  /** Starts the creation of a `creating` instance, or joins the one in flight. Never rejects. */
  ensureCreation(instanceId: string): Promise<void>
  /**
   * Marks the instance `destroying` (a creation in flight stops at its next step boundary) and starts
   * releasing it, or joins the destroy in flight. Returns false when there is nothing to destroy.
   */
  requestDestroy(instanceId: string): Promise<boolean>
  ensureDestroy(instanceId: string): Promise<void>
  /** Resumes every unfinished creation and destroy, and retries failed releases. */
  reap(): Promise<void>
  /** The reaper every `reaperIntervalMs`, plus extra periodic jobs (e.g. the phone number pool cleanup). */
  startReaper(extraJobs?: Array<() => Promise<unknown>>): void
  /**
   * `done` once a reaper pass has picked up everything an earlier run left unfinished (for `/readyz`);
   * the work itself then runs in the background.
   */
  recovery(): 'pending' | 'done'
  /** Stops starting work; work in flight stops at its next step boundary (and resumes after a restart). */
  close(): Promise<void>
}

/**
 * One operation per instance at a time in this process: a repeated request joins the one in flight, a
 * destroy queues behind a creation (which it has asked to stop). The database is the source of truth;
 * this map only prevents duplicate work inside one process. With `deps.leases` (several replicas), the
 * instance's lease in the database keeps the other replicas out too.
 */
export function createLifecycleEngine(deps: LifecycleDeps, setStopping: () => void): LifecycleEngine {
  const running = new Map<string, { kind: Kind; done: Promise<void> }>()
  let timer: NodeJS.Timeout | undefined
  let recovered = false
  let reaping: Promise<void> | undefined
  let closed = false

  /** Runs `work`, telling the observer while it runs (not while it queues behind another operation). */
  const observed = (kind: Kind, work: () => Promise<OperationOutcome>) => async () => {
    deps.observer?.started(kind)
    let outcome: OperationOutcome = 'error'
    try {
      outcome = await work()
    } finally {
      deps.observer?.ended(kind, outcome)
    }
  }

  const track = (instanceId: string, kind: Kind, work: () => Promise<OperationOutcome>): Promise<void> => {
    const current = running.get(instanceId)
    if (current?.kind === kind) return current.done
    if (closed) return Promise.resolve()
    const done = (current?.done ?? Promise.resolve())
      .then(() => leased(instanceId, kind, observed(kind, work)))
      .then(
        () => undefined,
        (err) =>
          deps.log.error(
            { err, instanceId },
            `${kind} stopped on an unexpected error; the reaper resumes it`,
          ),
      )
      .finally(() => {
        if (running.get(instanceId)?.done === done) running.delete(instanceId)
        deps.events.emit(instanceId, { kind: 'end' })
      })
    running.set(instanceId, { kind, done })
    return done
  }

  /** Whether an operation of `kind` still has something to do (another replica may have finished it). */
  const stillWanted = async (instanceId: string, kind: Kind) => {
    const [row] = await deps.db
      .select({ lifecycle: instanceInfra.lifecycle })
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, instanceId))
    if (!row) return false
    return kind === 'create' ? row.lifecycle === 'creating' : ['destroying', 'failed'].includes(row.lifecycle)
  }

  /**
   * Runs `run` holding the instance's lease. While another replica holds it this waits, polling: a caller
   * here (an HTTP request) joins the work running there, and takes it over if that replica dies and its
   * lease lapses with the work unfinished. The lease is renewed every third of its term while `run` works;
   * a renewal that finds it gone makes the step guard stop the work at its next boundary.
   */
  const leased = async (instanceId: string, kind: Kind, run: () => Promise<void>) => {
    const { leases } = deps
    if (!leases) return run()
    while (!(await leases.claim(instanceId))) {
      if (closed || !(await stillWanted(instanceId, kind))) return
      await sleep(Math.min(1_000, leases.leaseMs / 10))
    }
    const renewal = setInterval(() => {
      leases
        .renew(instanceId)
        .catch((err) => deps.log.warn({ err, instanceId }, 'lease renewal failed; it is tried again'))
    }, leases.leaseMs / 3)
    renewal.unref()
    try {
      await run()
    } finally {
      clearInterval(renewal)
      await leases
        .release(instanceId)
        .catch((err) => deps.log.warn({ err, instanceId }, 'lease release failed; it lapses on its own'))
    }
  }

  const createThenUndo = async (instanceId: string) => {
    const outcome = await runCreation(deps, instanceId)
    if (outcome === 'failed') await runCleanup(deps, instanceId)
    return outcome
  }

  const destroy = async (instanceId: string) =>
    (await runCleanup(deps, instanceId)).length === 0 ? ('released' as const) : ('incomplete' as const)

  const engine: LifecycleEngine = {
    ensureCreation: (instanceId) => track(instanceId, 'create', () => createThenUndo(instanceId)),

    async requestDestroy(instanceId) {
      const updated = await deps.db
        .update(instanceInfra)
        .set({ lifecycle: 'destroying' })
        .where(
          and(
            eq(instanceInfra.instanceId, instanceId),
            inArray(instanceInfra.lifecycle, ['creating', 'ready', 'failed', 'destroying']),
          ),
        )
        .returning({ instanceId: instanceInfra.instanceId })
      return updated.length > 0
    },

    ensureDestroy: (instanceId) => track(instanceId, 'destroy', () => destroy(instanceId)),

    reap() {
      reaping ??= reapOnce().finally(() => {
        reaping = undefined
      })
      return reaping
    },

    startReaper(extraJobs = []) {
      const tick = async () => {
        await engine.reap()
        for (const job of extraJobs) {
          await job().catch((err) => deps.log.warn({ err }, 'periodic job failed; it runs again next time'))
        }
      }
      void tick()
      timer = setInterval(() => void tick(), deps.config.lifecycle.reaperIntervalMs)
      timer.unref()
    },

    recovery: () => (recovered ? 'done' : 'pending'),

    async close() {
      closed = true
      setStopping()
      if (timer) clearInterval(timer)
      await Promise.allSettled([...running.values()].map((entry) => entry.done))
    },
  }

  /**
   * Instances with unfinished work: creating, destroying, or failed with something still held (a live
   * tool row, or a Railway release not done). Released resources that failed are retried with backoff.
   */
  async function reapOnce() {
    // With leases, work another live replica holds is its business: only free or lapsed leases are taken.
    const leaseFree = deps.leases
      ? sql`and (${instanceInfra.leaseOwner} is null or ${instanceInfra.leaseOwner} = ${deps.leases.owner}
                 or ${instanceInfra.leaseExpiresAt} < now())`
      : sql``
    try {
      const rows = await deps.db
        .select({ instanceId: instanceInfra.instanceId, lifecycle: instanceInfra.lifecycle })
        .from(instanceInfra)
        .where(sql`(${instanceInfra.lifecycle} in ('creating', 'destroying')
            or (${instanceInfra.lifecycle} = 'failed' and (
                exists (select 1 from instance_services s
                        where s.instance_id = ${instanceInfra.instanceId} and s.status <> 'destroyed')
                or not exists (select 1 from instance_steps st
                        where st.instance_id = ${instanceInfra.instanceId} and st.operation = 'destroy'
                          and st.name = 'railway' and st.state = 'done'))))
          and not exists (select 1 from instance_steps st
                where st.instance_id = ${instanceInfra.instanceId} and st.state = 'failed'
                  and st.finished_at > now() - ${backoffSql(deps.config.lifecycle.reaperIntervalMs)})
          ${leaseFree}`)
        .orderBy(instanceInfra.updatedAt)
        .limit(500)
      deps.observer?.reaperFound(rows.length)
      for (const row of rows) {
        if (closed) return
        if (running.has(row.instanceId)) continue
        if (row.lifecycle === 'creating') void engine.ensureCreation(row.instanceId)
        else void engine.ensureDestroy(row.instanceId)
      }
      recovered = true
    } catch (err) {
      deps.log.warn({ err }, 'reaper could not read unfinished work; it tries again next time')
    }
  }

  return engine
}

/**
 * A failed step waits `interval × 2^(attempts/4)` (capped at an hour) before the reaper retries it: quick
 * at first, then rarer, so a provider that is down for hours is not hammered.
 */
function backoffSql(intervalMs: number) {
  return sql`least(interval '1 hour', (${intervalMs} * power(2, least(st.attempts, 40) / 4.0)) * interval '1 millisecond')`
}
