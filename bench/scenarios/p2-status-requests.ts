import { TOKENS } from '../harness/environment.js'
import { type Timeline, watchRequests } from '../harness/request-timeline.js'
import type { BenchServer } from '../harness/server-process.js'
import { round } from '../harness/stats.js'
import { timedStatus } from '../harness/status-calls.js'
import { createNaiveRailway } from '../naive/naive-client.js'
import { naiveStatus } from '../naive/naive-status.js'
import type { BenchOptions } from '../options.js'
import { type Row, ratio } from '../report/row.js'
import type { Fleet } from './fleet.js'

const seconds = (ms: number) => `${round(ms / 1000, 2)} s`

/**
 * P2: Railway requests for a status batch of the whole fleet on a server that just started (cold), then
 * again at once (warm: every deploy state cached), then the naive check of the same fleet.
 */
export async function statusRequests(
  fleet: Fleet,
  server: BenchServer,
  options: BenchOptions,
): Promise<Row[]> {
  const { env, ids } = fleet
  const client = env.client(server)
  const run = async (fn: () => Promise<unknown>) => {
    const watch = watchRequests(env.emulators.railway)
    const started = performance.now()
    const result = await fn()
    return { ms: performance.now() - started, timeline: watch.stop(), result }
  }
  const cold = await run(() => timedStatus(client, ids))
  const warm = await run(() => timedStatus(client, ids))

  const naiveRailway = createNaiveRailway(env.emulators.railway.url, TOKENS.naive)
  const targets = fleet.services.map((service, i) => ({ service, url: fleet.urls[i] as string }))
  const naive = await run(() => naiveStatus(naiveRailway, targets, options.healthTimeoutMs))
  await naiveRailway.close()
  const naiveFailures = (naive.result as { failures: number }).failures

  const coldBound = Math.ceil(ids.length / 50)
  const req = (t: Timeline) => t.requests
  return [
    {
      id: 'P2',
      metric: `Railway requests, status of ${ids.length} (cold cache)`,
      ours: String(req(cold.timeline)),
      naive: String(req(naive.timeline)),
      ratio: ratio(req(cold.timeline), req(naive.timeline)),
      target: `≤ ${coldBound}`,
      met: req(cold.timeline) <= coldBound,
      ...(req(cold.timeline) <= coldBound ? {} : { gap: 'status reads were not batched 50 per request' }),
    },
    {
      id: 'P2',
      metric: `Railway requests, status of ${ids.length} (warm: deploy states cached)`,
      ours: String(req(warm.timeline)),
      naive: String(req(naive.timeline)),
      target: '0',
      met: req(warm.timeline) === 0,
      ...(req(warm.timeline) === 0 ? {} : { gap: 'cached deploy states were read again' }),
    },
    {
      id: 'P2',
      metric: 'wall time of that status check (cold)',
      ours: seconds(cold.ms),
      naive: seconds(naive.ms),
      ratio: ratio(cold.ms, naive.ms),
    },
    {
      id: 'P2',
      metric: '429s / instances without a Railway answer (cold)',
      ours: `${cold.timeline.rateLimited} / 0`,
      naive: `${naive.timeline.rateLimited} / ${naiveFailures}`,
    },
  ]
}
