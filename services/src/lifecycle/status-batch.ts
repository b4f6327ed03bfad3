import type { Database } from '../db/open-database.js'
import type { DeployStatus, InstanceStatus, StatusBatch } from '../generated/schemas.js'
import type { RailwayClient } from '../infra/railway/index.js'
import type { SecretBox } from '../secrets/secret-box.js'
import type { HealthChecker, HealthResult } from './health-checker.js'
import { runtimeCredentialOf } from './instance-env.js'
import { errorInfo } from './instance-view.js'
import { RecentHealth, type RecentHealthOptions } from './recent-health.js'
import { DeployStatusCache, type DeployStatusCacheOptions } from './status-cache.js'
import { readStatusRows, type StatusRow, saveDeployStatuses } from './status-store.js'
import { asDeployStatus, summaryStatus } from './status-summary.js'

export interface StatusService {
  /** Status of each known instance, in the order asked; unknown ids in `notFound`. Never fails on Railway. */
  batch(instanceIds: readonly string[]): Promise<StatusBatch>
}

export interface StatusServiceOptions {
  db: Database
  /** Without it (an app built for tests of other parts) deploy statuses are the last ones recorded. */
  railway?: RailwayClient
  health: HealthChecker
  /** Opens each instance's runtime credential for its health ping. */
  secretBox: SecretBox
  logger: { warn(obj: object, msg: string): void }
  cache?: DeployStatusCacheOptions
  /** How long a health result is reused, how long a batch waits for a ping it has a result for. */
  recentHealth?: RecentHealthOptions
}

/** What one Railway read said about an instance, or the row's last known status when it could not be read. */
interface Observed {
  deployStatus: DeployStatus
  exists: boolean
}

/**
 * `POST /status/batch` for the pool's tick loop. Per batch: one query for the rows; Railway deploy statuses
 * for ready instances in ⌈n/50⌉ aliased requests, except those cached (status-cache.ts) or already being
 * read for another batch; health pings for ready instances with a URL, all at once (the checker bounds
 * them), a result of the last second reused and a hung ping answered with the instance's last result
 * (recent-health.ts). A read shared between batches covers the Railway request, the saving and the
 * caching, so a second batch never finds the gap between "read" and "cached" and asks again.
 */
export function createStatusService(options: StatusServiceOptions): StatusService {
  const { db, railway, health, secretBox, logger } = options
  const cache = new DeployStatusCache(options.cache)
  const recentHealth = new RecentHealth(health, options.recentHealth)
  // Keyed by instance and row version: a batch that saw a newer row (after a redeploy) reads again.
  const reading = new Map<string, Promise<Observed>>()

  const lastKnown = (row: StatusRow): Observed => ({
    deployStatus: asDeployStatus(row.deployStatus),
    exists: true,
  })

  /** Asks Railway about `rows`, saves what changed, caches what may be cached. Never rejects. */
  async function read(rows: StatusRow[]): Promise<Observed[]> {
    if (!railway) return rows.map(lastKnown)
    let observed: Observed[]
    try {
      const statuses = await railway.statusOf(
        rows.map((row) => ({
          serviceId: row.railwayServiceId as string,
          environmentId: row.railwayEnvironmentId as string,
        })),
      )
      observed = statuses.map((s) => ({ deployStatus: s.deployStatus, exists: s.exists }))
    } catch (error) {
      // The tick loop must get its answer: the recorded statuses stand in, health is still fresh.
      logger.warn(
        { err: error, instances: rows.length },
        'Railway status read failed; answering with the last recorded deploy statuses',
      )
      return rows.map(lastKnown)
    }
    const versions = await remember(rows, observed)
    rows.forEach((row, i) => {
      const version = versions.get(row.instanceId)
      if (version !== undefined) cache.set(row.instanceId, version, observed[i] ?? lastKnown(row))
    })
    return observed
  }

  /**
   * Saves the statuses that changed; returns, per instance, the row version its observation now belongs
   * to (none: the row changed meanwhile, or could not be saved).
   */
  async function remember(rows: StatusRow[], observed: Observed[]): Promise<Map<string, number>> {
    const versions = new Map<string, number>()
    const changes: { row: StatusRow; deployStatus: DeployStatus }[] = []
    rows.forEach((row, i) => {
      const { deployStatus } = observed[i] ?? lastKnown(row)
      if (deployStatus === asDeployStatus(row.deployStatus))
        versions.set(row.instanceId, row.updatedAt.getTime())
      else changes.push({ row, deployStatus })
    })
    try {
      for (const [id, version] of await saveDeployStatuses(db, changes)) versions.set(id, version)
    } catch (error) {
      logger.warn({ err: error, instances: changes.length }, 'could not record the observed deploy statuses')
    }
    return versions
  }

  /** Unauthenticated when it cannot be opened: the ping then fails (401) and says so as `unreachable`. */
  function credentialOf(row: StatusRow): string | undefined {
    try {
      return runtimeCredentialOf(secretBox, row)
    } catch (error) {
      logger.warn({ err: error, instanceId: row.instanceId }, 'cannot open the runtime credential')
      return undefined
    }
  }

  /** Deploy statuses of ready instances with a Railway service: cached, joined, or read now. */
  function deployStatuses(rows: StatusRow[]): Promise<Observed>[] {
    const results: Promise<Observed>[] = []
    const toRead: { row: StatusRow; key: string; index: number }[] = []
    rows.forEach((row, index) => {
      const version = row.updatedAt.getTime()
      const cached = cache.get(row.instanceId, version)
      if (cached) {
        results[index] = Promise.resolve({ ...cached, exists: true })
        return
      }
      const key = `${row.instanceId}@${version}`
      const shared = reading.get(key)
      if (shared) results[index] = shared
      else toRead.push({ row, key, index })
    })
    if (toRead.length > 0) {
      const all = read(toRead.map((r) => r.row))
      for (const [i, { row, key, index }] of toRead.entries()) {
        const one = all.then((observed) => observed[i] ?? lastKnown(row))
        reading.set(key, one)
        void one.finally(() => reading.delete(key))
        results[index] = one
      }
    }
    return results
  }

  return {
    async batch(instanceIds) {
      const rows = await readStatusRows(db, instanceIds)
      const byId = new Map(rows.map((row) => [row.instanceId, row]))
      const found = instanceIds.flatMap((id) => byId.get(id) ?? [])
      const notFound = instanceIds.filter((id) => !byId.has(id))

      const ready = found.filter((row) => row.lifecycle === 'ready')
      const onRailway = ready.filter((row) => row.railwayServiceId && row.railwayEnvironmentId)
      const pinged = ready.filter((row) => row.url)
      const [deploys, healths] = await Promise.all([
        Promise.all(deployStatuses(onRailway)),
        recentHealth.checkAll(
          pinged.map((row) => ({
            key: row.instanceId,
            url: row.url as string,
            credential: () => credentialOf(row),
          })),
        ),
      ])
      const deployOf = new Map(onRailway.map((row, i) => [row.instanceId, deploys[i]]))
      const healthOf = new Map(pinged.map((row, i) => [row.instanceId, healths[i]]))

      return {
        instances: found.map((row) =>
          statusOf(row, deployOf.get(row.instanceId) ?? lastKnown(row), healthOf.get(row.instanceId)),
        ),
        notFound,
      }
    },
  }
}

function statusOf(row: StatusRow, observed: Observed, health: HealthResult | undefined): InstanceStatus {
  return {
    instanceId: row.instanceId,
    status: summaryStatus(row.lifecycle, observed.deployStatus, health?.ready),
    lifecycle: row.lifecycle,
    deployStatus: observed.deployStatus,
    health: health
      ? { ready: health.ready, checkedAt: health.checkedAt.toISOString(), latencyMs: health.latencyMs }
      : null,
    url: row.url,
    image: row.image,
    error: errorInfo(row.errorCode, row.errorMessage),
  }
}
