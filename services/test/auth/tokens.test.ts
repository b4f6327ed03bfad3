import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { createKeyMatcher, generateToken, hashToken } from '../../src/auth/tokens.js'

t.test('generateToken: prefix + 32 random bytes, URL-safe', async (t) => {
  const tokens = Array.from({ length: 200 }, () => generateToken('ist_'))
  for (const token of tokens.slice(0, 5)) {
    t.match(token, /^ist_[A-Za-z0-9_-]{43}$/, 'prefix then 43 base64url characters')
    t.equal(Buffer.from(token.slice(4), 'base64url').length, 32, '32 bytes of entropy')
    t.equal(encodeURIComponent(token), token, 'needs no URL encoding')
  }
  t.equal(new Set(tokens).size, tokens.length, 'no repeats')
  t.match(generateToken('sk_dev_'), /^sk_dev_[A-Za-z0-9_-]{43}$/)
  t.match(generateToken(''), /^[A-Za-z0-9_-]{43}$/, 'prefix may be empty')

  // Every base64url character shows up across many tokens: the suffix is not, say, hex.
  const alphabet = new Set(tokens.join('').replaceAll('ist_', ''))
  t.ok(alphabet.size > 60, 'uses the full base64url alphabet')
})

t.test('generateToken rejects prefixes that would blur the token boundary', async (t) => {
  for (const prefix of ['ist-', 'a b', 'ist_/', 'x'.repeat(17), 'é_']) {
    t.throws(() => generateToken(prefix), TypeError, JSON.stringify(prefix))
  }
})

t.test('hashToken: SHA-256 hex, deterministic', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ]
  for (const [input, expected] of cases) t.equal(hashToken(input), expected, JSON.stringify(input))

  const token = generateToken('ist_')
  t.equal(hashToken(token), hashToken(token), 'same token, same hash')
  t.equal(hashToken(token), createHash('sha256').update(token).digest('hex'))
  t.match(hashToken(token), /^[0-9a-f]{64}$/)
  t.not(hashToken(token), hashToken(generateToken('ist_')), 'different tokens, different hashes')
  t.notOk(hashToken(token).includes(token.slice(4, 14)), 'the hash does not contain the token')
})

t.test('createKeyMatcher accepts exactly the configured keys', async (t) => {
  const [oldKey, newKey] = [randomBytes(32).toString('base64'), randomBytes(48).toString('base64url')]
  const matches = createKeyMatcher([newKey, oldKey])
  const cases: Array<[string, boolean]> = [
    [newKey, true],
    [oldKey, true],
    ['', false],
    [`${newKey} `, false],
    [newKey.slice(0, -1), false],
    [`${newKey}x`, false],
    [newKey.toUpperCase() === newKey ? newKey.toLowerCase() : newKey.toUpperCase(), false],
    [`${oldKey},${newKey}`, false],
    [randomBytes(32).toString('base64'), false],
  ]
  for (const [candidate, expected] of cases) {
    t.equal(
      matches(candidate),
      expected,
      `${candidate.slice(0, 6)}… (${candidate.length} chars) → ${expected}`,
    )
  }
  t.equal(matches(undefined as unknown as string), false, 'undefined does not match')
  t.equal(matches(null as unknown as string), false, 'null does not match')
})

t.test('createKeyMatcher compares against every key, with equal-length inputs', async (t) => {
  const keys = ['a'.repeat(32), 'b'.repeat(40), 'c'.repeat(64)]
  const crypto = await import('node:crypto')
  const calls: Array<[number, number]> = []
  const { createKeyMatcher: mockedMatcher } = await t.mockImport<typeof import('../../src/auth/tokens.js')>(
    '../../src/auth/tokens.js',
    {
      'node:crypto': {
        ...crypto,
        timingSafeEqual: (a: Buffer, b: Buffer) => {
          calls.push([a.length, b.length])
          return crypto.timingSafeEqual(a, b)
        },
      },
    },
  )
  const matches = mockedMatcher(keys)
  for (const candidate of [keys[0] as string, keys[2] as string, 'short', 'z'.repeat(500)]) {
    calls.length = 0
    matches(candidate)
    t.equal(calls.length, keys.length, 'no early exit, match or not')
    t.ok(
      calls.every(([a, b]) => a === 32 && b === 32),
      'both sides hashed to 32 bytes',
    )
  }
})

t.test('createKeyMatcher refuses an empty or blank key list', async (t) => {
  t.throws(() => createKeyMatcher([]), TypeError)
  t.throws(() => createKeyMatcher(['']), TypeError)
  t.throws(() => createKeyMatcher(['x'.repeat(32), '']), TypeError)
})
