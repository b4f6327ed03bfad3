import { ProblemError } from '../http/problem.js'
import { listInstances, loadInstance } from '../lifecycle/instance-view.js'
import type { RouteDeps } from './deps.js'
import type { Handlers } from './handler-types.js'

/** `GET /instances` (pool only, enforced by auth) and `GET /instances/{instanceId}` (pool or its own token). */
export const instanceViewHandlers = (deps: RouteDeps): Pick<Handlers, 'listInstances' | 'getInstance'> => ({
  listInstances: async (request) => listInstances(deps.database.db, request.query),
  getInstance: async (request) => {
    const { instanceId } = request.params
    const instance = await loadInstance(deps.database.db, instanceId)
    if (!instance) throw new ProblemError(404, 'NOT_FOUND', `instance ${instanceId} does not exist`)
    return instance
  },
})
