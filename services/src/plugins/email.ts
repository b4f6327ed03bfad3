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

export interface EmailPluginOptions {
  /** e.g. `https://api.agentmail.to/v0` */
  apiUrl: string
  /** The pool's AgentMail API key. */
  apiKey: string
  dispatcher?: Dispatcher
  /** A verified domain for new inboxes; AgentMail's default (`agentmail.to`) when unset. */
  domain?: string
  retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>
  timeoutMs?: number
}

/** The fields of AgentMail's Inbox this plugin reads. */
interface Inbox {
  inbox_id: string
  email?: string
  client_id?: string
}

const PROVIDER = 'agentmail'
/** Resource ids of user-mode inboxes: the user's own inbox, which services never deletes. */
const USER_PREFIX = 'user:'
/** A server that keeps handing out page tokens must not keep `find` busy forever. */
const MAX_PAGES = 10_000

/**
 * The `email` tool: one AgentMail inbox per instance. AgentMail's own idempotency does the work: the
 * create carries `client_id` (derived from the idempotency key), and a repeat with the same `client_id`
 * returns the original inbox and creates nothing, so `create` may simply be retried.
 */
export function createEmailPlugin(options: EmailPluginOptions): ToolPlugin {
  const client = createJsonClient({
    provider: PROVIDER,
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  })
  const retry: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry }
  const retried = async <T>(call: JsonRequest) =>
    (await withRetries(() => client.request<T>(call), retry)).body

  // The runtime reads AGENTMAIL_API_KEY today, so the instance gets the pool's key. A key scoped to the one
  // inbox would be better (a leaked instance could not read other inboxes); switch when AgentMail offers it.
  const resourceOf = (inbox: Inbox): ProvisionedResource => ({
    resourceId: inbox.inbox_id,
    config: configOf(inbox),
    env: { AGENTMAIL_API_KEY: options.apiKey, AGENTMAIL_INBOX_ID: inbox.inbox_id },
  })

  /** Reads inboxes page by page (following `next_page_token`) while `visit` returns true. */
  async function eachInboxPage(visit: (inboxes: Inbox[]) => boolean): Promise<void> {
    let pageToken: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      // No `limit`: the provider's default page size can never be refused, and listing is rare.
      const body = await retried<unknown>({
        operation: 'listInboxes',
        method: 'GET',
        path: '/inboxes',
        query: { page_token: pageToken },
      })
      const { inboxes, next } = readList(body)
      if (!visit(inboxes) || !next) return
      pageToken = next
    }
    throw badResponse('listInboxes', `more than ${MAX_PAGES} pages of inboxes`)
  }

  async function deleteInbox(inboxId: string): Promise<'destroyed' | 'gone'> {
    try {
      await retried({ operation: 'deleteInbox', method: 'DELETE', path: inboxPath(inboxId) })
      return 'destroyed'
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'PROVIDER_NOT_FOUND') return 'gone'
      throw error
    }
  }

  return {
    toolId: 'email',

    async create(input: CreateInput): Promise<ProvisionedResource> {
      const displayName =
        typeof input.options?.displayName === 'string'
          ? input.options.displayName
          : `Agent ${input.instanceId}`
      const body = await retried<unknown>({
        operation: 'createInbox',
        method: 'POST',
        path: '/inboxes',
        body: {
          client_id: clientIdFor(input.idempotencyKey),
          display_name: displayName,
          ...(options.domain ? { domain: options.domain } : {}),
          // Lets an operator tell which instance an inbox belongs to in AgentMail's console.
          metadata: { instance_id: input.instanceId },
        },
      }).catch((error: unknown) => {
        throw capReached(error) ?? error
      })
      return resourceOf(readInbox(body, 'createInbox'))
    },

    /**
     * A create with the same `client_id` would make the inbox if it is missing, so `find` lists instead,
     * following `next_page_token` through every page.
     */
    async find(input): Promise<ProvisionedResource | undefined> {
      const clientId = clientIdFor(input.idempotencyKey)
      let match: Inbox | undefined
      await eachInboxPage((inboxes) => {
        match = inboxes.find((inbox) => inbox.client_id === clientId)
        return match === undefined
      })
      return match && resourceOf(match)
    },

    /** Inboxes whose `client_id` decodes to an idempotency key services makes; all pages. */
    async inventory(): Promise<MarkedResource[]> {
      const marked: MarkedResource[] = []
      await eachInboxPage((inboxes) => {
        for (const inbox of inboxes) {
          const idempotencyKey = idempotencyKeyOf(inbox.client_id)
          if (idempotencyKey)
            marked.push({ resourceId: inbox.inbox_id, config: configOf(inbox), idempotencyKey })
        }
        return true
      })
      return marked
    },

    async deleteOrphan(resource: MarkedResource) {
      return deleteInbox(resource.resourceId)
    },

    async destroy(resource: ResourceRef): Promise<'destroyed' | 'gone'> {
      if (resource.resourceId.startsWith(USER_PREFIX)) return 'gone'
      return deleteInbox(resource.resourceId)
    },

    /** `user` mode: the caller's own key and inbox, checked by reading the inbox with that key. */
    async useUserConfig(
      _instanceId: string,
      userConfig: Record<string, unknown>,
    ): Promise<ProvisionedResource> {
      const { apiKey, inboxId } = userConfig
      if (typeof apiKey !== 'string' || apiKey.length === 0) throw rejected('getInbox', 'apiKey is required')
      if (typeof inboxId !== 'string' || inboxId.length === 0)
        throw rejected('getInbox', 'inboxId is required')
      let body: unknown
      try {
        body = await retried<unknown>({
          operation: 'getInbox',
          method: 'GET',
          path: inboxPath(inboxId),
          headers: { authorization: `Bearer ${apiKey}` },
        })
      } catch (error) {
        // AgentMail answers 404 for an inbox outside the key's scope too: either way this key cannot use it.
        if (error instanceof ProviderError && error.code === 'PROVIDER_NOT_FOUND') {
          throw new ProviderError({
            code: 'PROVIDER_REJECTED',
            provider: PROVIDER,
            operation: 'getInbox',
            message: 'this API key has no such inbox',
            ...(error.status !== undefined ? { status: error.status } : {}),
            ...(error.providerCode !== undefined ? { providerCode: error.providerCode } : {}),
          })
        }
        throw error
      }
      const inbox = readInbox(body, 'getInbox')
      return {
        resourceId: `${USER_PREFIX}${inbox.inbox_id}`,
        config: configOf(inbox),
        env: { AGENTMAIL_API_KEY: apiKey, AGENTMAIL_INBOX_ID: inbox.inbox_id },
      }
    },
  }
}

/**
 * AgentMail's `client_id` must not contain `@`. `encodeURIComponent` removes it and is one-to-one, so two
 * idempotency keys never share a `client_id`; keys made of letters, digits and `-_.!~*'()` pass unchanged.
 */
export function clientIdFor(idempotencyKey: string): string {
  return encodeURIComponent(idempotencyKey)
}

/** The idempotency key a `client_id` was made from, when it was made by `clientIdFor`; else undefined. */
export function idempotencyKeyOf(clientId: string | undefined): string | undefined {
  if (clientId === undefined) return undefined
  try {
    const key = decodeURIComponent(clientId)
    return isIdempotencyKey(key) && clientIdFor(key) === clientId ? key : undefined
  } catch {
    return undefined
  }
}

/** The inbox id is an address: its `@` (and anything else) is URL-encoded in the path. */
function inboxPath(inboxId: string): string {
  return `/inboxes/${encodeURIComponent(inboxId)}`
}

function configOf(inbox: Inbox): ToolConfig {
  return { inboxId: inbox.inbox_id, email: inbox.email ?? inbox.inbox_id }
}

/** The plan's inbox cap is a refusal to act on, not a credential problem (403 would map to UNAUTHORIZED). */
function capReached(error: unknown): ProviderError | undefined {
  if (!(error instanceof ProviderError) || error.providerCode !== 'limit_exceeded') return undefined
  return new ProviderError({
    code: 'PROVIDER_REJECTED',
    provider: PROVIDER,
    operation: error.operation,
    message: 'the AgentMail plan’s inbox limit is reached',
    providerCode: error.providerCode,
    ...(error.status !== undefined ? { status: error.status } : {}),
  })
}

function readInbox(value: unknown, operation: string): Inbox {
  const inbox = value as Partial<Inbox> | undefined
  if (typeof inbox?.inbox_id !== 'string' || inbox.inbox_id.length === 0) {
    throw badResponse(operation, 'an inbox without inbox_id')
  }
  return {
    inbox_id: inbox.inbox_id,
    ...(typeof inbox.email === 'string' ? { email: inbox.email } : {}),
    ...(typeof inbox.client_id === 'string' ? { client_id: inbox.client_id } : {}),
  }
}

function readList(body: unknown): { inboxes: Inbox[]; next: string | undefined } {
  const record = body as { inboxes?: unknown; next_page_token?: unknown } | undefined
  if (!Array.isArray(record?.inboxes)) throw badResponse('listInboxes', 'inboxes is not a list')
  const next = record.next_page_token
  return {
    inboxes: record.inboxes.map((inbox) => readInbox(inbox, 'listInboxes')),
    next: typeof next === 'string' && next.length > 0 ? next : undefined,
  }
}

function badResponse(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_BAD_RESPONSE', provider: PROVIDER, operation, message })
}

function rejected(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_REJECTED', provider: PROVIDER, operation, message })
}
