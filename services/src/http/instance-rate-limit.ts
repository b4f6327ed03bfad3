import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { ProblemError } from './problem.js'

/**
 * An instance token can spend money (inboxes, wallets), and a compromised or looping agent must not turn
 * that into a bill: every instance gets `perMinute` requests a minute with its token, counted per
 * instance, then 429 problems with `Retry-After`. The pool and anonymous probes are not limited here.
 * Counts live in this process (`@fastify/rate-limit`'s memory store); behind several replicas each
 * replica counts on its own.
 */
export async function registerInstanceRateLimit(app: FastifyInstance, options: { perMinute: number }) {
  await app.register(rateLimit, {
    global: true,
    max: options.perMinute,
    timeWindow: 60_000,
    // Route-level hooks run after the global auth hook, so the principal is known by then.
    allowList: (request) => request.principal?.kind !== 'instance',
    keyGenerator: (request) =>
      request.principal?.kind === 'instance' ? `instance:${request.principal.instanceId}` : request.ip,
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1_000))
      return new ProblemError(
        429,
        'RATE_LIMITED',
        `this instance may make ${context.max} requests a minute with its token; retry in ${seconds} s`,
        { headers: { 'retry-after': String(seconds) } },
      )
    },
  })
}
