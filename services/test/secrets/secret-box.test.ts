import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createSecretBox, type EncryptionKey } from '../../src/secrets/secret-box.js'

const key = (id: string): EncryptionKey => ({ id, key: randomBytes(32) })

/** Runs `fn` and returns the `code` of what it threw; fails if it did not throw. */
function codeOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return 'did not throw'
}

/** Flips one bit of the decoded payload at `index` (negative counts from the end). */
function flip(sealed: string, index: number): string {
  const [v, id, data] = sealed.split('.') as [string, string, string]
  const bytes = Buffer.from(data, 'base64url')
  const at = index < 0 ? bytes.length + index : index
  bytes[at] = (bytes[at] ?? 0) ^ 0x01
  return `${v}.${id}.${bytes.toString('base64url')}`
}

t.test('round trip', async (t) => {
  const box = createSecretBox([key('k1')])
  const cases = [
    'sk-or-v1-0123456789abcdef',
    '',
    'ünïcödé — 日本語 — emoji 🔑🧪',
    '0x'.padEnd(66, 'f'),
    'x'.repeat(100_000),
    'line\nbreaks\u0000and nul',
  ]
  for (const plaintext of cases) {
    const sealed = box.seal(plaintext)
    t.equal(box.open(sealed), plaintext, `round trip of ${JSON.stringify(plaintext.slice(0, 20))}`)
    t.notOk(plaintext.length > 4 && sealed.includes(plaintext), 'plaintext is not visible in the sealed form')
  }
  const withContext = box.seal('secret', 'instance:abc:tool:openrouter')
  t.equal(box.open(withContext, 'instance:abc:tool:openrouter'), 'secret')
})

t.test('format is v1.<keyId>.<base64url> and carries the key id', async (t) => {
  const box = createSecretBox([key('current_1')])
  const sealed = box.seal('hello')
  t.match(sealed, /^v1\.current_1\.[A-Za-z0-9_-]+$/)
  t.equal(box.keyIdOf(sealed), 'current_1')
  // 12-byte IV + 5 bytes of ciphertext + 16-byte tag
  t.equal(Buffer.from(sealed.split('.')[2] ?? '', 'base64url').length, 12 + 5 + 16)
})

t.test('each seal uses a fresh random IV', async (t) => {
  const box = createSecretBox([key('k1')])
  const seals = new Set(Array.from({ length: 50 }, () => box.seal('same plaintext', 'ctx')))
  t.equal(seals.size, 50, 'no two seals are equal')
  const ivs = new Set(
    [...seals].map((s) =>
      Buffer.from(s.split('.')[2] ?? '', 'base64url')
        .subarray(0, 12)
        .toString('hex'),
    ),
  )
  t.equal(ivs.size, 50, 'no IV repeats')
})

t.test('context is bound: a value moved to another row does not open', async (t) => {
  const box = createSecretBox([key('k1')])
  const sealed = box.seal('sk-or-secret', 'instance:abc:tool:openrouter')
  const wrong = ['instance:xyz:tool:openrouter', 'instance:abc:tool:email', '', undefined]
  for (const context of wrong) {
    t.equal(
      codeOf(() => box.open(sealed, context)),
      'SECRET_TAMPERED',
      `context ${JSON.stringify(context)}`,
    )
  }
  const noContext = box.seal('x')
  t.equal(box.open(noContext, ''), 'x', 'no context and empty context are the same')
  t.equal(
    codeOf(() => box.open(noContext, 'instance:abc')),
    'SECRET_TAMPERED',
    'a context is required if sealed with one',
  )
})

t.test('tampering is detected', async (t) => {
  const k1 = key('k1')
  const box = createSecretBox([k1])
  const sealed = box.seal('a provider secret', 'ctx')
  const cases: Array<[string, string]> = [
    ['iv', flip(sealed, 0)],
    ['ciphertext', flip(sealed, 12)],
    ['last ciphertext byte', flip(sealed, -17)],
    ['tag', flip(sealed, -1)],
    ['first tag byte', flip(sealed, -16)],
    [
      'payload truncated by one byte',
      (() => {
        const [v, id, data] = sealed.split('.') as [string, string, string]
        return `${v}.${id}.${Buffer.from(data, 'base64url').subarray(0, -1).toString('base64url')}`
      })(),
    ],
  ]
  for (const [what, tampered] of cases) {
    t.equal(
      codeOf(() => box.open(tampered, 'ctx')),
      'SECRET_TAMPERED',
      what,
    )
  }

  // Relabel: same bytes, different key id pointing at another key (or even at identical key bytes).
  const twin = createSecretBox([k1, { id: 'k2', key: Buffer.from(k1.key) }])
  t.equal(
    codeOf(() => twin.open(sealed.replace('.k1.', '.k2.'), 'ctx')),
    'SECRET_TAMPERED',
    'key id is bound',
  )

  const other = createSecretBox([{ id: 'k1', key: randomBytes(32) }])
  t.equal(
    codeOf(() => other.open(sealed, 'ctx')),
    'SECRET_TAMPERED',
    'same id, different key bytes',
  )
})

t.test('unknown key id', async (t) => {
  const sealed = createSecretBox([key('gone')]).seal('x')
  const box = createSecretBox([key('k1'), key('k0')])
  t.equal(
    codeOf(() => box.open(sealed)),
    'SECRET_KEY_UNKNOWN',
  )
  t.throws(
    () => box.open(sealed),
    { code: 'SECRET_KEY_UNKNOWN', message: /"gone"/ },
    'names the missing key id',
  )
})

t.test('rotation', async (t) => {
  const oldKey = key('2024')
  const newKey = key('2025')
  const before = createSecretBox([oldKey])
  const sealedOld = before.seal('wallet private key', 'instance:i1:tool:wallet')
  t.notOk(before.needsReseal(sealedOld), 'current under the old key list')

  const after = createSecretBox([newKey, oldKey])
  t.equal(after.open(sealedOld, 'instance:i1:tool:wallet'), 'wallet private key', 'old value still opens')
  t.ok(after.needsReseal(sealedOld), 'old value needs a reseal')

  const resealed = after.seal(after.open(sealedOld, 'instance:i1:tool:wallet'), 'instance:i1:tool:wallet')
  t.equal(after.keyIdOf(resealed), '2025', 'new seals use the first key')
  t.notOk(after.needsReseal(resealed))
  t.equal(after.open(resealed, 'instance:i1:tool:wallet'), 'wallet private key')

  const retired = createSecretBox([newKey])
  t.equal(
    codeOf(() => retired.open(sealedOld, 'instance:i1:tool:wallet')),
    'SECRET_KEY_UNKNOWN',
    'old key removed',
  )
  t.equal(retired.open(resealed, 'instance:i1:tool:wallet'), 'wallet private key')
})

t.test('malformed input always gives SECRET_MALFORMED', async (t) => {
  const box = createSecretBox([key('k1')])
  const good = box.seal('x')
  const data = good.split('.')[2] ?? ''
  const cases: unknown[] = [
    '',
    'garbage',
    'v1',
    'v1.k1',
    'v1.k1.',
    `v2.k1.${data}`,
    `V1.k1.${data}`,
    `v1..${data}`,
    `v1.bad id.${data}`,
    `v1.${'a'.repeat(33)}.${data}`,
    `v1.k1.${data}.extra`,
    `v1.k1.${data}=`,
    `v1.k1.${data.slice(0, 10)}+/${data.slice(12)}`,
    `v1.k1.${data} `,
    `v1.k1.${Buffer.alloc(27).toString('base64url')}`,
    'v1.k1.A',
    null,
    undefined,
    42,
    {},
    Buffer.from(good),
  ]
  for (const input of cases) {
    const label = typeof input === 'string' ? JSON.stringify(input.slice(0, 30)) : String(input)
    t.equal(
      codeOf(() => box.open(input as string)),
      'SECRET_MALFORMED',
      `open ${label}`,
    )
    t.equal(
      codeOf(() => box.keyIdOf(input as string)),
      'SECRET_MALFORMED',
      `keyIdOf ${label}`,
    )
    t.equal(
      codeOf(() => box.needsReseal(input as string)),
      'SECRET_MALFORMED',
      `needsReseal ${label}`,
    )
  }
})

t.test('errors never contain plaintext or key material', async (t) => {
  const k1 = key('k1')
  const box = createSecretBox([k1])
  const plaintext = 'sk-or-v1-very-secret-plaintext'
  const sealed = box.seal(plaintext, 'ctx')
  const errors: unknown[] = []
  for (const attempt of [
    () => box.open(sealed, 'wrong'),
    () => box.open(flip(sealed, 20), 'ctx'),
    () => box.open(`v1.k1.${sealed.split('.')[2]}!`, 'ctx'),
    () => createSecretBox([key('other')]).open(sealed, 'ctx'),
  ]) {
    try {
      attempt()
    } catch (error) {
      errors.push(error)
    }
  }
  t.equal(errors.length, 4)
  const payload = sealed.split('.')[2] ?? ''
  for (const error of errors) {
    const e = error as Error
    const text = `${e.message}\n${e.stack}\n${JSON.stringify(e)}`
    t.notOk(text.includes(plaintext), 'no plaintext')
    t.notOk(text.includes(payload.slice(0, 16)), 'no ciphertext')
    t.notOk(text.includes(k1.key.toString('base64').slice(0, 16)), 'no key (base64)')
    t.notOk(text.includes(k1.key.toString('hex').slice(0, 16)), 'no key (hex)')
  }
})

t.test('the key list is validated', async (t) => {
  t.equal(
    codeOf(() => createSecretBox([])),
    'SECRET_KEYS_INVALID',
    'empty',
  )
  t.equal(
    codeOf(() => createSecretBox([{ id: 'k1', key: randomBytes(16) }])),
    'SECRET_KEYS_INVALID',
    'short key',
  )
  t.equal(
    codeOf(() => createSecretBox([{ id: 'a.b', key: randomBytes(32) }])),
    'SECRET_KEYS_INVALID',
    'bad id',
  )
  t.equal(
    codeOf(() => createSecretBox([key('k1'), key('k1')])),
    'SECRET_KEYS_INVALID',
    'duplicate id',
  )
})

t.test('later changes to the key buffers do not affect the box', async (t) => {
  const k1 = key('k1')
  const box = createSecretBox([k1])
  const sealed = box.seal('x')
  k1.key.fill(0)
  t.equal(box.open(sealed), 'x')
})
