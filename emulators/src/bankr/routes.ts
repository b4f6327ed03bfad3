import type { FastifyInstance, FastifyReply } from 'fastify'
import { bankrError } from './errors.js'
import type { ApiKeyPermissions, BankrStore, CreateWalletInput, Wallet } from './store.js'

// UNDOCUMENTED: emulated plausibly — list paging (`limit`, `cursor`, `nextCursor`) is not published.
export const DEFAULT_LIST_LIMIT = 50
export const MAX_LIST_LIMIT = 100
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/
const SOLANA_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/

type IdParams = { Params: { id: string } }
type ListQuery = { Querystring: { idempotencyKey?: string; limit?: string; cursor?: string } }

class Invalid extends Error {}

/**
 * Bankr's partner wallet routes (`/partner/wallets`, `X-Partner-Key`) and the user route `/wallet/me`
 * (`X-API-Key`). Only the create call is documented (partly); the rest is marked UNDOCUMENTED.
 */
export function registerRoutes(app: FastifyInstance, store: BankrStore) {
  const invalid = (reply: FastifyReply, message: string) =>
    reply.code(400).send(bankrError('Invalid request', message))
  const notFound = (reply: FastifyReply) => reply.code(404).send(bankrError('Wallet not found'))

  app.post<{ Body: unknown }>(
    '/partner/wallets',
    { config: { operation: 'createWallet' } },
    async (request, reply) => {
      let input: CreateWalletInput
      try {
        input = parseCreate(request.body)
      } catch (error) {
        if (error instanceof Invalid) return invalid(reply, error.message)
        throw error
      }
      const outcome = store.createWallet(input)
      const body = { ...outcome.wallet, ...(outcome.apiKey ? { apiKey: outcome.apiKey } : {}) }
      // Documented: 201 for a new wallet. UNDOCUMENTED: emulated plausibly — 200 for an idempotent replay.
      return reply.code(outcome.kind === 'created' ? 201 : 200).send(body)
    },
  )

  // UNDOCUMENTED: emulated plausibly — list the partner's wallets, optionally by idempotencyKey.
  app.get<ListQuery>('/partner/wallets', { config: { operation: 'listWallets' } }, async (request, reply) => {
    const { idempotencyKey, cursor } = request.query
    const limit = request.query.limit === undefined ? DEFAULT_LIST_LIMIT : Number(request.query.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      return invalid(reply, `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`)
    }
    const matching = store
      .wallets()
      .filter((wallet) => idempotencyKey === undefined || wallet.idempotencyKey === idempotencyKey)
    let start = 0
    if (cursor !== undefined) {
      start = matching.findIndex((wallet) => wallet.id === cursor) + 1
      if (start === 0) return invalid(reply, 'unknown cursor')
    }
    const page = matching.slice(start, start + limit)
    const last = page.at(-1)
    const more = start + limit < matching.length
    return { wallets: page, nextCursor: more && last ? last.id : null }
  })

  // UNDOCUMENTED: emulated plausibly.
  app.get<IdParams>(
    '/partner/wallets/:id',
    { config: { operation: 'getWallet' } },
    async (request, reply) => {
      const wallet = store.getWallet(request.params.id)
      if (!wallet) return notFound(reply)
      return wallet
    },
  )

  // UNDOCUMENTED: emulated plausibly — 200 `{id, deleted: true}`, then 404.
  app.delete<IdParams>(
    '/partner/wallets/:id',
    { config: { operation: 'deleteWallet' } },
    async (request, reply) => {
      const wallet = store.getWallet(request.params.id)
      if (!wallet) return notFound(reply)
      store.deleteWallet(wallet)
      return { id: wallet.id, deleted: true }
    },
  )

  // The endpoint is documented (SKILL.md); UNDOCUMENTED: emulated plausibly — its response fields.
  app.get('/wallet/me', { config: { operation: 'walletMe' } }, async (request) => {
    const record = store.keyRecord(String(request.headers['x-api-key']))
    return {
      evmAddress: record?.evmAddress,
      ...(record?.solanaAddress ? { solanaAddress: record.solanaAddress } : {}),
      ...(record?.walletId ? { walletId: record.walletId } : {}),
      permissions: record?.permissions,
    }
  })
}

/** The create body as documented: every part optional; `idempotencyKey` at most 128 characters. */
function parseCreate(body: unknown): CreateWalletInput {
  if (body === undefined || body === null) return { solana: false }
  if (typeof body !== 'object' || Array.isArray(body)) throw new Invalid('the body must be a JSON object')
  const record = body as Record<string, unknown>
  const { idempotencyKey, wallet, apiKey } = record
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 128)
  ) {
    throw new Invalid('idempotencyKey must be a string of 1 to 128 characters')
  }
  if (wallet !== undefined && (typeof wallet !== 'object' || wallet === null || Array.isArray(wallet))) {
    throw new Invalid('wallet must be an object')
  }
  const solana = (wallet as { solana?: unknown } | undefined)?.solana
  if (solana !== undefined && typeof solana !== 'boolean')
    throw new Invalid('wallet.solana must be a boolean')
  return {
    ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    solana: solana === true,
    ...(apiKey !== undefined ? { apiKey: parseApiKey(apiKey) } : {}),
  }
}

function parseApiKey(value: unknown): NonNullable<CreateWalletInput['apiKey']> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Invalid('apiKey must be an object')
  const { permissions = {}, allowedIps, allowedRecipients } = value as Record<string, unknown>
  if (typeof permissions !== 'object' || permissions === null)
    throw new Invalid('apiKey.permissions must be an object')
  const flag = (name: keyof ApiKeyPermissions, fallback: boolean) => {
    const flagValue = (permissions as Record<string, unknown>)[name]
    if (flagValue !== undefined && typeof flagValue !== 'boolean') {
      throw new Invalid(`apiKey.permissions.${name} must be a boolean`)
    }
    return flagValue ?? fallback
  }
  const result: NonNullable<CreateWalletInput['apiKey']> = {
    permissions: {
      agentApiEnabled: flag('agentApiEnabled', false),
      llmGatewayEnabled: flag('llmGatewayEnabled', false),
      tokenLaunchApiEnabled: flag('tokenLaunchApiEnabled', false),
      // Documented default: a new key is read-only unless told otherwise.
      readOnly: flag('readOnly', true),
    },
  }
  if (allowedIps !== undefined) {
    if (!Array.isArray(allowedIps) || !allowedIps.every((ip) => typeof ip === 'string')) {
      throw new Invalid('apiKey.allowedIps must be a list of strings')
    }
    result.allowedIps = allowedIps
  }
  if (allowedRecipients !== undefined) {
    const { evm = [], solana = [] } = (allowedRecipients ?? {}) as Record<string, unknown>
    if (!Array.isArray(evm) || !evm.every((a) => typeof a === 'string' && EVM_ADDRESS.test(a))) {
      throw new Invalid('apiKey.allowedRecipients.evm must be a list of EVM addresses')
    }
    if (!Array.isArray(solana) || !solana.every((a) => typeof a === 'string' && SOLANA_ADDRESS.test(a))) {
      throw new Invalid('apiKey.allowedRecipients.solana must be a list of Solana addresses')
    }
    result.allowedRecipients = { evm, solana }
  }
  return result
}

export type { Wallet }
