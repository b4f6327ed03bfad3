import type { AddressInfo } from 'node:net'
import type { FaultRule, Faults } from '../kit/faults.js'
import { Ledger } from '../kit/ledger.js'
import { createEmulatorServer } from '../kit/server.js'
import { BadRequest, errorBodyForStatus, telnyxErrors } from './errors.js'
import { createInventory } from './inventory.js'
import { BASE_PATH, registerRoutes } from './routes.js'
import { type TelnyxKinds, TelnyxStore } from './store.js'

export { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from './routes.js'
export type { MessagingProfile, NumberOrder, PhoneNumberRecord, TelnyxKinds } from './store.js'

export interface TelnyxEmulatorOptions {
  /** The account's API v2 key (default: a fixed test value). */
  apiKey?: string
  latencyMs?: number
  /** How long a number order stays `pending` before it settles. Default 250 ms. */
  orderSettleMs?: number
  /**
   * How long after a purchase `/phone_numbers/{id}/messaging` answers 404 (the runtime retried on 404
   * "while the purchase propagates"). Default 0.
   */
  messagingPropagationMs?: number
  /**
   * Whether an order's `messaging_profile_id` is assigned to the numbers it buys (providers.md: it
   * "should" be [I]). Default true; false emulates a Telnyx that needs the separate PATCH.
   */
  applyOrderMessagingProfile?: boolean
  /** How many numbers are for sale (a fixed, seeded list). Default 500. */
  inventorySize?: number
  /** Create one messaging profile at start (its id is `messagingProfileId`). Default true. */
  defaultMessagingProfile?: boolean
  faults?: FaultRule[]
  seed?: number
  host?: string
  port?: number
}

export interface TelnyxEmulator {
  /** Base URL services is configured with: `http://127.0.0.1:PORT/v2`. */
  url: string
  apiKey: string
  /** The profile made at start, for `TELNYX_MESSAGING_PROFILE_ID`; undefined when disabled. */
  messagingProfileId: string | undefined
  faults: Faults
  /** Live `number`s (by numeric id), every `order`, and `messagingProfile`s. */
  ledger: Ledger<TelnyxKinds>
  /** The next `count` orders end in `failure` instead of `success`. */
  failNextOrders(count: number): void
  close(): Promise<void>
}

export const DEFAULT_API_KEY = 'KEY0123456789ABCDEF0123456789ABCDEF_emulator'
const DEFAULT_SEED = 20_240_601

/**
 * Telnyx API v2 for what services needs: number search (deepObject filters), number orders that settle
 * from `pending` to `success` after `orderSettleMs`, messaging profiles, phone numbers (list, get, delete)
 * and their messaging settings. Bearer auth and Telnyx's `{errors: [...]}` bodies; responses conform to
 * the published document (checked by emulators/test/telnyx.test.ts).
 */
export async function startTelnyxEmulator(options: TelnyxEmulatorOptions = {}): Promise<TelnyxEmulator> {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY
  const seed = options.seed ?? DEFAULT_SEED
  const ledger = new Ledger<TelnyxKinds>()
  const store = new TelnyxStore(ledger, {
    inventory: createInventory(options.inventorySize ?? 500, seed),
    orderSettleMs: options.orderSettleMs ?? 250,
    messagingPropagationMs: options.messagingPropagationMs ?? 0,
    applyOrderMessagingProfile: options.applyOrderMessagingProfile ?? true,
    seed,
  })
  const { app, faults } = createEmulatorServer(
    { name: 'telnyx', ledger, errorBody: errorBodyForStatus },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      seed,
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    },
  )

  // Every API route needs `Authorization: Bearer <key>`; checked before latency and faults, as a gateway would.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(`${BASE_PATH}/`)) return
    const header = request.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ''
    if (token !== apiKey) {
      return reply
        .code(401)
        .send(
          telnyxErrors('10009', 'Authentication failed', 'Could not understand the provided credentials.'),
        )
    }
  })
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error instanceof BadRequest) {
      const title = error.status === 400 ? 'Bad Request' : 'Invalid value'
      return reply.code(error.status).send(telnyxErrors('10015', title, error.detail, error.source))
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    return reply
      .code(status)
      .send(errorBodyForStatus(status, status >= 500 ? 'Unexpected error' : error.message))
  })
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(errorBodyForStatus(404, 'The requested resource could not be found.')),
  )
  registerRoutes(app, store)

  const profile =
    options.defaultMessagingProfile === false
      ? undefined
      : store.createProfile({ name: 'services default', whitelistedDestinations: ['US'] })

  const host = options.host ?? '127.0.0.1'
  app.addHook('onClose', async () => store.close())
  await app.listen({ host, port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${BASE_PATH}`,
    apiKey,
    messagingProfileId: profile?.id,
    faults,
    ledger,
    failNextOrders: (count) => store.failNextOrders(count),
    close: () => app.close(),
  }
}
