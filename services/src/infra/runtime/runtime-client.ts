import type { Dispatcher } from 'undici'
import { createJsonClient } from '../http/json-client.js'
import { ProviderError } from '../http/provider-error.js'

/** What the runtime's `POST /pool/provision` answers once it has joined or opened a conversation. */
export interface RuntimeProvisionAnswer {
  ok: boolean
  inviteUrl: string | null
  conversationId: string | null
  joined: boolean
}

export interface RuntimeClientOptions {
  /** Shared keep-alive dispatcher (tests bring their own); default: undici's global one. */
  dispatcher?: Dispatcher
  /** A restart or a provision waits for the agent's gateway, which can take a while. Default 60 s. */
  timeoutMs?: number
}

/**
 * Calls a running instance's pool routes (providers.md §6) with the instance's own runtime credential
 * (its `POOL_API_KEY`, never the pool's key). Failures are coded ProviderErrors from `runtime`: a 503
 * "gateway not ready" arrives as retryable PROVIDER_UNAVAILABLE.
 */
export function createRuntimeClient(options: RuntimeClientOptions = {}) {
  const clientFor = (url: string, credential: string | undefined) =>
    createJsonClient({
      provider: 'runtime',
      baseUrl: url.replace(/\/+$/, ''),
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    })

  return {
    /** Merges `env` into the agent's environment and restarts its gateway (`""` clears a variable). */
    async restartGateway(url: string, credential: string | undefined, env: Record<string, string>) {
      await clientFor(url, credential).request({
        operation: 'restartGateway',
        method: 'POST',
        path: '/pool/restart-gateway',
        body: { env },
      })
    },

    /** Names the agent, gives it its instructions and opens (or joins) its conversation. */
    async provision(
      url: string,
      credential: string | undefined,
      body: { agentName: string; instructions: string; joinUrl?: string },
    ): Promise<RuntimeProvisionAnswer> {
      const response = await clientFor(url, credential).request<RuntimeProvisionAnswer>({
        operation: 'provision',
        method: 'POST',
        path: '/pool/provision',
        body,
      })
      if (!isProvisionAnswer(response.body)) {
        throw new ProviderError({
          code: 'PROVIDER_BAD_RESPONSE',
          provider: 'runtime',
          operation: 'provision',
          message: 'the answer is not {ok, inviteUrl, conversationId, joined}',
        })
      }
      return response.body
    },
  }
}

export type RuntimeClient = ReturnType<typeof createRuntimeClient>

const stringOrNull = (value: unknown) => value === null || typeof value === 'string'

function isProvisionAnswer(body: unknown): body is RuntimeProvisionAnswer {
  if (!body || typeof body !== 'object') return false
  const answer = body as Record<string, unknown>
  return (
    typeof answer.ok === 'boolean' &&
    typeof answer.joined === 'boolean' &&
    stringOrNull(answer.inviteUrl ?? null) &&
    stringOrNull(answer.conversationId ?? null)
  )
}
