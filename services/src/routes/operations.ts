import type { FastifyReply } from 'fastify'
import type { Metrics } from '../http/metrics.js'
import type { Handlers } from './handler-types.js'

/** `GET /metrics`: the app's registry in the Prometheus text format (its collect() callbacks read the DB). */
export function operationsHandlers(deps: { metrics: Metrics }): Pick<Handlers, 'getMetrics'> {
  return {
    getMetrics: async (_request, reply) => {
      const text = await deps.metrics.registry.metrics()
      // The 200 is text, so the generated route table types only the problem+json replies: widen once here.
      return (reply as FastifyReply).type(deps.metrics.registry.contentType).send(text)
    },
  }
}
