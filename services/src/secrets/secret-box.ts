import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto'
import { createError } from '@fastify/error'

/** One AES-256 key from `SERVICES_ENCRYPTION_KEY`; `id` is written into every value sealed with it. */
export interface EncryptionKey {
  id: string
  key: Buffer
}

export interface SecretBox {
  /** Encrypts under the current (first) key. `context` is authenticated, not stored: pass the same to `open`. */
  seal(plaintext: string, context?: string): string
  open(sealed: string, context?: string): string
  /** The key id a sealed value names, without decrypting it. */
  keyIdOf(sealed: string): string
  /** True when the value was sealed under a key other than the current one and should be re-sealed. */
  needsReseal(sealed: string): boolean
}

// Messages are fixed text: they never carry plaintext, ciphertext or key material.
export const SecretKeyUnknownError = createError<[string]>(
  'SECRET_KEY_UNKNOWN',
  'Secret was sealed with key id "%s", which is not in SERVICES_ENCRYPTION_KEY',
  500,
)
export const SecretTamperedError = createError(
  'SECRET_TAMPERED',
  'Secret failed authentication: it was modified, or is opened with the wrong context or key',
  500,
)
export const SecretMalformedError = createError<[string]>(
  'SECRET_MALFORMED',
  'Sealed secret is malformed: %s',
  500,
)
export const SecretKeysInvalidError = createError<[string]>(
  'SECRET_KEYS_INVALID',
  'Invalid encryption keys: %s',
  500,
)

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
export const KEY_BYTES = 32

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16
const BASE64URL = /^[A-Za-z0-9_-]+$/

interface Parsed {
  keyId: string
  payload: Buffer
}

function parse(sealed: unknown): Parsed {
  if (typeof sealed !== 'string') throw new SecretMalformedError('not a string')
  const parts = sealed.split('.')
  if (parts.length !== 3) throw new SecretMalformedError('expected v1.<keyId>.<data>')
  const [version, keyId, data] = parts as [string, string, string]
  if (version !== VERSION) throw new SecretMalformedError('unsupported format version')
  if (!KEY_ID_PATTERN.test(keyId)) throw new SecretMalformedError('invalid key id')
  // Strict alphabet check: Buffer.from(..., 'base64url') silently skips invalid characters.
  if (!BASE64URL.test(data)) throw new SecretMalformedError('data is not base64url')
  const payload = Buffer.from(data, 'base64url')
  if (payload.toString('base64url') !== data)
    throw new SecretMalformedError('data is not canonical base64url')
  if (payload.length < IV_BYTES + TAG_BYTES) throw new SecretMalformedError('data is too short')
  return { keyId, payload }
}

/** The AAD binds format version, key id and caller context, so none of them can be swapped undetected. */
function aad(keyId: string, context: string | undefined): Buffer {
  return Buffer.from(`${VERSION}\u0000${keyId}\u0000${context ?? ''}`, 'utf8')
}

/**
 * AES-256-GCM for provider secrets at rest. The first key seals; every listed key opens (key rotation).
 * Sealed format: `v1.<keyId>.<base64url(iv[12] | ciphertext | tag[16])>`.
 */
export function createSecretBox(keys: readonly EncryptionKey[]): SecretBox {
  if (keys.length === 0) throw new SecretKeysInvalidError('at least one key is required')
  const byId = new Map<string, KeyObject>()
  for (const [index, { id, key }] of keys.entries()) {
    if (!KEY_ID_PATTERN.test(id)) throw new SecretKeysInvalidError(`key ${index + 1} has an invalid id`)
    if (byId.has(id)) throw new SecretKeysInvalidError(`key ${index + 1} repeats key id "${id}"`)
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretKeysInvalidError(`key "${id}" must be exactly ${KEY_BYTES} bytes`)
    }
    // A KeyObject copies the bytes and does not print them when inspected or logged.
    byId.set(id, createSecretKey(key))
  }
  const current = keys[0] as EncryptionKey
  const currentKey = byId.get(current.id) as KeyObject

  function keyIdOf(sealed: string): string {
    return parse(sealed).keyId
  }

  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad(current.id, context))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const payload = Buffer.concat([iv, ciphertext, cipher.getAuthTag()])
      return `${VERSION}.${current.id}.${payload.toString('base64url')}`
    },

    open(sealed, context) {
      const { keyId, payload } = parse(sealed)
      const key = byId.get(keyId)
      if (!key) throw new SecretKeyUnknownError(keyId)
      const iv = payload.subarray(0, IV_BYTES)
      const tag = payload.subarray(payload.length - TAG_BYTES)
      const ciphertext = payload.subarray(IV_BYTES, payload.length - TAG_BYTES)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
        decipher.setAAD(aad(keyId, context))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
      } catch {
        throw new SecretTamperedError()
      }
    },

    keyIdOf,

    needsReseal(sealed) {
      return keyIdOf(sealed) !== current.id
    },
  }
}
