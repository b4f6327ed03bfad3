import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import type { ToolConfig } from '../generated/schemas.js'
import { createJsonClient, type JsonRequest } from '../infra/http/json-client.js'
import { ProviderError } from '../infra/http/provider-error.js'
import { type RetryOptions, withRetries } from '../infra/http/retry.js'
import {
  type CreateInput,
  isIdempotencyKey,
  type MarkedResource,
  type ProvisionedResource,
  type ResourceRef,
  type ToolPlugin,
} from './tool-plugin.js'

export type LimitReset = 'daily' | 'weekly' | 'monthly' | null

export interface OpenRouterPluginOptions {
  /** e.g. `https://openrouter.ai/api/v1` */
  apiUrl: string
  /** A management key: it can manage keys but cannot make completions. */
  managementKey: string
  dispatcher?: Dispatcher
  /** Key limits when the provision request gives none. */
  defaults?: { limitUsd?: number | null; limitReset?: LimitReset }
  retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>
  timeoutMs?: number
}

/** The fields of OpenRouter's `ApiKey` this plugin reads. */
interface ApiKey {
  hash: string
  name: string
  limit: number | null
  limit_reset: string | null
}

const PROVIDER = 'openrouter'
/** Resource ids of user-mode keys: the user's own key, which services never deletes or changes. */
const USER_PREFIX = 'user:'
/** 100,000 keys at 100 per page: past that, a server ignoring `offset` would otherwise loop forever. */
const MAX_PAGES = 1000
const RESETS = new Set(['daily', 'weekly', 'monthly'])

/**
 * The `openrouter` tool: one inference key per instance, made with the pool's management key.
 *
 * OpenRouter has no idempotency key, and it shows a key's plaintext once, in the create response. So the
 * key's `name` carries the idempotency key, and `create` first looks for keys with that name: such a key
 * is the leftover of an earlier attempt whose answer was lost (crash, timeout, reset), and since its secret
 * can never be read again it is useless to the instance. It is deleted and a fresh key is created; a retry
 * therefore never leaves two keys behind, but returns a new `resourceId`, which the caller records. This
 * relies on the caller never running two creates for the same instance and tool at once.
 */
export function createOpenRouterPlugin(options: OpenRouterPluginOptions): ToolPlugin {
  const client = createJsonClient({
    provider: PROVIDER,
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.managementKey}` },
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  })
  const retry: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry }
  /** GET, PATCH and DELETE are idempotent: retried on their own when the failure is retryable. */
  const idempotent = async <T>(call: JsonRequest) =>
    (await withRetries(() => client.request<T>(call), retry)).body

  /** Every key (disabled ones included) that `keep` accepts, newest first. Pages until an empty page. */
  async function keysWhere(keep: (key: ApiKey) => boolean): Promise<ApiKey[]> {
    const found: ApiKey[] = []
    let offset = 0
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await idempotent<unknown>({
        operation: 'listKeys',
        method: 'GET',
        path: '/keys',
        query: { offset, include_disabled: 'true' },
      })
      const keys = readKeyList(body)
      // OpenRouter gives no total: the first empty page is the end. Advancing by what came back (100 today)
      // stays right if the page size ever changes.
      if (keys.length === 0) return found
      found.push(...keys.filter(keep))
      offset += keys.length
    }
    throw badResponse('listKeys', `more than ${MAX_PAGES} pages of keys`)
  }
  const keysNamed = (name: string) => keysWhere((key) => key.name === name)

  async function deleteKey(hash: string): Promise<'destroyed' | 'gone'> {
    try {
      await idempotent({
        operation: 'deleteKey',
        method: 'DELETE',
        path: `/keys/${encodeURIComponent(hash)}`,
      })
      return 'destroyed'
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'PROVIDER_NOT_FOUND') return 'gone'
      throw error
    }
  }

  return {
    toolId: 'openrouter',

    async create(input: CreateInput): Promise<ProvisionedResource> {
      const limits = limitsFrom(input.options ?? {}, options.defaults ?? {}, 'createKey')
      const name = input.idempotencyKey
      // The whole sequence is the retry unit when the POST fails: after a lost answer, the next attempt's
      // look-up finds the key that POST made and removes it before creating again. (Look-up and delete
      // failures were already retried on their own.)
      const afterFailedPost = (error: unknown) =>
        error instanceof ProviderError && error.retryable && error.operation === 'createKey'
      return withRetries(
        async () => {
          for (const stale of await keysNamed(name)) await deleteKey(stale.hash)
          const { body } = await client.request<unknown>({
            operation: 'createKey',
            method: 'POST',
            path: '/keys',
            body: createBody(name, limits),
          })
          const { key, data } = readCreated(body)
          return { resourceId: data.hash, config: configOf(data), env: { OPENROUTER_API_KEY: key } }
        },
        { ...retry, shouldRetry: afterFailedPost },
      )
    },

    async find(input): Promise<ProvisionedResource | undefined> {
      const [key] = await keysNamed(input.idempotencyKey)
      if (!key) return undefined
      // The plaintext went to the attempt that crashed: without it in `env`, recovery releases and recreates.
      return { resourceId: key.hash, config: configOf(key), env: {} }
    },

    /** Keys whose name is an idempotency key services makes (services names every key it creates so). */
    async inventory(): Promise<MarkedResource[]> {
      const keys = await keysWhere((key) => isIdempotencyKey(key.name))
      return keys.map((key) => ({ resourceId: key.hash, config: configOf(key), idempotencyKey: key.name }))
    },

    async deleteOrphan(resource: MarkedResource) {
      return deleteKey(resource.resourceId)
    },

    async destroy(resource: ResourceRef): Promise<'destroyed' | 'gone'> {
      if (resource.resourceId.startsWith(USER_PREFIX)) return 'gone'
      const result = await deleteKey(resource.resourceId)
      // A createKey still in flight when its attempt died (or timed out) can land after the next attempt
      // looked for keys of this name and made another: that twin is recorded nowhere but carries the same
      // name. A release leaves no key of the resource behind.
      const name = resource.config.name
      if (typeof name === 'string' && name !== '') {
        for (const twin of await keysNamed(name)) await deleteKey(twin.hash)
      }
      return result
    },

    /** Changes the key's limit and reset period. `env` is empty: the plaintext cannot be read back, and the
     * instance's existing key stays valid. */
    async update(resource: ResourceRef, changes: Record<string, unknown>): Promise<ProvisionedResource> {
      if (resource.resourceId.startsWith(USER_PREFIX)) {
        throw rejected('updateKey', "a user's own key is not managed by services")
      }
      const path = `/keys/${encodeURIComponent(resource.resourceId)}`
      const patch = patchBody(changes)
      const body =
        Object.keys(patch).length === 0
          ? await idempotent<unknown>({ operation: 'getKey', method: 'GET', path })
          : await idempotent<unknown>({ operation: 'updateKey', method: 'PATCH', path, body: patch })
      const data = readKey((body as { data?: unknown } | undefined)?.data, 'updateKey')
      return { resourceId: data.hash, config: configOf(data), env: {} }
    },

    /** `user` mode: the caller's own inference key, checked with `GET /key` (it costs nothing). */
    async useUserConfig(
      instanceId: string,
      userConfig: Record<string, unknown>,
    ): Promise<ProvisionedResource> {
      const apiKey = userConfig.apiKey
      if (typeof apiKey !== 'string' || apiKey.length === 0)
        throw rejected('getCurrentKey', 'apiKey is required')
      const body = await idempotent<{ data?: Record<string, unknown> }>({
        operation: 'getCurrentKey',
        method: 'GET',
        path: '/key',
        headers: { authorization: `Bearer ${apiKey}` },
      })
      const data = body?.data
      if (!data || typeof data !== 'object') throw badResponse('getCurrentKey', 'no data')
      if (data.is_management_key === true || data.is_provisioning_key === true) {
        throw rejected('getCurrentKey', 'a management key cannot make completions; supply an inference key')
      }
      // An id for the pair (instance, key) that does not reveal the key.
      const digest = createHash('sha256').update(`${instanceId}\0${apiKey}`).digest('hex').slice(0, 24)
      return {
        resourceId: `${USER_PREFIX}${digest}`,
        config: {
          limitUsd: typeof data.limit === 'number' ? data.limit : null,
          limitReset: typeof data.limit_reset === 'string' ? data.limit_reset : null,
        },
        env: { OPENROUTER_API_KEY: apiKey },
      }
    },
  }
}

interface Limits {
  limitUsd: number | null
  limitReset: LimitReset
}

/** The request's options over the configured defaults; no limit and no reset when neither says. */
function limitsFrom(
  requested: Record<string, unknown>,
  defaults: { limitUsd?: number | null; limitReset?: LimitReset },
  operation: string,
): Limits {
  const limitUsd = 'limitUsd' in requested ? requested.limitUsd : (defaults.limitUsd ?? null)
  const limitReset = 'limitReset' in requested ? requested.limitReset : (defaults.limitReset ?? null)
  if (limitUsd !== null && (typeof limitUsd !== 'number' || !Number.isFinite(limitUsd) || limitUsd < 0)) {
    throw rejected(operation, 'limitUsd must be a non-negative number or null')
  }
  if (limitReset !== null && !RESETS.has(limitReset as string)) {
    throw rejected(operation, 'limitReset must be daily, weekly, monthly or null')
  }
  return { limitUsd, limitReset: limitReset as LimitReset }
}

/**
 * `limit` is always sent (null = no limit). `limit_reset` only with a limit: a reset period without a limit
 * means nothing, and whether OpenRouter accepts the pair is an open question (providers.md).
 */
function createBody(name: string, limits: Limits): Record<string, unknown> {
  return {
    name,
    limit: limits.limitUsd,
    ...(limits.limitUsd !== null && limits.limitReset !== null ? { limit_reset: limits.limitReset } : {}),
  }
}

function patchBody(changes: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if ('limitUsd' in changes || 'limitReset' in changes) {
    const limits = limitsFrom(changes, {}, 'updateKey')
    if ('limitUsd' in changes) body.limit = limits.limitUsd
    if ('limitReset' in changes) body.limit_reset = limits.limitReset
  }
  return body
}

function configOf(key: ApiKey): ToolConfig {
  return { limitUsd: key.limit, limitReset: key.limit_reset, name: key.name }
}

function readCreated(body: unknown): { key: string; data: ApiKey } {
  const record = body as { key?: unknown; data?: unknown } | undefined
  if (typeof record?.key !== 'string' || record.key.length === 0) {
    throw badResponse('createKey', 'no key in the response')
  }
  return { key: record.key, data: readKey(record.data, 'createKey') }
}

function readKeyList(body: unknown): ApiKey[] {
  const data = (body as { data?: unknown } | undefined)?.data
  if (!Array.isArray(data)) throw badResponse('listKeys', 'data is not a list')
  return data.map((item) => readKey(item, 'listKeys'))
}

function readKey(value: unknown, operation: string): ApiKey {
  const key = value as Partial<ApiKey> | undefined
  if (typeof key?.hash !== 'string' || key.hash.length === 0 || typeof key.name !== 'string') {
    throw badResponse(operation, 'a key without hash or name')
  }
  return {
    hash: key.hash,
    name: key.name,
    limit: typeof key.limit === 'number' ? key.limit : null,
    limit_reset: typeof key.limit_reset === 'string' ? key.limit_reset : null,
  }
}

function badResponse(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_BAD_RESPONSE', provider: PROVIDER, operation, message })
}

function rejected(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_REJECTED', provider: PROVIDER, operation, message })
}
