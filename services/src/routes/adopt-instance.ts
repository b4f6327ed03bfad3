import { adoptInstance } from '../lifecycle/adopt-instance.js'
import { type RouteDeps, requireRailway } from './deps.js'
import type { Handlers } from './handler-types.js'

/** `POST /adopt-instance`: 201 when adopted now, 200 when the same instance was adopted before. */
export const adoptInstanceHandlers = (deps: RouteDeps): Pick<Handlers, 'adoptInstance'> => ({
  adoptInstance: async (request, reply) => {
    const { instance, created } = await adoptInstance(
      {
        db: deps.database.db,
        railway: requireRailway(deps),
        config: deps.config,
        secretBox: deps.secretBox,
      },
      request.body,
    )
    return reply.code(created ? 201 : 200).send(instance)
  },
})
