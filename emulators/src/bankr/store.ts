import { randomBytes } from 'node:crypto'
import type { Ledger } from '../kit/ledger.js'

export type BankrKinds = 'wallet' | 'apiKey'

export interface ApiKeyPermissions {
  agentApiEnabled: boolean
  llmGatewayEnabled: boolean
  tokenLaunchApiEnabled: boolean
  readOnly: boolean
}

/** A partner wallet as the API shows it (never with its API key, which is shown once, at creation). */
export interface Wallet {
  id: string
  evmAddress: string
  solanaAddress?: string
  // UNDOCUMENTED: emulated plausibly — the create page's response was only partly visible.
  idempotencyKey?: string
  apiKeyPermissions?: ApiKeyPermissions
  allowedIps?: string[]
  allowedRecipients?: { evm: string[]; solana: string[] }
  createdAt: string
}

/** A live API key (`bk_usr_…`) and the wallet it opens; the ledger keeps it by the key's id. */
export interface ApiKeyRecord {
  id: string
  walletId: string | null
  evmAddress: string
  solanaAddress?: string
  permissions: ApiKeyPermissions
}

export interface CreateWalletInput {
  idempotencyKey?: string
  solana: boolean
  apiKey?: {
    permissions: ApiKeyPermissions
    allowedIps?: string[]
    allowedRecipients?: { evm: string[]; solana: string[] }
  }
}

export type CreateOutcome =
  | { kind: 'created'; wallet: Wallet; apiKey?: string }
  | { kind: 'existing'; wallet: Wallet; apiKey?: string }

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The partner's wallets and every API key the emulator knows (partner-made and users' own). */
export class BankrStore {
  readonly #ledger: Ledger<BankrKinds>
  /** Plaintext key → key id (a real service keeps a hash; the emulator needs only the lookup). */
  readonly #keys = new Map<string, string>()
  /** idempotencyKey → wallet id, for live wallets only (a deleted wallet frees its key). */
  readonly #byIdempotencyKey = new Map<string, string>()
  /** Wallet id → its key, kept only when `replayApiKey` is on. */
  readonly #replayable = new Map<string, string>()
  readonly #replayApiKey: boolean

  constructor(ledger: Ledger<BankrKinds>, options: { replayApiKey: boolean }) {
    this.#ledger = ledger
    this.#replayApiKey = options.replayApiKey
  }

  createWallet(input: CreateWalletInput): CreateOutcome {
    const existingId = input.idempotencyKey ? this.#byIdempotencyKey.get(input.idempotencyKey) : undefined
    const existing = existingId ? this.getWallet(existingId) : undefined
    if (existing) {
      // UNDOCUMENTED: emulated plausibly — a replay answers 200 with the same wallet; its key is shown once
      // only (unless `replayApiKey`, which emulates a provider that replays the first answer whole).
      const replayed = this.#replayable.get(existing.id)
      return { kind: 'existing', wallet: existing, ...(replayed ? { apiKey: replayed } : {}) }
    }
    const wallet: Wallet = {
      id: `wlt_${randomId(24)}`,
      evmAddress: `0x${randomBytes(20).toString('hex')}`,
      ...(input.solana ? { solanaAddress: base58(randomBytes(32)) } : {}),
      ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      ...(input.apiKey ? { apiKeyPermissions: input.apiKey.permissions } : {}),
      ...(input.apiKey?.allowedIps ? { allowedIps: input.apiKey.allowedIps } : {}),
      ...(input.apiKey?.allowedRecipients ? { allowedRecipients: input.apiKey.allowedRecipients } : {}),
      createdAt: new Date().toISOString(),
    }
    this.#ledger.put('wallet', wallet.id, wallet)
    if (input.idempotencyKey) this.#byIdempotencyKey.set(input.idempotencyKey, wallet.id)
    if (!input.apiKey) return { kind: 'created', wallet }
    // UNDOCUMENTED: emulated plausibly — a per-wallet key `bk_usr_<8>_<32>` (1claw docs), shown once.
    const apiKey = this.#issueKey(wallet, input.apiKey.permissions)
    if (this.#replayApiKey) this.#replayable.set(wallet.id, apiKey)
    return { kind: 'created', wallet, apiKey }
  }

  /** A user's own Bankr account (dashboard key), for user mode: its key and wallet address. */
  createUserAccount(): { apiKey: string; evmAddress: string } {
    const evmAddress = `0x${randomBytes(20).toString('hex')}`
    const permissions = {
      agentApiEnabled: true,
      llmGatewayEnabled: false,
      tokenLaunchApiEnabled: false,
      readOnly: false,
    }
    const id = `key_${randomId(16)}`
    const apiKey = `bk_${randomId(32)}`
    this.#keys.set(apiKey, id)
    this.#ledger.put('apiKey', id, { id, walletId: null, evmAddress, permissions } satisfies ApiKeyRecord)
    return { apiKey, evmAddress }
  }

  getWallet(id: string): Wallet | undefined {
    return this.#ledger.get<Wallet>('wallet', id)
  }

  /** Live wallets, oldest first. */
  wallets(): Wallet[] {
    return this.#ledger.all<Wallet>('wallet')
  }

  /** UNDOCUMENTED: emulated plausibly — deleting a wallet revokes its key and frees its idempotencyKey. */
  deleteWallet(wallet: Wallet) {
    this.#ledger.delete('wallet', wallet.id)
    if (wallet.idempotencyKey) this.#byIdempotencyKey.delete(wallet.idempotencyKey)
    this.#replayable.delete(wallet.id)
    for (const [apiKey, id] of this.#keys) {
      const record = this.#ledger.get<ApiKeyRecord>('apiKey', id)
      if (record?.walletId === wallet.id) {
        this.#keys.delete(apiKey)
        this.#ledger.delete('apiKey', id)
      }
    }
  }

  /** The live key record of a plaintext key, or undefined. */
  keyRecord(apiKey: string): ApiKeyRecord | undefined {
    const id = this.#keys.get(apiKey)
    return id ? this.#ledger.get<ApiKeyRecord>('apiKey', id) : undefined
  }

  #issueKey(wallet: Wallet, permissions: ApiKeyPermissions): string {
    const id = randomId(8)
    const apiKey = `bk_usr_${id}_${randomId(32)}`
    this.#keys.set(apiKey, id)
    this.#ledger.put('apiKey', id, {
      id,
      walletId: wallet.id,
      evmAddress: wallet.evmAddress,
      ...(wallet.solanaAddress ? { solanaAddress: wallet.solanaAddress } : {}),
      permissions,
    } satisfies ApiKeyRecord)
    return apiKey
  }
}

function randomId(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('')
}

/** Base58 (Bitcoin alphabet), the encoding of Solana addresses. */
function base58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
  let out = ''
  while (value > 0n) {
    out = BASE58[Number(value % 58n)] + out
    value /= 58n
  }
  for (const byte of bytes) {
    if (byte !== 0) break
    out = `1${out}`
  }
  return out
}
