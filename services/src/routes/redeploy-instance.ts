import { redeployInstance } from '../lifecycle/redeploy-instance.js'
import { type RouteDeps, requireRailway } from './deps.js'
import type { Handlers } from './handler-types.js'

/** `POST /redeploy/{instanceId}`: 202 once Railway has queued the new deployment. */
export const redeployInstanceHandlers = (deps: RouteDeps): Pick<Handlers, 'redeployInstance'> => ({
  redeployInstance: async (request, reply) => {
    const result = await redeployInstance(
      { db: deps.database.db, railway: requireRailway(deps) },
      request.params.instanceId,
      request.body.image,
    )
    return reply.code(202).send(result)
  },
})
