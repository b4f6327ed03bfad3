import type { FleetService } from '../harness/fleet.js'
import { NaiveStatus } from './documents.js'
import type { NaiveRailway } from './naive-client.js'

export interface NaiveTarget {
  service: FleetService
  url: string
}

/**
 * The earlier status check: for every instance at once, one Railway read and one health ping (same
 * timeout as services). Returns how many instances could not be read from Railway.
 */
export async function naiveStatus(
  railway: NaiveRailway,
  targets: readonly NaiveTarget[],
  healthTimeoutMs: number,
): Promise<{ failures: number }> {
  const results = await Promise.all(
    targets.map(async ({ service, url }) => {
      const ping = fetch(`${url}/pool/health`, {
        headers: { authorization: `Bearer ${service.credential}` },
        signal: AbortSignal.timeout(healthTimeoutMs),
      }).then(
        (response) => response.body?.cancel(),
        () => undefined,
      )
      const read = railway.send(NaiveStatus, {
        serviceId: service.serviceId,
        environmentId: service.environmentId,
      })
      const [readResult] = await Promise.allSettled([read, ping])
      return readResult.status === 'fulfilled'
    }),
  )
  return { failures: results.filter((ok) => !ok).length }
}
