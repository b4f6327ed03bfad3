import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
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
import { toChecksumAddress } from './wallet.js'

/** What a partner wallet's own API key may do (Bankr's key flags). */
export interface BankrKeyPermissions {
  agentApiEnabled: boolean
  llmGatewayEnabled: boolean
  tokenLaunchApiEnabled: boolean
  readOnly: boolean
}

export interface CryptoPluginOptions {
  /** e.g. `https://api.bankr.bot` */
  apiUrl: string
  /** The partner key (`bk_ptr_…`). */
  partnerKey: string
  dispatcher?: Dispatcher
  /** The permissions of each wallet's own key. Default: agent API on, LLM gateway and token launch off. */
  permissions?: Partial<BankrKeyPermissions>
  retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>
  timeoutMs?: number
}

/** The fields of a Bankr partner wallet this plugin reads. */
interface BankrWallet {
  id: string
  evmAddress: string
  apiKey?: string
}

const PROVIDER = 'bankr'
/** The emulated list route takes 1 to 100 (Bankr documents no list route; see the plugin's note). */
const LIST_PAGE_SIZE = 100
/** A server that keeps handing out cursors must not keep the reconciler busy forever. */
const MAX_PAGES = 10_000
/** Resource ids of user-mode wallets: the user's own account, which services never deletes. */
const USER_PREFIX = 'user:'
/** Bankr limits idempotencyKey to 128 characters. */
const MAX_IDEMPOTENCY_KEY = 128
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * The `crypto` tool: one Bankr partner wallet per instance, with its own API key. Bankr's idempotency
 * does the work: the create carries `idempotencyKey`, and a repeat returns the same wallet, so `create`
 * may simply be retried.
 *
 * The wallet's key is a secret Bankr most likely shows only when the wallet is made. A repeat create (or
 * `find`) then returns the wallet without it: the resource's `env` lacks `BANKR_API_KEY`, which tells the
 * caller to destroy and recreate (a deleted wallet frees its idempotencyKey, in the emulator at least).
 *
 * Only the create call is documented by Bankr; get, list-by-idempotencyKey and delete are assumed (see
 * emulators/src/bankr), so this plugin uses as few of them as it can: `find` lists by key, `destroy`
 * deletes by id.
 */
export function createCryptoPlugin(options: CryptoPluginOptions): ToolPlugin {
  const baseUrl = options.apiUrl.replace(/\/+$/, '')
  const clientWith = (headers: Record<string, string>) =>
    createJsonClient({
      provider: PROVIDER,
      baseUrl,
      headers,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    })
  const partner = clientWith({ 'x-partner-key': options.partnerKey })
  const retry: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry }
  const retried = async (client: ReturnType<typeof clientWith>, call: JsonRequest) =>
    (await withRetries(() => client.request<unknown>(call), retry)).body
  const permissions: BankrKeyPermissions = {
    agentApiEnabled: true,
    llmGatewayEnabled: false,
    tokenLaunchApiEnabled: false,
    // The agent transacts through its wallet; a read-only key (Bankr's default) could not.
    readOnly: false,
    ...options.permissions,
  }

  const resourceOf = (wallet: BankrWallet): ProvisionedResource => {
    const walletAddress = toChecksumAddress(wallet.evmAddress)
    return {
      resourceId: wallet.id,
      config: { walletAddress },
      env: {
        ...(wallet.apiKey ? { BANKR_API_KEY: wallet.apiKey } : {}),
        BANKR_WALLET_ADDRESS: walletAddress,
      },
    }
  }

  async function deleteWallet(walletId: string): Promise<'destroyed' | 'gone'> {
    try {
      await retried(partner, {
        operation: 'deleteWallet',
        method: 'DELETE',
        path: `/partner/wallets/${encodeURIComponent(walletId)}`,
      })
      return 'destroyed'
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'PROVIDER_NOT_FOUND') return 'gone'
      throw error
    }
  }

  return {
    toolId: 'crypto',

    async create(input: CreateInput): Promise<ProvisionedResource> {
      const body = await retried(partner, {
        operation: 'createWallet',
        method: 'POST',
        path: '/partner/wallets',
        body: { idempotencyKey: bankrIdempotencyKey(input.idempotencyKey), apiKey: { permissions } },
      })
      return resourceOf(readWallet(body, 'createWallet'))
    },

    /** A create would make the wallet if it is missing, so `find` lists by idempotencyKey instead. */
    async find(input): Promise<ProvisionedResource | undefined> {
      const body = (await retried(partner, {
        operation: 'listWallets',
        method: 'GET',
        path: '/partner/wallets',
        query: { idempotencyKey: bankrIdempotencyKey(input.idempotencyKey) },
      })) as { wallets?: unknown } | undefined
      if (!Array.isArray(body?.wallets)) throw badResponse('listWallets', 'wallets is not a list')
      const [first] = body.wallets
      if (first === undefined) return undefined
      // Never the key: it was shown once, to the attempt that crashed.
      const { apiKey: _secret, ...wallet } = readWallet(first, 'listWallets')
      return resourceOf(wallet)
    },

    async destroy(resource: ResourceRef): Promise<'destroyed' | 'gone'> {
      if (resource.resourceId.startsWith(USER_PREFIX)) return 'gone'
      return deleteWallet(resource.resourceId)
    },

    /**
     * The partner's wallets whose idempotencyKey is one services makes (instance ids are at most 64
     * characters, so services' keys are never hashed by `bankrIdempotencyKey`); all pages.
     */
    async inventory(): Promise<MarkedResource[]> {
      const marked: MarkedResource[] = []
      let cursor: string | undefined
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = (await retried(partner, {
          operation: 'listWallets',
          method: 'GET',
          path: '/partner/wallets',
          query: { limit: LIST_PAGE_SIZE, cursor },
        })) as { wallets?: unknown; nextCursor?: unknown } | undefined
        if (!Array.isArray(body?.wallets)) throw badResponse('listWallets', 'wallets is not a list')
        for (const item of body.wallets) {
          const idempotencyKey = (item as { idempotencyKey?: unknown } | null)?.idempotencyKey
          if (!isIdempotencyKey(idempotencyKey)) continue
          const { apiKey: _secret, ...wallet } = readWallet(item, 'listWallets')
          const { resourceId, config } = resourceOf(wallet)
          marked.push({ resourceId, config, idempotencyKey })
        }
        if (typeof body.nextCursor !== 'string' || body.nextCursor === '') return marked
        cursor = body.nextCursor
      }
      throw badResponse('listWallets', `more than ${MAX_PAGES} pages of wallets`)
    },

    async deleteOrphan(resource: MarkedResource) {
      return deleteWallet(resource.resourceId)
    },

    /**
     * `user` mode: the caller's own key and wallet, checked with one `GET /wallet/me` using that key. A
     * refused key is PROVIDER_UNAUTHORIZED; a key for another wallet is PROVIDER_REJECTED.
     */
    async useUserConfig(
      _instanceId: string,
      userConfig: Record<string, unknown>,
    ): Promise<ProvisionedResource> {
      const { apiKey, walletAddress } = userConfig
      if (typeof apiKey !== 'string' || apiKey.length === 0) throw rejected('walletMe', 'apiKey is required')
      if (typeof walletAddress !== 'string' || !EVM_ADDRESS.test(walletAddress)) {
        throw rejected('walletMe', 'walletAddress must be an EVM address')
      }
      const me = (await retried(clientWith({ 'x-api-key': apiKey }), {
        operation: 'walletMe',
        method: 'GET',
        path: '/wallet/me',
      })) as { evmAddress?: unknown } | undefined
      if (typeof me?.evmAddress !== 'string' || !EVM_ADDRESS.test(me.evmAddress)) {
        throw badResponse('walletMe', 'no evmAddress')
      }
      if (me.evmAddress.toLowerCase() !== walletAddress.toLowerCase()) {
        throw rejected('walletMe', 'the API key belongs to another wallet')
      }
      const address = toChecksumAddress(walletAddress)
      return {
        resourceId: `${USER_PREFIX}${address}`,
        config: { walletAddress: address },
        env: { BANKR_API_KEY: apiKey, BANKR_WALLET_ADDRESS: address },
      }
    },
  }
}

/**
 * The idempotency key as Bankr takes it: unchanged up to 128 characters, else a SHA-256 of it (still
 * deterministic, so a retry sends the same value).
 */
export function bankrIdempotencyKey(idempotencyKey: string): string {
  if (idempotencyKey.length <= MAX_IDEMPOTENCY_KEY) return idempotencyKey
  return `sha256-${createHash('sha256').update(idempotencyKey).digest('hex')}`
}

function readWallet(value: unknown, operation: string): BankrWallet {
  const wallet = value as Partial<Record<keyof BankrWallet, unknown>> | undefined
  if (typeof wallet?.id !== 'string' || wallet.id.length === 0)
    throw badResponse(operation, 'a wallet without id')
  if (typeof wallet.evmAddress !== 'string' || !EVM_ADDRESS.test(wallet.evmAddress)) {
    throw badResponse(operation, 'a wallet without an EVM address')
  }
  return {
    id: wallet.id,
    evmAddress: wallet.evmAddress,
    ...(typeof wallet.apiKey === 'string' && wallet.apiKey.length > 0 ? { apiKey: wallet.apiKey } : {}),
  }
}

function badResponse(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_BAD_RESPONSE', provider: PROVIDER, operation, message })
}

function rejected(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_REJECTED', provider: PROVIDER, operation, message })
}
