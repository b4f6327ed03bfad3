import type { DatabaseHandle } from '../db/open-database.js'
import { notReady } from '../http/problem.js'
import type { Handlers } from './handler-types.js'

const READINESS_RETRY_SECONDS = 5

export function healthHandlers(deps: {
  database: DatabaseHandle
}): Pick<Handlers, 'getHealth' | 'getReadiness'> {
  return {
    getHealth: async () => ({ status: 'ok' as const }),
    getReadiness: async (request) => {
      try {
        await deps.database.ping()
      } catch (error) {
        request.log.warn({ err: error }, 'readiness: database unreachable')
        throw notReady('the database is unreachable', READINESS_RETRY_SECONDS)
      }
      return { status: 'ok' as const, checks: { database: 'ok' as const } }
    },
  }
}
