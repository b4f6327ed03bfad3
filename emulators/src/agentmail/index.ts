import type { AddressInfo } from 'node:net'
import type { FaultRule, Faults } from '../kit/faults.js'
import { Ledger } from '../kit/ledger.js'
import { createEmulatorServer } from '../kit/server.js'
import { errorBodyForStatus } from './errors.js'
import { type AgentMailKinds, InboxStore, newPodId } from './inboxes.js'
import { BASE_PATH, registerRoutes } from './routes.js'

export type { Inbox } from './inboxes.js'
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './routes.js'

export interface AgentMailEmulatorOptions {
  /** The organisation's API key (default: a fixed test value). */
  apiKey?: string
  /**
   * Keys of other organisations, each with its own pod: a user's own AgentMail account in user mode. A key
   * never sees another organisation's inboxes.
   */
  otherApiKeys?: string[]
  /** Verified domains besides `agentmail.to`. */
  domains?: string[]
  /** Live inboxes allowed per organisation (AgentMail plans: Free 3, Developer 10, Startup 150). Default 1000. */
  inboxCap?: number
  latencyMs?: number
  faults?: FaultRule[]
  seed?: number
  host?: string
  port?: number
}

export interface AgentMailEmulator {
  /** Base URL services is configured with, e.g. `http://127.0.0.1:PORT/v0`. */
  url: string
  apiKey: string
  faults: Faults
  /** Live inboxes (kind `inbox`), keyed by inbox id (the address). */
  ledger: Ledger<AgentMailKinds>
  close(): Promise<void>
}

export const DEFAULT_API_KEY = 'am_emulator_0000000000000000000000000000'

/**
 * AgentMail's inbox API (`/v0/inboxes`): create with `client_id` idempotency, cursor-paged list (newest
 * first), get, update and delete (204), Bearer auth, and AgentMail's `{name, code, message}` errors.
 */
export async function startAgentMailEmulator(
  options: AgentMailEmulatorOptions = {},
): Promise<AgentMailEmulator> {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY
  const ledger = new Ledger<AgentMailKinds>()
  const store = new InboxStore(ledger, {
    domains: ['agentmail.to', ...(options.domains ?? [])],
    inboxCap: options.inboxCap ?? 1000,
  })
  const pods = new Map([apiKey, ...(options.otherApiKeys ?? [])].map((key) => [key, newPodId()]))
  const { app, faults } = createEmulatorServer(
    { name: 'agentmail', ledger, errorBody: errorBodyForStatus },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    },
  )
  // Framework-level failures (bad JSON, unknown routes) still answer in AgentMail's error shape.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    return reply
      .code(status)
      .send(errorBodyForStatus(status, status >= 500 ? 'Internal server error' : error.message))
  })
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(errorBodyForStatus(404, 'Route not found')),
  )
  // The create body is optional, so `Content-Type: application/json` with no body means "no fields".
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text as string))
    } catch {
      done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), undefined)
    }
  })
  registerRoutes(app, { store, pods })

  const host = options.host ?? '127.0.0.1'
  await app.listen({ host, port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${BASE_PATH}`,
    apiKey,
    faults,
    ledger,
    close: () => app.close(),
  }
}
