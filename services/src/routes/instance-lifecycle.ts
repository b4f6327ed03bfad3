import { setTimeout as sleep } from 'node:timers/promises'
import { createInstancesRepository } from '../db/instances-repository.js'
import { ProblemError } from '../http/problem.js'
import { remainingOf } from '../lifecycle/destroy-instance.js'
import { loadInstance } from '../lifecycle/instance-view.js'
import { recordCreation } from '../lifecycle/request-creation.js'
import { type RouteDeps, requireLifecycle } from './deps.js'
import type { Handlers } from './handler-types.js'
import { streamInstanceEvents } from './instance-events.js'

/** `Prefer: respond-async` (RFC 7240), among other preferences. */
const wantsAsync = (prefer: string | undefined) =>
  (prefer ?? '').split(',').some((token) => token.trim().toLowerCase() === 'respond-async')

/**
 * Waits for `work` at most `ms`; the work itself goes on either way (a caller that gives up or
 * disconnects never cancels a creation or a destroy).
 */
async function waitAtMost(work: Promise<void>, ms: number) {
  const timeout = new AbortController()
  await Promise.race([work, sleep(ms, undefined, { signal: timeout.signal }).catch(() => undefined)])
  timeout.abort()
}

const notFound = (instanceId: string) => new ProblemError(404, 'NOT_FOUND', `no instance ${instanceId}`)

export function instanceLifecycleHandlers(
  deps: RouteDeps,
): Pick<Handlers, 'createInstance' | 'destroyInstance' | 'streamInstanceEvents'> {
  const { db } = deps.database
  const instances = createInstancesRepository(db)
  const { createWaitMs } = deps.config.lifecycle

  return {
    async createInstance(request, reply) {
      const lifecycle = requireLifecycle(deps)
      const row = await recordCreation(db, request.body, deps.config, deps.plugins)
      if (row.lifecycle === 'creating') {
        const work = lifecycle.ensureCreation(row.instanceId)
        if (!wantsAsync(request.headers.prefer)) await waitAtMost(work, createWaitMs)
      }
      const instance = await loadInstance(db, row.instanceId)
      if (!instance) throw new Error(`instance ${row.instanceId} vanished after its creation was recorded`)
      if (instance.lifecycle === 'ready') return reply.code(201).send(instance)
      if (instance.lifecycle === 'failed') {
        const cause = instance.error ? `${instance.error.code}: ${instance.error.message}` : 'unknown cause'
        throw new ProblemError(
          502,
          'CREATION_FAILED',
          `creation of ${row.instanceId} failed (${cause}); what it made is released`,
        )
      }
      return reply
        .code(202)
        .header('location', `/instances/${encodeURIComponent(row.instanceId)}`)
        .send(instance)
    },

    async destroyInstance(request, reply) {
      const lifecycle = requireLifecycle(deps)
      const { instanceId } = request.params
      const infra = await instances.get(instanceId)
      if (!infra) throw notFound(instanceId)
      if (infra.lifecycle !== 'destroyed') {
        await lifecycle.requestDestroy(instanceId)
        await waitAtMost(lifecycle.ensureDestroy(instanceId), createWaitMs)
      }
      const after = await instances.get(instanceId)
      if (!after) throw notFound(instanceId)
      if (after.lifecycle === 'destroyed') {
        return reply.code(200).send({ instanceId, lifecycle: 'destroyed' as const, remaining: [] })
      }
      return reply
        .code(202)
        .send({ instanceId, lifecycle: 'destroying' as const, remaining: await remainingOf(db, after) })
    },

    streamInstanceEvents: (request, reply) =>
      streamInstanceEvents(deps, request.params.instanceId, request, reply),
  }
}
