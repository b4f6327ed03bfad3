import type { FastifyInstance, HTTPMethods } from 'fastify'
import { routes } from '../generated/routes.js'
import type { RouteDeps } from './deps.js'
import type { Handlers } from './handler-types.js'
import { healthHandlers } from './health.js'
import { instanceHandlers } from './instances.js'
import { operationsHandlers } from './operations.js'
import { registryHandlers } from './registry.js'
import { toolHandlers } from './tools.js'

export type { RouteDeps } from './deps.js'

/** Every operation of the generated route table, joined to its handler by operationId. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps) {
  const handlers: Handlers = {
    ...healthHandlers(deps),
    ...registryHandlers(deps),
    ...instanceHandlers(deps),
    ...toolHandlers(deps),
    ...operationsHandlers(deps),
  }
  for (const [operationId, route] of Object.entries(routes)) {
    app.route({
      method: route.method as HTTPMethods,
      url: route.url,
      schema: route.schema,
      // One cast at the join: each handler is already typed against its own operation's schema.
      handler: handlers[operationId as keyof Handlers] as never,
      config: { security: route.security },
      ...('body' in route.schema && !route.bodyRequired ? { preValidation: defaultEmptyBody } : {}),
    })
  }
}

/** An optional body that was not sent validates as `{}` (Fastify would otherwise validate `undefined`). */
async function defaultEmptyBody(request: { body: unknown }) {
  if (request.body === undefined) request.body = {}
}
