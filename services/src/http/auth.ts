import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createKeyMatcher, hashToken } from '../auth/tokens.js'
import type { InstancesRepository } from '../db/instances-repository.js'
import { forbidden, unauthorized } from './problem.js'

/** The security schemes of the spec. */
export type SecurityScheme = 'poolKey' | 'instanceToken' | 'metricsToken'

/** Who is calling: the pool, one instance for itself, or the metrics scraper. */
export type Principal = { kind: 'pool' } | { kind: 'instance'; instanceId: string } | { kind: 'metrics' }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Schemes the spec allows on this route; absent or empty means no credential is needed. */
    security?: readonly SecurityScheme[]
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

const BEARER = /^Bearer ([\x21-\x7E]{1,1024})$/

function bearerToken(request: FastifyRequest): string | undefined {
  return BEARER.exec(request.headers.authorization ?? '')?.[1]
}

/**
 * Enforces each route's `security` from the spec, in one place, before the body is even read: 401 for a
 * missing or unknown credential (a destroyed instance's token included), 403 for a known credential on a
 * route it may not use. An instance token only ever opens routes about its own `{instanceId}`.
 */
export function registerAuth(
  app: FastifyInstance,
  options: {
    poolApiKeys: string[]
    /** `METRICS_TOKEN`; empty: no metrics token exists and only the pool key opens `/metrics`. */
    metricsTokens?: string[]
    instances: Pick<InstancesRepository, 'findByTokenHash'>
  },
) {
  const isPoolKey = createKeyMatcher(options.poolApiKeys)
  const metricsTokens = options.metricsTokens ?? []
  const isMetricsToken = metricsTokens.length > 0 ? createKeyMatcher(metricsTokens) : () => false
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request) => {
    const allowed = request.routeOptions.config.security
    if (!allowed || allowed.length === 0) return
    const token = bearerToken(request)
    if (!token) throw unauthorized('an Authorization: Bearer credential is required')

    if (isPoolKey(token)) {
      if (!allowed.includes('poolKey')) throw forbidden('the pool key may not call this operation')
      request.principal = { kind: 'pool' }
      return
    }

    if (isMetricsToken(token)) {
      if (!allowed.includes('metricsToken')) throw forbidden('the metrics token may not call this operation')
      request.principal = { kind: 'metrics' }
      return
    }

    const instance = await options.instances.findByTokenHash(hashToken(token))
    if (!instance) throw unauthorized('the credential is not valid')
    const params = request.params as { instanceId?: string } | undefined
    if (!allowed.includes('instanceToken')) throw forbidden('an instance token may not call this operation')
    if (params?.instanceId !== instance.instanceId) {
      throw forbidden('an instance token is only valid for its own instance')
    }
    request.principal = { kind: 'instance', instanceId: instance.instanceId }
  })
}
