import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FaultRule, Faults } from '../kit/faults.js'
import { Ledger } from '../kit/ledger.js'
import { createEmulatorServer } from '../kit/server.js'
import { bankrError, errorBodyForStatus, rateLimitError } from './errors.js'
import { registerRoutes } from './routes.js'
import { type BankrKinds, BankrStore } from './store.js'

export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './routes.js'
export type { ApiKeyPermissions, ApiKeyRecord, BankrKinds, Wallet } from './store.js'

export interface BankrEmulatorOptions {
  /** The partner key, `bk_ptr_<8-char id>_<32-char secret>` (default: a fresh one). */
  partnerKey?: string
  /**
   * Requests allowed per credential per window; over it, 429 with Bankr's body and Retry-After. Off by
   * default. (Bankr documents 120 requests/min per IP generally; partner limits are not published.)
   */
  rateLimit?: { limit: number; windowMs: number }
  /**
   * A repeated create with the same idempotencyKey shows the wallet's API key again. Default false: the
   * key is shown once (UNDOCUMENTED: emulated plausibly either way).
   */
  replayApiKey?: boolean
  latencyMs?: number
  faults?: FaultRule[]
  seed?: number
  host?: string
  port?: number
}

export interface BankrEmulator {
  /** Base URL services is configured with: `http://127.0.0.1:PORT` (paths start `/partner`, `/wallet`). */
  url: string
  partnerKey: string
  faults: Faults
  /** Live `wallet`s by id and live `apiKey`s by key id (never the plaintext key). */
  ledger: Ledger<BankrKinds>
  /** A user's own Bankr account (not a partner wallet), for user mode: its API key and EVM address. */
  createUserAccount(): { apiKey: string; evmAddress: string }
  close(): Promise<void>
}

/**
 * Bankr's Partner API for per-agent wallets: `POST /partner/wallets` (documented, partly) plus get, list
 * by idempotencyKey and delete (not documented: emulated plausibly, marked `UNDOCUMENTED` in the code),
 * and `GET /wallet/me` with a wallet's own `X-API-Key`. Errors are `{error}`; 429 adds
 * `{message, resetAt, limit, used}`.
 */
export async function startBankrEmulator(options: BankrEmulatorOptions = {}): Promise<BankrEmulator> {
  const partnerKey = options.partnerKey ?? `bk_ptr_${hex(4)}_${hex(16)}`
  const ledger = new Ledger<BankrKinds>()
  const store = new BankrStore(ledger, { replayApiKey: options.replayApiKey ?? false })
  const { app, faults } = createEmulatorServer(
    { name: 'bankr', ledger, errorBody: errorBodyForStatus },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    },
  )

  const windows = new Map<string, { resetAt: number; used: number }>()
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    let credential: string
    if (path === '/partner/wallets' || path.startsWith('/partner/wallets/')) {
      const header = request.headers['x-partner-key']
      if (typeof header !== 'string' || header === '') {
        return reply.code(401).send(bankrError('Partner API key required'))
      }
      if (header !== partnerKey)
        return reply.code(401).send(bankrError('Invalid or inactive partner API key'))
      credential = header
    } else if (path === '/wallet/me') {
      const header = request.headers['x-api-key']
      // UNDOCUMENTED: emulated plausibly — the user API's 401 messages.
      if (typeof header !== 'string' || header === '')
        return reply.code(401).send(bankrError('API key required'))
      if (!store.keyRecord(header)) return reply.code(401).send(bankrError('Invalid API key'))
      credential = header
    } else {
      return
    }
    if (!options.rateLimit) return
    const now = Date.now()
    let window = windows.get(credential)
    if (!window || now >= window.resetAt) {
      window = { resetAt: now + options.rateLimit.windowMs, used: 0 }
      windows.set(credential, window)
    }
    window.used += 1
    if (window.used > options.rateLimit.limit) {
      // UNDOCUMENTED: emulated plausibly — Retry-After beside the documented body's resetAt.
      return reply
        .code(429)
        .header('retry-after', String(Math.max(1, Math.ceil((window.resetAt - now) / 1000))))
        .send(rateLimitError(new Date(window.resetAt), options.rateLimit.limit, window.used))
    }
  })
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    return reply
      .code(status)
      .send(errorBodyForStatus(status, status >= 500 ? 'Internal server error' : error.message))
  })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(bankrError('Not found')))
  // Every part of the create body is optional, so `Content-Type: application/json` with no body is "{}".
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text as string))
    } catch {
      done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), undefined)
    }
  })
  registerRoutes(app, store)

  const host = options.host ?? '127.0.0.1'
  await app.listen({ host, port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    partnerKey,
    faults,
    ledger,
    createUserAccount: () => store.createUserAccount(),
    close: () => app.close(),
  }
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}
