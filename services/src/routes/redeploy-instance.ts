import type { RedeployResult } from '../generated/schemas.js'
import { redeployInstance } from '../lifecycle/redeploy-instance.js'
import { singleFlight } from '../lifecycle/single-flight.js'
import { type RouteDeps, requireRailway } from './deps.js'
import type { Handlers } from './handler-types.js'

/**
 * `POST /redeploy/{instanceId}`: 202 once Railway has queued the new deployment. Identical redeploys of
 * one instance arriving together share one deployment.
 */
export const redeployInstanceHandlers = (deps: RouteDeps): Pick<Handlers, 'redeployInstance'> => {
  const redeploying = singleFlight<RedeployResult>()
  return {
    redeployInstance: async (request, reply) => {
      const { instanceId } = request.params
      const { image } = request.body
      const result = await redeploying(JSON.stringify([instanceId, image ?? null]), () =>
        redeployInstance({ db: deps.database.db, railway: requireRailway(deps) }, instanceId, image),
      )
      return reply.code(202).send(result)
    },
  }
}
