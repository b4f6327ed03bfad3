import { createInstance } from '../harness/create.js'
import { startEnvironment, TOKENS } from '../harness/environment.js'
import { formatMeasure, measure } from '../harness/stats.js'
import { withTeardown } from '../harness/teardown.js'
import { createNaiveRailway } from '../naive/naive-client.js'
import { naiveCreation } from '../naive/naive-creation.js'
import type { BenchOptions } from '../options.js'
import { type Row, ratio } from '../report/row.js'

/**
 * P1: Railway requests per creation, counted by the emulator: creations one after another through the
 * server, each a sample; then the earlier 8-request sequence once on its own token.
 */
export async function requestsPerCreation(options: BenchOptions): Promise<Row[]> {
  return withTeardown(async (teardown) => {
    const env = await startEnvironment(teardown, options)
    const server = await env.startServer()
    const client = env.client(server)
    const samples: number[] = []
    for (let i = 0; i < options.sizes.sequentialCreations; i++) {
      const before = env.railwayRequests()
      await createInstance(client, `p1-agent-${i}`)
      samples.push(env.railwayRequests() - before)
    }
    const naive = createNaiveRailway(env.emulators.railway.url, TOKENS.naive)
    teardown.teardown(() => naive.close())
    const before = env.railwayRequests()
    await naiveCreation(env, naive, 'p1-naive')
    const naiveRequests = env.railwayRequests() - before

    const ours = measure(samples, 'requests')
    const met = ours.max <= 3
    return [
      {
        id: 'P1',
        metric: 'Railway requests per creation',
        ours: formatMeasure(ours),
        naive: `${naiveRequests} requests`,
        ratio: ratio(ours.median, naiveRequests),
        target: '≤ 3',
        met,
        ...(met
          ? {}
          : { gap: 'a creation asked Railway more than 3 times: the deploy-status check ran during it' }),
      },
    ]
  })
}
