import type { RouteDeps } from './deps.js'
import type { Handlers } from './handler-types.js'

/** `POST /status/batch` (pool only: the auth plugin enforces the spec's security). */
export function statusHandlers(deps: Pick<RouteDeps, 'status'>): Pick<Handlers, 'getStatusBatch'> {
  return {
    getStatusBatch: async (request) => deps.status.batch(request.body.instanceIds),
  }
}
