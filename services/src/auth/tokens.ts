import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const TOKEN_BYTES = 32
const PREFIX_PATTERN = /^[A-Za-z0-9_]{0,16}$/

/** A URL-safe bearer token: `prefix` + 32 random bytes as base64url (256 bits of entropy). */
export function generateToken(prefix: string): string {
  // The prefix only says what kind of token this is (ist_, sk_dev_); keep it out of the base64url alphabet's '-'
  // so the boundary stays readable and a secret scanner can match it.
  if (!PREFIX_PATTERN.test(prefix)) throw new TypeError('token prefix must match ^[A-Za-z0-9_]{0,16}$')
  return prefix + randomBytes(TOKEN_BYTES).toString('base64url')
}

/**
 * SHA-256 hex of a token: instance tokens are stored and looked up only by this. A fast unsalted hash is
 * enough because the tokens are 256-bit random values, not passwords.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/**
 * Returns a predicate that says whether a presented key equals one of `keys` (several during rotation).
 * Both sides are hashed to 32 bytes so `timingSafeEqual` sees equal lengths, and every key is compared on
 * every call, so timing reveals neither the keys' lengths nor which key matched.
 */
export function createKeyMatcher(keys: readonly string[]): (candidate: string) => boolean {
  if (keys.length === 0) throw new TypeError('createKeyMatcher needs at least one key')
  if (keys.some((key) => typeof key !== 'string' || key.length === 0)) {
    throw new TypeError('createKeyMatcher keys must be non-empty strings')
  }
  const digests = keys.map(digest)
  return (candidate) => {
    if (typeof candidate !== 'string' || candidate.length === 0) return false
    const presented = digest(candidate)
    let matched = 0
    for (const expected of digests) matched |= Number(timingSafeEqual(presented, expected))
    return matched === 1
  }
}
