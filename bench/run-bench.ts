import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { buildServer } from './harness/build-server.js'
import { withTeardown } from './harness/teardown.js'
import type { BenchOptions } from './options.js'
import type { Profile } from './report/cpu-profile.js'
import { markdownReport } from './report/markdown.js'
import type { Row } from './report/row.js'
import { startFleet } from './scenarios/fleet.js'
import { requestsPerCreation } from './scenarios/p1-creation-requests.js'
import { statusRequests } from './scenarios/p2-status-requests.js'
import { creationThroughput } from './scenarios/p3-creation-throughput.js'
import { statusLatency } from './scenarios/p4-status-latency.js'
import { serverOverhead } from './scenarios/p5-server-overhead.js'
import { memory } from './scenarios/p6-memory.js'

const ANALYSIS = fileURLToPath(new URL('./analysis.md', import.meta.url))

export interface BenchResult {
  rows: Row[]
  markdown: string
  wallMs: number
}

/**
 * Every scenario in turn, each on fresh emulators (Railway's per-second and hourly windows start empty);
 * P2, P4, P5 and P6 share one fleet, each on a server process of its own where a cold cache matters.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now()
  const startedAt = new Date()
  const loadAtStart = loadavg()
  const { log } = options
  const rows: Row[] = []
  const step = async (name: string, fn: () => Promise<Row[]>) => {
    const t0 = performance.now()
    log(`bench: ${name}…`)
    rows.push(...(await fn()))
    log(`bench: ${name} done in ${Math.round((performance.now() - t0) / 1000)} s`)
  }

  if (options.server === 'dist') {
    await step('building the server (services/dist)', async () => {
      await buildServer()
      return []
    })
  }
  await step('P1 requests per creation', () => requestsPerCreation(options))
  await step('P3 creation throughput (ours, then naive)', () => creationThroughput(options))
  let profiles: { registry: Profile; status: Profile } | undefined
  await withTeardown(async (teardown) => {
    let fleet: Awaited<ReturnType<typeof startFleet>> | undefined
    await step(`fleet of ${options.sizes.fleet}`, async () => {
      fleet = await startFleet(teardown, options)
      return []
    })
    if (!fleet) throw new Error('no fleet')
    const { env } = fleet
    const server = await env.startServer()
    const ready = fleet
    await step('P2 status requests (cold, warm, naive)', () => statusRequests(ready, server, options))
    await step('P4 status latency and sweeps', () =>
      statusLatency(ready, server, () => env.startServer(), options),
    )

    await step('P5 server overhead (autocannon)', async () => {
      const result = await serverOverhead(ready, teardown, options)
      profiles = result.profiles
      return result.rows
    })

    await step('P6 memory', () => memory(ready, teardown, () => env.startServer(), options))
  })

  rows.sort((a, b) => a.id.localeCompare(b.id))
  const wallMs = performance.now() - started
  const analysis = existsSync(ANALYSIS) ? await readFile(ANALYSIS, 'utf8') : undefined
  const markdown = markdownReport({
    rows,
    options,
    wallMs,
    startedAt,
    loadAtStart,
    ...(profiles ? { profiles } : {}),
    ...(analysis ? { analysis } : {}),
  })
  return { rows, markdown, wallMs }
}
