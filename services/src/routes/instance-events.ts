import type { FastifyReply, FastifyRequest } from 'fastify'
import { createStepsRepository } from '../db/steps-repository.js'
import { ProblemError } from '../http/problem.js'
import type { InstanceEvent } from '../lifecycle/events.js'
import { loadInstance, stepView } from '../lifecycle/instance-view.js'
import type { RouteDeps } from './deps.js'

// A comment line now and then keeps proxies from closing a quiet stream.
const HEARTBEAT_MS = 15_000

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/**
 * `GET /instances/{id}/events`: the steps so far, then each step change as it happens, then `end` with
 * the instance once the operation in flight ends (at once when nothing is in flight).
 */
export async function streamInstanceEvents(
  deps: RouteDeps,
  instanceId: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const { db } = deps.database
  const steps = createStepsRepository(db)
  if (!(await loadInstance(db, instanceId))) {
    throw new ProblemError(404, 'NOT_FOUND', `no instance ${instanceId}`)
  }

  const queue: InstanceEvent[] = []
  let wake: (() => void) | undefined
  const unsubscribe = deps.events.subscribe(instanceId, (event) => {
    queue.push(event)
    wake?.()
  })
  let closed = false
  request.raw.once('close', () => {
    closed = true
    wake?.()
  })

  reply.hijack()
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  })
  const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), HEARTBEAT_MS)
  try {
    const instance = await loadInstance(db, instanceId)
    for (const step of instance?.steps ?? []) reply.raw.write(frame('step', step))
    let inFlight = instance?.lifecycle === 'creating' || instance?.lifecycle === 'destroying'
    while (inFlight && !closed) {
      const event = queue.shift()
      if (!event) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      if (event.kind === 'end') {
        inFlight = false
        break
      }
      const step = (await steps.list(instanceId, event.operation)).find((s) => s.name === event.name)
      if (step) reply.raw.write(frame('step', stepView(step)))
    }
    if (!closed) reply.raw.write(frame('end', await loadInstance(db, instanceId)))
  } finally {
    clearInterval(heartbeat)
    unsubscribe()
    reply.raw.end()
  }
}
