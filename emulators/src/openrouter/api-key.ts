import { createHash, randomBytes } from 'node:crypto'

/** The workspace keys land in when the request names none (any fixed uuid; OpenRouter's is per account). */
export const DEFAULT_WORKSPACE_ID = '0df9e665-d932-5740-b2c7-b52af166bc11'
export const CREATOR_USER_ID = 'user_emulator'

export type LimitReset = 'daily' | 'weekly' | 'monthly'

/** OpenRouter's `ApiKey` object, exactly the fields the OpenAPI document lists. It never holds the plaintext. */
export interface ApiKey {
  hash: string
  name: string
  label: string
  disabled: boolean
  limit: number | null
  limit_remaining: number | null
  limit_reset: LimitReset | null
  include_byok_in_limit: boolean
  usage: number
  usage_daily: number
  usage_weekly: number
  usage_monthly: number
  byok_usage: number
  byok_usage_daily: number
  byok_usage_weekly: number
  byok_usage_monthly: number
  created_at: string
  updated_at: string | null
  expires_at: string | null
  creator_user_id: string | null
  workspace_id: string
}

/** The hash is derived from the plaintext, so a bearer token is recognised without the plaintext being kept. */
export function hashOf(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('hex')
}

/** A new inference key in OpenRouter's format (`sk-or-v1-` + 64 hex), its hash and its masked label. */
export function newKeyMaterial(): { plaintext: string; hash: string; label: string } {
  const secret = randomBytes(32).toString('hex')
  const plaintext = `sk-or-v1-${secret}`
  return { plaintext, hash: hashOf(plaintext), label: maskedLabel(plaintext) }
}

/** OpenRouter shows keys as `sk-or-v1-0e6...1c96`: enough to recognise one, not to use it. */
export function maskedLabel(plaintext: string): string {
  return `${plaintext.slice(0, 12)}...${plaintext.slice(-3)}`
}

export function remaining(limit: number | null, usage: number): number | null {
  return limit === null ? null : Math.max(0, limit - usage)
}

/** Whether a key can authenticate: enabled and not past `expires_at`. */
export function isUsable(key: ApiKey, now = Date.now()): boolean {
  return !key.disabled && (key.expires_at === null || Date.parse(key.expires_at) > now)
}
