import { setTimeout as sleep } from 'node:timers/promises'
import type { GraphqlDocument } from '../../services/src/infra/railway/documents.js'
import { RailwayError } from '../../services/src/infra/railway/index.js'
import { createTransport, type RailwayTransport } from '../../services/src/infra/railway/transport.js'

export interface NaiveCounters {
  attempts: number
  rateLimited: number
}

export interface NaiveRailway {
  send<V, R>(document: GraphqlDocument<V, R>, variables: V): Promise<R>
  counters: NaiveCounters
  close(): Promise<void>
}

const ATTEMPTS = 5

/**
 * Railway without a governor, as the earlier implementation called it: every caller sends at once. So that
 * the baseline is not a straw man, each call does what any HTTP client does on its own: a 429 is retried
 * after its Retry-After, up to 5 attempts in all (the governor's own attempt count); then the call fails.
 */
export function createNaiveRailway(apiUrl: string, token: string): NaiveRailway {
  const transport: RailwayTransport = createTransport({ apiUrl, token, connections: 1_024 })
  const counters: NaiveCounters = { attempts: 0, rateLimited: 0 }
  return {
    counters,
    async send(document, variables) {
      for (let attempt = 1; ; attempt++) {
        counters.attempts += 1
        try {
          return (await transport.send(document, variables)).data
        } catch (error) {
          const limited = error instanceof RailwayError && error.code === 'PROVIDER_RATE_LIMITED'
          if (limited) counters.rateLimited += 1
          if (!limited || attempt >= ATTEMPTS) throw error
          await sleep((error as RailwayError).retryAfterMs ?? 1_000)
        }
      }
    },
    close: () => transport.close(),
  }
}
