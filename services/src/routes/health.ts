import type { DatabaseHandle } from '../db/open-database.js'
import { notReady } from '../http/problem.js'
import { cachedCheck } from './cached-check.js'
import type { Handlers } from './handler-types.js'

const READINESS_RETRY_SECONDS = 5
const RAILWAY_CHECK_TTL = { okMs: 60_000, failedMs: 10_000 }

export interface HealthDeps {
  database: DatabaseHandle
  /** The workspace query that proves the Railway token works; absent when Railway is not wired in. */
  railway?: { checkWorkspace(): Promise<unknown> }
  /** The lifecycle engine, whose first reaper pass after start picks up unfinished work. */
  lifecycle?: { recovery(): 'pending' | 'done' }
}

export function healthHandlers(deps: HealthDeps): Pick<Handlers, 'getHealth' | 'getReadiness'> {
  const railway = deps.railway
  const railwayReady = railway ? cachedCheck(() => railway.checkWorkspace(), RAILWAY_CHECK_TTL) : undefined
  return {
    getHealth: async () => ({ status: 'ok' as const }),
    getReadiness: async (request) => {
      const [database, workspace] = await Promise.allSettled([deps.database.ping(), railwayReady?.()])
      const failed = [
        database.status === 'rejected' && { name: 'the database is unreachable', reason: database.reason },
        workspace.status === 'rejected' && {
          name: 'Railway does not answer the workspace check',
          reason: workspace.reason,
        },
      ].filter((entry) => entry !== false)
      if (failed.length > 0) {
        for (const { name, reason } of failed) request.log.warn({ err: reason }, `readiness: ${name}`)
        throw notReady(failed.map(({ name }) => name).join('; '), READINESS_RETRY_SECONDS)
      }
      return {
        status: 'ok' as const,
        checks: {
          database: 'ok' as const,
          ...(railwayReady ? { railway: 'ok' as const } : {}),
          ...(deps.lifecycle ? { recovery: deps.lifecycle.recovery() } : {}),
        },
      }
    },
  }
}
