import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Ledger } from '../kit/ledger.js'
import {
  type ApiKey,
  CREATOR_USER_ID,
  DEFAULT_WORKSPACE_ID,
  hashOf,
  isUsable,
  maskedLabel,
  newKeyMaterial,
  remaining,
} from './api-key.js'
import { parseCreateKey, parseListQuery, parseUpdateKey } from './validate.js'

export type OpenRouterKinds = 'key'

/** OpenRouter lists "the most recent 100" keys per call; callers page by adding 100 to `offset`. */
export const PAGE_SIZE = 100
export const BASE_PATH = '/api/v1'

interface State {
  ledger: Ledger<OpenRouterKinds>
  managementKey: string
}

type Caller = { kind: 'management' } | { kind: 'key'; key: ApiKey }

/** OpenRouter's error body: `{error: {code: <http status>, message}}`. */
export function errorBody(status: number, message: string) {
  return { error: { code: status, message } }
}

/** The key management routes (`/keys`, `/keys/{hash}`) and `GET /key`, as OpenRouter serves them. */
export function registerRoutes(app: FastifyInstance, state: State) {
  const { ledger } = state
  const send = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).send(errorBody(status, message))

  /** Who is calling: the management key, a live inference key, or nobody (the reply is already sent). */
  const caller = (request: FastifyRequest, reply: FastifyReply): Caller | undefined => {
    const header = request.headers.authorization
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ''
    if (!token) return void send(reply, 401, 'Missing Authentication header')
    if (token === state.managementKey) return { kind: 'management' }
    const key = ledger.get<ApiKey>('key', hashOf(token))
    // A disabled or expired key authenticates nothing; OpenRouter's wording for it is not published [I].
    if (!key || !isUsable(key)) return void send(reply, 401, 'User not found.')
    return { kind: 'key', key }
  }

  const management = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const who = caller(request, reply)
    if (!who) return false
    if (who.kind !== 'management') {
      send(reply, 403, 'Only management keys can perform this operation')
      return false
    }
    return true
  }

  app.post(`${BASE_PATH}/keys`, { config: { operation: 'createKeys' } }, async (request, reply) => {
    if (!management(request, reply)) return reply
    const parsed = parseCreateKey(request.body)
    if (!parsed.ok) return send(reply, 400, parsed.message)
    const input = parsed.value
    const { plaintext, hash, label } = newKeyMaterial()
    const now = new Date().toISOString()
    const key: ApiKey = {
      hash,
      name: input.name,
      label,
      disabled: false,
      limit: input.limit,
      limit_remaining: remaining(input.limit, 0),
      limit_reset: input.limit_reset,
      include_byok_in_limit: input.include_byok_in_limit,
      usage: 0,
      usage_daily: 0,
      usage_weekly: 0,
      usage_monthly: 0,
      byok_usage: 0,
      byok_usage_daily: 0,
      byok_usage_weekly: 0,
      byok_usage_monthly: 0,
      created_at: now,
      updated_at: null,
      expires_at: input.expires_at,
      creator_user_id: input.creator_user_id ?? CREATOR_USER_ID,
      workspace_id: input.workspace_id ?? DEFAULT_WORKSPACE_ID,
    }
    ledger.put('key', hash, key)
    // The only response that ever carries the plaintext; the ledger keeps the hash alone.
    return reply.code(201).send({ key: plaintext, data: key })
  })

  app.get<{ Querystring: Record<string, string | undefined> }>(
    `${BASE_PATH}/keys`,
    { config: { operation: 'list' } },
    async (request, reply) => {
      if (!management(request, reply)) return reply
      const parsed = parseListQuery(request.query)
      if (!parsed.ok) return send(reply, 400, parsed.message)
      const { offset, includeDisabled, workspaceId = DEFAULT_WORKSPACE_ID } = parsed.value
      // Ledger order is creation order; most recent first is its reverse.
      const keys = ledger
        .all<ApiKey>('key')
        .reverse()
        .filter((key) => key.workspace_id === workspaceId && (includeDisabled || !key.disabled))
      return { data: keys.slice(offset, offset + PAGE_SIZE) }
    },
  )

  app.get<{ Params: { hash: string } }>(
    `${BASE_PATH}/keys/:hash`,
    { config: { operation: 'getKey' } },
    async (request, reply) => {
      if (!management(request, reply)) return reply
      const key = ledger.get<ApiKey>('key', request.params.hash)
      if (!key) return send(reply, 404, 'API key not found')
      return { data: key }
    },
  )

  app.patch<{ Params: { hash: string } }>(
    `${BASE_PATH}/keys/:hash`,
    { config: { operation: 'updateKeys' } },
    async (request, reply) => {
      if (!management(request, reply)) return reply
      const key = ledger.get<ApiKey>('key', request.params.hash)
      if (!key) return send(reply, 404, 'API key not found')
      const parsed = parseUpdateKey(request.body)
      if (!parsed.ok) return send(reply, 400, parsed.message)
      const next: ApiKey = { ...key, ...parsed.value, updated_at: new Date().toISOString() }
      next.limit_remaining = remaining(next.limit, next.usage)
      ledger.put('key', key.hash, next)
      return { data: next }
    },
  )

  app.delete<{ Params: { hash: string } }>(
    `${BASE_PATH}/keys/:hash`,
    { config: { operation: 'deleteKeys' } },
    async (request, reply) => {
      if (!management(request, reply)) return reply
      if (!ledger.delete('key', request.params.hash)) return send(reply, 404, 'API key not found')
      return { deleted: true }
    },
  )

  // What a caller's own key is: cheap validation of a user-supplied key, and the management flag.
  app.get(`${BASE_PATH}/key`, { config: { operation: 'getCurrentKey' } }, async (request, reply) => {
    const who = caller(request, reply)
    if (!who) return reply
    if (who.kind === 'management')
      return { data: currentKeyView(maskedLabel(state.managementKey), null, true) }
    return { data: currentKeyView(who.key.label, who.key, false) }
  })
}

/** `GET /key`'s `data`: the key's limits and usage plus the management flags. */
function currentKeyView(label: string, key: ApiKey | null, isManagement: boolean) {
  return {
    label,
    limit: key?.limit ?? null,
    limit_remaining: key?.limit_remaining ?? null,
    limit_reset: key?.limit_reset ?? null,
    include_byok_in_limit: key?.include_byok_in_limit ?? false,
    usage: key?.usage ?? 0,
    usage_daily: key?.usage_daily ?? 0,
    usage_weekly: key?.usage_weekly ?? 0,
    usage_monthly: key?.usage_monthly ?? 0,
    byok_usage: key?.byok_usage ?? 0,
    byok_usage_daily: key?.byok_usage_daily ?? 0,
    byok_usage_weekly: key?.byok_usage_weekly ?? 0,
    byok_usage_monthly: key?.byok_usage_monthly ?? 0,
    is_free_tier: false,
    is_management_key: isManagement,
    is_provisioning_key: isManagement,
    expires_at: key?.expires_at ?? null,
    creator_user_id: key?.creator_user_id ?? CREATOR_USER_ID,
    rate_limit: { requests: -1, interval: '10s', note: 'This field is deprecated and safe to ignore.' },
  }
}
