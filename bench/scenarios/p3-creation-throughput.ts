import { createInstance } from '../harness/create.js'
import { type BenchEnvironment, startEnvironment, TOKENS } from '../harness/environment.js'
import { type Timeline, watchRequests } from '../harness/request-timeline.js'
import { slotTimes } from '../harness/slot-times.js'
import { round } from '../harness/stats.js'
import { withTeardown } from '../harness/teardown.js'
import { createNaiveRailway } from '../naive/naive-client.js'
import { naiveCreation } from '../naive/naive-creation.js'
import type { BenchOptions } from '../options.js'
import { type Row, ratio } from '../report/row.js'

const RAILWAY_PER_SECOND = 50
const CREATION_SLOTS = 8
const REQUESTS_PER_CREATION = 3

interface BurstResult {
  wallMs: number
  timeline: Timeline
  failures: number
  peakConcurrent: number
}

/** Fires every creation at once and waits for all; the emulator counts what reached Railway. */
async function burst(
  env: BenchEnvironment,
  count: number,
  create: (i: number) => Promise<void>,
): Promise<BurstResult> {
  const watch = watchRequests(env.emulators.railway)
  const started = performance.now()
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => create(i)))
  const wallMs = performance.now() - started
  return {
    wallMs,
    timeline: watch.stop(),
    failures: results.filter((r) => r.status === 'rejected').length,
    peakConcurrent: env.emulators.railway.stats().peakConcurrentCreations,
  }
}

const seconds = (ms: number) => `${round(ms / 1000, 1)} s`

/**
 * P3: `burstCreations` creations requested at once through the server, then the same number of naive
 * 8-request creations fired without a governor, each on fresh emulators.
 */
export async function creationThroughput(options: BenchOptions): Promise<Row[]> {
  const count = options.sizes.burstCreations
  const ours = await withTeardown(async (teardown) => {
    const env = await startEnvironment(teardown, options)
    const server = await env.startServer()
    const client = env.client(server)
    const result = await burst(env, count, (i) => createInstance(client, `p3-agent-${i}`))
    return { ...result, slots: await slotTimes(env, server) }
  })
  const naive = await withTeardown(async (teardown) => {
    const env = await startEnvironment(teardown, options)
    const railway = createNaiveRailway(env.emulators.railway.url, TOKENS.naive)
    teardown.teardown(() => railway.close())
    return burst(env, count, (i) => naiveCreation(env, railway, `p3-naive-${i}`))
  })

  // The lower bound of the Railway phase: the budget (3 requests each at 50/s) or the slots (8 creations
  // at a time, each 3 requests in a row at the emulated latency), whichever is slower.
  const budgetMs = ((count * REQUESTS_PER_CREATION) / RAILWAY_PER_SECOND) * 1000
  const slotsMs = Math.ceil(count / CREATION_SLOTS) * REQUESTS_PER_CREATION * options.latencyMs
  const boundMs = Math.max(budgetMs, slotsMs)
  const efficiency = boundMs / Math.max(1, ours.timeline.spanMs)
  const achieved = ours.timeline.requests / Math.max(0.001, ours.timeline.spanMs / 1000)
  const naiveAchieved = naive.timeline.requests / Math.max(0.001, naive.timeline.spanMs / 1000)
  const efficiencyMet = efficiency >= 0.9
  return [
    {
      id: 'P3',
      metric: `${count} creations at once: Railway phase (first→last request) vs lower bound ${seconds(boundMs)}`,
      ours: `${seconds(ours.timeline.spanMs)} = ${Math.round(efficiency * 100)}% of ceiling`,
      naive: seconds(naive.timeline.spanMs),
      ratio: ratio(ours.timeline.spanMs, naive.timeline.spanMs),
      target: '≥ 90% of ceiling',
      met: efficiencyMet,
      ...(efficiencyMet
        ? {}
        : {
            gap:
              `a creation holds its slot for ${Math.round(ours.slots.inSlotMs)} ms (p50): its 3 Railway requests in a row ` +
              `at ${options.latencyMs} ms each, the governor's pacing wait, and the step log's writes between ` +
              `them; ${CREATION_SLOTS} slots then allow only ${round((CREATION_SLOTS / ours.slots.inSlotMs) * 1000 * REQUESTS_PER_CREATION, 1)} ` +
              'req/s, below the 45 req/s services paces at (itself 90% of the 50 req/s ceiling). At 150 ms per ' +
              'request 8 slots leave almost no headroom (8 × 3 / 0.45 s = 53 req/s before any overhead). ' +
              'Reaching it: 10 slots (RAILWAY_MAX_CONCURRENT_CREATIONS=10, against the "never more than 8" ' +
              'target), or a cheaper step boundary (one statement to close a step and open the next) and a ' +
              'less loaded machine; the budget bound itself is 13.3 s at the 45 req/s pace.',
          }),
    },
    {
      id: 'P3',
      metric: `slot held per creation (project→domain), p50; ${CREATION_SLOTS} slots then allow`,
      ours:
        `${Math.round(ours.slots.inSlotMs)} ms → ${round((CREATION_SLOTS / ours.slots.inSlotMs) * 1000 * REQUESTS_PER_CREATION, 1)} req/s ` +
        `(steps ${Object.values(ours.slots.stepMs).map(Math.round).join(' + ')} ms, pacing wait ${Math.round(ours.slots.queueWaitMs)} ms/request)`,
    },
    {
      id: 'P3',
      metric: 'all ready (end to end, tools and deploy wait included)',
      ours: seconds(ours.wallMs),
      naive: seconds(naive.wallMs),
      ratio: ratio(ours.wallMs, naive.wallMs),
    },
    {
      id: 'P3',
      metric: 'Railway requests sent (429s included)',
      ours: String(ours.timeline.requests),
      naive: String(naive.timeline.requests),
      ratio: ratio(ours.timeline.requests, naive.timeline.requests),
    },
    {
      id: 'P3',
      metric: 'achieved Railway req/s',
      ours: `${round(achieved, 1)}/s`,
      naive: `${round(naiveAchieved, 1)}/s`,
    },
    {
      id: 'P3',
      metric: '429s received',
      ours: String(ours.timeline.rateLimited),
      naive: String(naive.timeline.rateLimited),
      ratio: ratio(ours.timeline.rateLimited, naive.timeline.rateLimited),
      target: '0',
      met: ours.timeline.rateLimited === 0,
      ...(ours.timeline.rateLimited === 0 ? {} : { gap: 'the governor let requests bunch past the limit' }),
    },
    {
      id: 'P3',
      metric: 'failed creations',
      ours: String(ours.failures),
      naive: String(naive.failures),
      ratio: ratio(ours.failures, naive.failures),
    },
    {
      id: 'P3',
      metric: 'peak concurrent creations (emulator)',
      ours: String(ours.peakConcurrent),
      naive: String(naive.peakConcurrent),
      target: '≤ 8',
      met: ours.peakConcurrent <= CREATION_SLOTS,
      ...(ours.peakConcurrent <= CREATION_SLOTS ? {} : { gap: 'the creation slots leaked' }),
    },
  ]
}
