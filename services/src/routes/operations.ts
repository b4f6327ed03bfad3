import type { FastifyReply } from 'fastify'
import { reconcile } from '../lifecycle/reconcile.js'
import type { RouteDeps } from './deps.js'
import type { Handlers } from './handler-types.js'

/**
 * `GET /metrics`: the app's registry in the Prometheus text format (its collect() callbacks read the DB).
 * `POST /admin/reconcile`: orphans and vanished rows, deleted and marked with `apply`.
 */
export function operationsHandlers(
  deps: Pick<RouteDeps, 'metrics' | 'database' | 'railway' | 'plugins' | 'log'>,
): Pick<Handlers, 'getMetrics' | 'reconcile'> {
  return {
    reconcile: async (request) =>
      reconcile(
        { db: deps.database.db, railway: deps.railway, plugins: deps.plugins, log: deps.log },
        { apply: request.body?.apply ?? false },
      ),
    getMetrics: async (_request, reply) => {
      const text = await deps.metrics.registry.metrics()
      // The 200 is text, so the generated route table types only the problem+json replies: widen once here.
      return (reply as FastifyReply).type(deps.metrics.registry.contentType).send(text)
    },
  }
}
