import { rotateInstanceToken } from '../lifecycle/rotate-token.js'
import { type RouteDeps, requireRailway } from './deps.js'
import type { Handlers } from './handler-types.js'

/** `POST /instances/{instanceId}/rotate-token`: a new instance token, in Railway and pushed live. */
export const rotateTokenHandlers = (deps: RouteDeps): Pick<Handlers, 'rotateInstanceToken'> => ({
  rotateInstanceToken: async (request, reply) => {
    const result = await rotateInstanceToken(
      {
        db: deps.database.db,
        secretBox: deps.secretBox,
        runtime: deps.runtime,
        log: deps.log,
        railway: requireRailway(deps),
      },
      request.params.instanceId,
    )
    return reply.send(result)
  },
})
