import type { AddressInfo } from 'node:net'
import type { FaultRule, Faults } from '../kit/faults.js'
import { Ledger } from '../kit/ledger.js'
import { createEmulatorServer } from '../kit/server.js'
import { BASE_PATH, errorBody, type OpenRouterKinds, registerRoutes } from './routes.js'

export type { ApiKey } from './api-key.js'
export { PAGE_SIZE } from './routes.js'

export interface OpenRouterEmulatorOptions {
  /** The management key the emulator accepts on `/keys` (default: a fixed test value). */
  managementKey?: string
  latencyMs?: number
  faults?: FaultRule[]
  seed?: number
  host?: string
  port?: number
}

export interface OpenRouterEmulator {
  /** Base URL services is configured with, e.g. `http://127.0.0.1:PORT/api/v1`. */
  url: string
  managementKey: string
  faults: Faults
  /** Live keys (kind `key`) as OpenRouter's `ApiKey` objects: hashes only, never a plaintext. */
  ledger: Ledger<OpenRouterKinds>
  close(): Promise<void>
}

export const DEFAULT_MANAGEMENT_KEY = 'sk-or-v1-management-emulator-0000000000000000'

/**
 * OpenRouter's key management API (management keys): create, list (100 per page, paged with `offset`), get,
 * update and delete inference keys, plus `GET /key`. Error bodies are `{error:{code,message}}`; only the
 * management key may call `/keys`, and an inference key there gets 403.
 */
export async function startOpenRouterEmulator(
  options: OpenRouterEmulatorOptions = {},
): Promise<OpenRouterEmulator> {
  const managementKey = options.managementKey ?? DEFAULT_MANAGEMENT_KEY
  const ledger = new Ledger<OpenRouterKinds>()
  const { app, faults } = createEmulatorServer(
    { name: 'openrouter', ledger, errorBody },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    },
  )
  // Framework-level failures (bad JSON, unknown routes) still answer in OpenRouter's error shape.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    return reply.code(status).send(errorBody(status, status >= 500 ? 'Internal Server Error' : error.message))
  })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody(404, 'Not Found')))
  registerRoutes(app, { ledger, managementKey })

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  const host = options.host ?? '127.0.0.1'
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${BASE_PATH}`,
    managementKey,
    faults,
    ledger,
    close: () => app.close(),
  }
}
