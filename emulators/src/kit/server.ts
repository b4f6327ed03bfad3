import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { type FaultAction, type FaultRule, Faults } from './faults.js'
import type { Ledger } from './ledger.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The provider's name for this operation; fault rules and the request log use it. */
    operation?: string
  }
  interface FastifyRequest {
    fault: FaultAction | undefined
  }
}

export interface EmulatorOptions {
  /** Fault rules active from the start. */
  faults?: FaultRule[]
  /** Seed for fault decisions, to replay a scenario. */
  seed?: number
  /** Latency added to every request, in ms (providers are never instant). */
  latencyMs?: number
}

export interface EmulatorKit<Kinds extends string> {
  name: string
  ledger: Ledger<Kinds>
  /** The provider's error body for a status (each provider has its own shape). */
  errorBody(status: number, message: string): unknown
  /** The operation name of a request when it is not fixed by the route (GraphQL: the root field). */
  operationOf?(request: FastifyRequest): string | undefined
}

/**
 * A Fastify server with what every emulator shares: latency, fault knobs applied per operation, the
 * request log, and the `/__emulator/*` control routes (ledger, requests, faults, reset).
 */
export function createEmulatorServer<Kinds extends string>(
  kit: EmulatorKit<Kinds>,
  options: EmulatorOptions = {},
): { app: FastifyInstance; faults: Faults } {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const faults = new Faults(options.faults ?? [], options.seed)
  const baseLatency = options.latencyMs ?? 0
  app.decorateRequest('fault', undefined)

  const operationOf = (request: FastifyRequest) =>
    kit.operationOf?.(request) ?? request.routeOptions.config.operation

  app.addHook('preHandler', async (request, reply) => {
    const operation = operationOf(request)
    if (!operation) return
    const delay = baseLatency + faults.latencyFor(operation)
    if (delay > 0) await sleep(delay)
    const fault = faults.pick(operation)
    request.fault = fault
    if (!fault) return
    if (fault.kind === 'rateLimit') {
      return reply
        .code(429)
        .header('retry-after', String(fault.retryAfterSeconds))
        .send(kit.errorBody(429, 'Too many requests'))
    }
    if (fault.kind === 'hang') return hang(request, reply)
    if (fault.kind === 'reset' && !fault.afterWork) return reset(request, reply)
    if (fault.kind === 'error' && !fault.afterWork) {
      return reply.code(fault.status).send(kit.errorBody(fault.status, 'Injected fault'))
    }
  })

  // A fault "after work": the handler did the work; the client never learns it.
  app.addHook('onSend', async (request, reply, payload) => {
    const fault = request.fault
    if (fault?.kind === 'reset' && fault.afterWork) {
      request.raw.socket.destroy()
      return payload
    }
    if (fault?.kind === 'error' && fault.afterWork) {
      reply.code(fault.status)
      return JSON.stringify(kit.errorBody(fault.status, 'Injected fault'))
    }
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    const operation = operationOf(request)
    if (!operation) return
    const credential =
      request.headers.authorization ?? request.headers['x-api-key'] ?? request.headers['x-partner-key']
    kit.ledger.record({
      at: Date.now(),
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      operation,
      status: reply.statusCode,
      ...(typeof credential === 'string' ? { credential: credential.slice(-4) } : {}),
    })
  })

  app.get('/__emulator/ledger', async () => kit.ledger.snapshot())
  app.get('/__emulator/requests', async () => kit.ledger.requests())
  app.get('/__emulator/faults', async () => faults.list())
  app.post<{ Body: FaultRule[] | FaultRule }>('/__emulator/faults', async (request) => {
    const rules = Array.isArray(request.body) ? request.body : [request.body]
    for (const rule of rules) faults.add(rule)
    return faults.list()
  })
  app.delete('/__emulator/faults', async () => {
    faults.clear()
    return []
  })
  app.post('/__emulator/reset', async () => {
    faults.clear()
    kit.ledger.reset()
    return { ok: true }
  })

  return { app, faults }
}

/** Keeps the connection open without answering; closing the server ends it. */
function hang(_request: FastifyRequest, reply: FastifyReply) {
  reply.hijack()
}

function reset(request: FastifyRequest, reply: FastifyReply) {
  reply.hijack()
  request.raw.socket.destroy()
}
