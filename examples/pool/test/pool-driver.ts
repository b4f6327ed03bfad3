/**
 * The reference pool in a process of its own, driven by validation.test.ts over stdin/stdout: one JSON
 * command a line in (`{"id":1,"op":"fill","args":{}}`), one JSON answer a line out. The test copies this
 * file and ../src next to an offline install of the packed client, so every call here goes through the
 * tarball the pool team will install, while the test process owns the server and the emulators.
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type components,
  createServicesClient,
  ServicesProblemError,
  statusOf,
} from '@agent-pool/services-client'
import { createPool, type PoolInstance, type Template, type TickReport } from '../src/pool.js'
import { provisionForSelf, type SelfProvisionedTool } from '../src/runtime-self-provision.js'

const baseUrl = process.env.SERVICES_URL as string
const client = createServicesClient({ baseUrl, apiKey: process.env.SERVICES_API_KEY as string })
const minIdle = Number(process.env.POOL_MIN_IDLE ?? 3)
const TICK_MS = Number(process.env.POOL_TICK_MS ?? 100)
const pool = createPool({ client, minIdle, unreachableTicks: 2, env: { SERVICES_URL: baseUrl } })

/** Every summary status each instance showed, in order (repeats folded), over all ticks so far. */
const history: Record<string, string[]> = {}
const everCreated: string[] = []

async function tick(): Promise<TickReport> {
  const report = await pool.tick()
  everCreated.push(...report.created)
  for (const instance of pool.instances()) {
    const seen = history[instance.instanceId] ?? []
    if (instance.status && seen.at(-1) !== instance.status) seen.push(instance.status)
    history[instance.instanceId] = seen
  }
  if (report.errors.length > 0) throw new Error(`tick failed: ${report.errors.join('; ')}`)
  return report
}

const readyCount = () => pool.instances().filter((i) => i.state === 'ready').length

/** Ticks until `done` holds, at most `limit` ticks. */
async function tickUntil(done: (reports: TickReport[]) => boolean, limit = 300): Promise<TickReport[]> {
  const reports: TickReport[] = []
  for (let n = 0; n < limit; n++) {
    reports.push(await tick())
    if (done(reports)) return reports
    await sleep(TICK_MS)
  }
  throw new Error(`not done after ${limit} ticks: ${JSON.stringify(pool.instances())}`)
}

/** A problem as plain data, so the test can assert on the status and code the client surfaced. */
async function problemOf(work: () => Promise<unknown>) {
  try {
    return { ok: true, value: await work() }
  } catch (error) {
    if (!(error instanceof ServicesProblemError)) throw error
    return { ok: false, status: error.problem.status, code: error.code }
  }
}

const operations: Record<string, (args: never) => Promise<unknown>> = {
  /** Ticks until `minIdle` instances are ready; answers the ticks it took and what each instance showed. */
  async fill() {
    const reports = await tickUntil(() => readyCount() >= minIdle)
    return { ticks: reports.length, history, instances: pool.instances() }
  },
  /** Ticks until `instanceId` was judged stuck and destroyed, and the pool is back to `minIdle` ready. */
  async untilReplaced({ instanceId }: { instanceId: string }) {
    const reports = await tickUntil(
      (all) =>
        all.some((r) => r.destroyed.some((d) => d.instanceId === instanceId)) && readyCount() >= minIdle,
    )
    return {
      destroyed: reports.flatMap((r) => r.destroyed),
      created: reports.flatMap((r) => r.created),
      history,
      instances: pool.instances(),
    }
  },
  instances: async (): Promise<PoolInstance[]> => pool.instances(),
  everCreated: async () => everCreated,
  /** Services' whole view of each instance (Railway ids, tools, steps). */
  async views({ instanceIds }: { instanceIds: string[] }) {
    return Promise.all(
      instanceIds.map(async (instanceId) => {
        const { data, error } = await client.GET('/instances/{instanceId}', {
          params: { path: { instanceId } },
        })
        if (error) throw new ServicesProblemError(error)
        return data
      }),
    )
  },
  status: ({ instanceIds }: { instanceIds: string[] }) => statusOf(client, instanceIds),
  claim: (template: Template) => pool.claim(template),
  /** What the agent itself runs, given the environment its runtime has. */
  selfProvision: ({ toolId, env }: { toolId: SelfProvisionedTool; env: Record<string, string> }) =>
    problemOf(() => provisionForSelf(toolId, env)),
  /** A legacy instance of the old shared project, taken over by services; the pool only calls it. */
  async adopt(body: components['schemas']['AdoptInstanceRequest']) {
    const { data, error, response } = await client.POST('/adopt-instance', { body })
    if (error) throw new ServicesProblemError(error)
    return { status: response.status, instance: data }
  },
  async destroy({ instanceId }: { instanceId: string }) {
    const { data, error, response } = await client.DELETE('/destroy/{instanceId}', {
      params: { path: { instanceId } },
    })
    if (error) throw new ServicesProblemError(error)
    return { status: response.status, result: data }
  },
  /** The pool winds down: every instance it holds, claimed or idle, is destroyed. */
  async releaseAll() {
    const ids = pool.instances().map((i) => i.instanceId)
    await Promise.all(ids.map((id) => pool.release(id)))
    return ids
  },
}

for await (const line of createInterface({ input: process.stdin })) {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: never }
  const operation = operations[op]
  const answer = operation
    ? await operation(args).then(
        (result) => ({ id, ok: true, result }),
        (error: unknown) => ({ id, ok: false, error: error instanceof Error ? error.stack : String(error) }),
      )
    : { id, ok: false, error: `unknown op ${op}` }
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}
