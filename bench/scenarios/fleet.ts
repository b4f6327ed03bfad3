import { hungRuntimes } from '../harness/dead-runtimes.js'
import { type BenchEnvironment, startEnvironment } from '../harness/environment.js'
import {
  deployFleet,
  type FleetService,
  insertRows,
  instanceIdOf,
  readyRow,
  untilFleetReady,
} from '../harness/fleet.js'
import type { Teardown } from '../harness/teardown.js'
import type { BenchOptions } from '../options.js'

/** A ready fleet in the database and in the emulators; one in ten runtimes is dead. */
export interface Fleet {
  env: BenchEnvironment
  ids: string[]
  /** Instances whose runtime answers: the ids of a status batch that only the deploy-state cache serves. */
  liveIds: string[]
  services: FleetService[]
  /** The URL each instance's row points at (hung ones at a server that never answers). */
  urls: string[]
  dead: number
}

/**
 * `sizes.fleet` services deployed on the setup token (so services' own budget starts untouched), with a
 * `ready` row each. Every tenth runtime is dead: half crashed (connections refused, deployment CRASHED),
 * half hung (connections accepted, never answered) — the two ways a health ping can fail.
 */
export async function startFleet(teardown: Teardown, options: BenchOptions): Promise<Fleet> {
  const env = await startEnvironment(teardown, options)
  const count = options.sizes.fleet
  const services = await deployFleet(env, count)
  await untilFleetReady(env, services)
  const hung = await hungRuntimes(teardown, Math.ceil(count / 20))
  const rows = []
  const urls: string[] = []
  const liveIds: string[] = []
  let dead = 0
  for (const [i, service] of services.entries()) {
    const instanceId = instanceIdOf(i)
    let row = readyRow(env, instanceId, service)
    if (i % 20 === 9) {
      env.emulators.railway.killRuntime(service.serviceId)
      dead += 1
    } else if (i % 20 === 19) {
      row = readyRow(env, instanceId, service, { url: hung[Math.floor(i / 20)] as string })
      dead += 1
    } else liveIds.push(instanceId)
    urls.push(row.url as string)
    rows.push(row)
  }
  await insertRows(env, rows)
  return { env, ids: rows.map((r) => r.instanceId), liveIds, services, urls, dead }
}
