import { createConfigurer } from '../lifecycle/configure-instance.js'
import { destroyTool } from '../lifecycle/destroy-tool.js'
import { singleFlight } from '../lifecycle/single-flight.js'
import { type RouteDeps, requireProvisioner, requireRailway } from './deps.js'
import type { Handlers } from './handler-types.js'

/** The `tools` tag: provision and destroy one tool of a running instance; configure the agent. */
export function toolHandlers(
  deps: RouteDeps,
): Pick<Handlers, 'provisionTool' | 'destroyTool' | 'configureInstance'> {
  const toolDeps = () => ({
    db: deps.database.db,
    plugins: deps.plugins,
    secretBox: deps.secretBox,
    runtime: deps.runtime,
    log: deps.log,
    railway: requireRailway(deps),
  })
  let configure: ReturnType<typeof createConfigurer> | undefined
  // Concurrent destroys of one resource share one release (and one Railway variable write).
  const releasing = singleFlight<Awaited<ReturnType<typeof destroyTool>>>()

  return {
    async provisionTool(request, reply) {
      const { created, resource } = await requireProvisioner(deps)({
        instanceId: request.params.instanceId,
        toolId: request.params.toolId,
        principal: request.principal ?? { kind: 'pool' },
        body: request.body ?? {},
      })
      return reply.code(created ? 201 : 200).send(resource)
    },

    async destroyTool(request, reply) {
      const { instanceId, toolId, resourceId } = request.params
      const { result, done } = await releasing(JSON.stringify([instanceId, toolId, resourceId]), () =>
        destroyTool(toolDeps(), request.params),
      )
      return reply.code(done ? 200 : 202).send(result)
    },

    async configureInstance(request, reply) {
      configure ??= createConfigurer({ ...toolDeps(), config: deps.config })
      return reply.send(await configure(request.params.instanceId, request.body))
    },
  }
}
