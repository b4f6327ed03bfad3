import { sql } from 'drizzle-orm'
import type { BenchEnvironment } from './environment.js'
import { POOL_KEY } from './environment.js'
import type { BenchServer } from './server-process.js'

export interface SlotTimes {
  /** Median time from the start of the `project` step to the end of `volume_domain`: a creation slot held. */
  inSlotMs: number
  /** Median duration of each Railway step. */
  stepMs: Record<string, number>
  /** Mean time a creation's Railway request waited in the governor's queue (pacing), from /metrics. */
  queueWaitMs: number
}

/**
 * Where a creation's time inside its slot went, from the durable step log (each step's start and end)
 * and the server's own queue-wait histogram: what the P3 gap is made of.
 */
export async function slotTimes(env: BenchEnvironment, server: BenchServer): Promise<SlotTimes> {
  const result: unknown = await env.database.db.execute(sql`
    select p.name,
      percentile_cont(0.5) within group (order by extract(epoch from p.finished_at - p.started_at)) * 1000 as ms
    from instance_steps p
    where p.operation = 'create' and p.name in ('project', 'service', 'volume_domain')
    group by p.name
    union all
    select 'slot',
      percentile_cont(0.5) within group (order by extract(epoch from v.finished_at - p.started_at)) * 1000
    from instance_steps p
    join instance_steps v on v.instance_id = p.instance_id and v.operation = 'create' and v.name = 'volume_domain'
    where p.operation = 'create' and p.name = 'project'`)
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    name: string
    ms: string | number
  }[]
  const stepMs = Object.fromEntries(rows.map((r) => [r.name, Number(r.ms)]))
  const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${POOL_KEY}` } })
  const text = await metrics.text()
  const read = (suffix: string) =>
    Number(
      new RegExp(`services_railway_queue_wait_seconds_${suffix}\\{priority="create"\\} ([0-9.e+-]+)`).exec(
        text,
      )?.[1] ?? Number.NaN,
    )
  const { slot, ...steps } = stepMs
  return { inSlotMs: slot ?? Number.NaN, stepMs: steps, queueWaitMs: (read('sum') / read('count')) * 1000 }
}
