import type { RailwayClient, ServiceRef, ServiceStatus } from '../infra/railway/index.js'

/** How long a status read waits for others to join its request. */
const GATHER_MS = 20

/**
 * Coalesces the deploy-status reads of creations waiting for their deployments: reads asked for within
 * a few milliseconds of each other go out as one batched `statusOf` (50 services per request). The
 * creations check at the same wall-clock ticks (see `nextTick`), so eight creations cost one request per
 * tick, not eight.
 */
export function createStatusBatcher(railway: Pick<RailwayClient, 'statusOf'>) {
  let pending: Array<{
    ref: ServiceRef
    resolve: (s: ServiceStatus | undefined) => void
    reject: (e: unknown) => void
  }> = []
  let scheduled = false

  const flush = async () => {
    const batch = pending
    pending = []
    scheduled = false
    try {
      const statuses = await railway.statusOf(batch.map((entry) => entry.ref))
      for (const [i, entry] of batch.entries()) entry.resolve(statuses[i])
    } catch (error) {
      for (const entry of batch) entry.reject(error)
    }
  }

  return {
    statusOf(ref: ServiceRef): Promise<ServiceStatus | undefined> {
      return new Promise((resolve, reject) => {
        pending.push({ ref, resolve, reject })
        if (scheduled) return
        scheduled = true
        setTimeout(() => void flush(), GATHER_MS)
      })
    },
  }
}

export type StatusBatcher = ReturnType<typeof createStatusBatcher>

/** The next multiple of `intervalMs` after `now`: every waiting creation checks at the same moments. */
export const nextTick = (now: number, intervalMs: number) => (Math.floor(now / intervalMs) + 1) * intervalMs
