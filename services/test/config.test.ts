import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { ConfigError, ENV_NAMES, EnvSchema, loadConfig } from '../src/config.js'

const key32 = () => randomBytes(32).toString('base64')
const apiKey = () => randomBytes(32).toString('base64url')

function required() {
  return { SERVICES_API_KEY: apiKey(), SERVICES_ENCRYPTION_KEY: `k1:${key32()}` }
}

/** The ConfigError `loadConfig` throws for `env`; fails the test if it does not throw one. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected loadConfig to throw a ConfigError')
}

t.test('defaults are applied when only the required settings are given', async (t) => {
  const env = required()
  const config = loadConfig(env)
  t.match(config, {
    host: '127.0.0.1',
    port: 8080,
    logLevel: 'info',
    databaseUrl: undefined,
    dataDir: '.data',
    poolApiKeys: [env.SERVICES_API_KEY],
    metricsTokens: [],
    bodyLimitBytes: 262144,
    requestTimeoutMs: 120000,
    shutdownGraceMs: 10000,
    railway: {
      apiUrl: 'https://backboard.railway.com/graphql/v2',
      apiToken: undefined,
      workspaceId: undefined,
      runtimeImage: 'ghcr.io/xmtplabs/convos-runtime:latest',
      ghcrUsername: undefined,
      ghcrToken: undefined,
    },
    openrouter: { apiUrl: 'https://openrouter.ai/api/v1', managementKey: undefined },
    agentmail: { apiUrl: 'https://api.agentmail.to/v0', apiKey: undefined },
    telnyx: { apiUrl: 'https://api.telnyx.com/v2', apiKey: undefined, messagingProfileId: undefined },
    bankr: { apiUrl: 'https://api.bankr.bot', partnerKey: undefined },
  })
  t.equal(config.encryptionKeys.length, 1)
  t.equal(config.encryptionKeys[0]?.id, 'k1')
})

t.test('every setting is read from its variable', async (t) => {
  const cases: Array<[string, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]> = [
    ['HOST', '0.0.0.0', (c) => c.host, '0.0.0.0'],
    ['PORT', '0', (c) => c.port, 0],
    ['PORT', '65535', (c) => c.port, 65535],
    ['LOG_LEVEL', 'silent', (c) => c.logLevel, 'silent'],
    ['DATABASE_URL', 'postgres://u:p@db:5432/x', (c) => c.databaseUrl, 'postgres://u:p@db:5432/x'],
    [
      'DATABASE_URL',
      'postgresql://db/x?sslmode=require',
      (c) => c.databaseUrl,
      'postgresql://db/x?sslmode=require',
    ],
    ['DATA_DIR', '/var/lib/services', (c) => c.dataDir, '/var/lib/services'],
    ['BODY_LIMIT_BYTES', '1048576', (c) => c.bodyLimitBytes, 1048576],
    ['REQUEST_TIMEOUT_MS', '5000', (c) => c.requestTimeoutMs, 5000],
    ['SHUTDOWN_GRACE_MS', '0', (c) => c.shutdownGraceMs, 0],
    [
      'RAILWAY_API_URL',
      'http://127.0.0.1:4010/graphql/v2',
      (c) => c.railway.apiUrl,
      'http://127.0.0.1:4010/graphql/v2',
    ],
    ['RAILWAY_API_TOKEN', 'rw-token', (c) => c.railway.apiToken, 'rw-token'],
    ['RAILWAY_WORKSPACE_ID', 'ws-1', (c) => c.railway.workspaceId, 'ws-1'],
    [
      'RAILWAY_RUNTIME_IMAGE',
      'ghcr.io/x/y:sha-abc1234',
      (c) => c.railway.runtimeImage,
      'ghcr.io/x/y:sha-abc1234',
    ],
    [
      'OPENROUTER_API_URL',
      'http://localhost:4011/api/v1/',
      (c) => c.openrouter.apiUrl,
      'http://localhost:4011/api/v1',
    ],
    ['OPENROUTER_MANAGEMENT_KEY', 'or-mgmt', (c) => c.openrouter.managementKey, 'or-mgmt'],
    ['AGENTMAIL_API_URL', 'http://localhost:4012/v0', (c) => c.agentmail.apiUrl, 'http://localhost:4012/v0'],
    ['AGENTMAIL_API_KEY', 'am_x', (c) => c.agentmail.apiKey, 'am_x'],
    ['TELNYX_API_URL', 'http://localhost:4013/v2', (c) => c.telnyx.apiUrl, 'http://localhost:4013/v2'],
    ['TELNYX_API_KEY', 'tx', (c) => c.telnyx.apiKey, 'tx'],
    ['TELNYX_MESSAGING_PROFILE_ID', 'mp-1', (c) => c.telnyx.messagingProfileId, 'mp-1'],
    ['BANKR_API_URL', 'http://localhost:4014', (c) => c.bankr.apiUrl, 'http://localhost:4014'],
    ['BANKR_PARTNER_KEY', 'bk_ptr_x', (c) => c.bankr.partnerKey, 'bk_ptr_x'],
    [
      'METRICS_TOKEN',
      `${'m'.repeat(32)},${'n'.repeat(32)}`,
      (c) => c.metricsTokens.join(),
      `${'m'.repeat(32)},${'n'.repeat(32)}`,
    ],
  ]
  for (const [name, value, read, expected] of cases) {
    t.equal(read(loadConfig({ ...required(), [name]: value })), expected, `${name}=${value}`)
  }
  const both = loadConfig({ ...required(), GHCR_USERNAME: 'octocat', GHCR_TOKEN: 'ghp_x' })
  t.equal(both.railway.ghcrUsername, 'octocat')
  t.equal(both.railway.ghcrToken, 'ghp_x')
})

t.test('all missing required settings are reported in one error', async (t) => {
  const error = configError({})
  t.equal(error.code, 'CONFIG_INVALID')
  t.equal(error.problems.length, 2)
  t.match(error.problems[0], /^SERVICES_API_KEY: is required \(/)
  t.match(error.problems[1], /^SERVICES_ENCRYPTION_KEY: is required \(/)
  t.match(error.message, /openssl rand -base64 32/)
  for (const problem of error.problems) t.ok(error.message.includes(`\n  ${problem}`), 'one line per problem')
})

t.test('many problems at once: every one named, one line each, in schema order', async (t) => {
  const error = configError({
    PORT: 'eighty',
    LOG_LEVEL: 'loud',
    DATABASE_URL: 'mysql://db/x',
    SERVICES_ENCRYPTION_KEY: 'k1:short',
    TELNYX_API_URL: 'telnyx.com',
  })
  t.same(
    error.problems.map((p) => p.slice(0, p.indexOf(':'))),
    ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'SERVICES_API_KEY', 'SERVICES_ENCRYPTION_KEY', 'TELNYX_API_URL'],
  )
  t.equal(error.message.split('\n').length, 1 + error.problems.length)
})

t.test('each invalid value is named with what is wrong', async (t) => {
  const k = key32()
  const cases: Array<[string, string, string | RegExp]> = [
    ['PORT', 'abc', 'must be an integer from 0 to 65535'],
    ['PORT', '70000', 'must be an integer from 0 to 65535'],
    ['PORT', '-1', 'must be an integer from 0 to 65535'],
    ['PORT', '80.5', 'must be an integer from 0 to 65535'],
    ['LOG_LEVEL', 'verbose', 'must be one of fatal, error, warn, info, debug, trace, silent'],
    ['LOG_LEVEL', 'INFO', 'must be one of'],
    ['DATABASE_URL', 'mysql://db/x', 'must be a postgres:// or postgresql:// URL'],
    ['DATABASE_URL', 'not a url', 'must be a postgres:// or postgresql:// URL'],
    ['PORT', '0x50', 'must be an integer from 0 to 65535'],
    ['PORT', '8e3', 'must be an integer from 0 to 65535'],
    ['PORT', '80 80', 'must be an integer from 0 to 65535'],
    ['BODY_LIMIT_BYTES', '0', 'must be an integer from 1 to 1073741824'],
    ['BODY_LIMIT_BYTES', '1e400', 'must be an integer from 1 to 1073741824'],
    ['BODY_LIMIT_BYTES', '99999999999999999999', 'must be an integer from 1 to 1073741824'],
    ['REQUEST_TIMEOUT_MS', '0', 'must be an integer from 1 to 2147483647'],
    ['REQUEST_TIMEOUT_MS', '99999999999', 'must be an integer from 1 to 2147483647'],
    ['SHUTDOWN_GRACE_MS', '-5', 'must be an integer from 0 to 2147483647'],
    ['HEADERS_TIMEOUT_MS', '0', 'must be an integer from 1 to 2147483647'],
    ['HEADERS_TIMEOUT_MS', '120001', 'must not exceed REQUEST_TIMEOUT_MS (120000)'],
    ['RAILWAY_RUNTIME_IMAGE', 'ghcr.io/x/y :latest', 'must not contain whitespace'],
    ...[
      'RAILWAY_API_URL',
      'OPENROUTER_API_URL',
      'AGENTMAIL_API_URL',
      'TELNYX_API_URL',
      'BANKR_API_URL',
    ].flatMap(
      (name): Array<[string, string, string]> => [
        [name, 'ftp://example.com', 'must be an http:// or https:// URL'],
        [name, 'api.example.com/v1', 'must be an http:// or https:// URL'],
      ],
    ),
    ['SERVICES_API_KEY', 'too-short', 'entry 1 of 1 is shorter than 32 characters'],
    ['SERVICES_API_KEY', `${apiKey()},,${apiKey()}`, 'entry 2 of 3 is empty'],
    ['SERVICES_API_KEY', `${apiKey()} ${apiKey()}`, 'entry 1 of 1 contains whitespace'],
    ['METRICS_TOKEN', 'too-short', 'entry 1 of 1 is shorter than 32 characters'],
    ['SERVICES_ENCRYPTION_KEY', k, 'entry 1 of 1 must look like <keyId>:<base64 key>'],
    ['SERVICES_ENCRYPTION_KEY', `bad id!:${k}`, 'entry 1 of 1 has an invalid key id'],
    ['SERVICES_ENCRYPTION_KEY', `:${k}`, 'entry 1 of 1 has an invalid key id'],
    ['SERVICES_ENCRYPTION_KEY', `${'a'.repeat(33)}:${k}`, 'entry 1 of 1 has an invalid key id'],
    [
      'SERVICES_ENCRYPTION_KEY',
      `k1:${randomBytes(16).toString('base64')}`,
      'must be base64 of exactly 32 bytes',
    ],
    [
      'SERVICES_ENCRYPTION_KEY',
      `k1:${randomBytes(33).toString('base64')}`,
      'must be base64 of exactly 32 bytes',
    ],
    ['SERVICES_ENCRYPTION_KEY', 'k1:not base64 at all!', 'must be base64 of exactly 32 bytes'],
    ['SERVICES_ENCRYPTION_KEY', `k1:${k.replace('=', '')}`, 'must be base64 of exactly 32 bytes'],
    ['SERVICES_ENCRYPTION_KEY', `k1:${k},k1:${key32()}`, 'entry 2 of 2 repeats the key id "k1" of entry 1'],
    ['SERVICES_ENCRYPTION_KEY', `k1:${k},`, 'entry 2 of 2 is empty'],
  ]
  for (const [name, value, expected] of cases) {
    const error = configError({ ...required(), [name]: value })
    t.equal(error.problems.length, 1, `${name}=${value}: exactly one problem`)
    t.match(error.problems[0], new RegExp(`^${name}: `), `${name}=${value}: names the variable`)
    t.match(error.problems[0], expected, `${name}=${value}: says what is wrong`)
  }
})

t.test('key lists: trimmed, in order, first encryption key is current', async (t) => {
  const [a, b] = [apiKey(), apiKey()]
  const [newKey, oldKey] = [randomBytes(32), randomBytes(32)]
  const config = loadConfig({
    SERVICES_API_KEY: ` ${a} , ${b} `,
    SERVICES_ENCRYPTION_KEY: ` new-2 : ${newKey.toString('base64')} , old_1:${oldKey.toString('base64')}`,
  })
  t.same(config.poolApiKeys, [a, b])
  t.same(
    config.encryptionKeys.map((k) => k.id),
    ['new-2', 'old_1'],
  )
  t.ok(config.encryptionKeys[0]?.key.equals(newKey), 'current key decoded')
  t.ok(config.encryptionKeys[1]?.key.equals(oldKey), 'old key decoded')
})

t.test('registry credentials must be set together', async (t) => {
  t.match(configError({ ...required(), GHCR_USERNAME: 'octocat' }).problems, [
    'GHCR_TOKEN: is required when GHCR_USERNAME is set (set both or neither)',
  ])
  t.match(configError({ ...required(), GHCR_TOKEN: 'ghp_x' }).problems, [
    'GHCR_USERNAME: is required when GHCR_TOKEN is set (set both or neither)',
  ])
})

t.test('replica coordination: off by default; postgres needs a shared Postgres', async (t) => {
  t.same(loadConfig(required()).replicas, { coordination: 'off', leaseMs: 30_000 })
  t.same(
    loadConfig({
      ...required(),
      REPLICA_COORDINATION: 'postgres',
      REPLICA_LEASE_MS: '5000',
      DATABASE_URL: 'postgres://db/services',
    }).replicas,
    { coordination: 'postgres', leaseMs: 5_000 },
  )
  t.same(configError({ ...required(), REPLICA_COORDINATION: 'postgres' }).problems, [
    'REPLICA_COORDINATION: postgres needs DATABASE_URL (replicas share one Postgres)',
  ])
  t.same(configError({ ...required(), REPLICA_COORDINATION: 'redis' }).problems, [
    'REPLICA_COORDINATION: must be one of off, postgres',
  ])
})

t.test('secret values never appear in the error', async (t) => {
  const fixedKey = (text: string) => Buffer.from(text.padEnd(32, '.')).toString('base64')
  const secrets = {
    SERVICES_API_KEY: 'a-valid-pool-key-that-is-long-enough-0123456789,tooShortButSecret9',
    SERVICES_ENCRYPTION_KEY: `k1:${fixedKey('valid key material 0123456789ab')},${fixedKey('no key id, just the key 0123456')},cur:c2VjcmV0LWtleS1tYXRlcmlhbA==,sneaky$id:${fixedKey('key behind an invalid id 012345')}`,
    DATABASE_URL: 'mysql://admin:hunter2-db-password@db/x',
    RAILWAY_API_URL: 'ftp://user:railway-url-secret@example.com',
    GHCR_TOKEN: 'ghp_lonelyTokenWithoutUsername123',
    RAILWAY_API_TOKEN: 'railway-token-value-123',
    OPENROUTER_MANAGEMENT_KEY: 'sk-or-v1-management-secret',
    AGENTMAIL_API_KEY: 'am_secret_value',
    TELNYX_API_KEY: 'KEYtelnyxsecret',
    BANKR_PARTNER_KEY: 'bk_ptr_abcdefgh_secretsecret',
  }
  const error = configError(secrets)
  t.ok(error.problems.length >= 4, 'the bad values were reported')
  const text = [error.message, error.stack ?? '', JSON.stringify(error), ...error.problems].join('\n')
  const fragments = Object.values(secrets)
    .flatMap((v) => v.split(/[,:@/]/))
    .filter((f) => f.length >= 8)
  for (const fragment of fragments)
    t.notOk(text.includes(fragment), `does not contain ${fragment.slice(0, 4)}…`)
})

t.test('empty and blank strings count as unset', async (t) => {
  const blank = Object.fromEntries(ENV_NAMES.map((name, i) => [name, i % 2 ? '' : '   ']))
  t.same(configError(blank).problems, configError({}).problems, 'required ones are reported missing')

  const env = required()
  const config = loadConfig({ ...blank, ...env })
  t.same(config, loadConfig(env), 'optional ones get their defaults')
  t.equal(config.port, 8080)
  t.equal(config.databaseUrl, undefined)
  t.equal(config.railway.apiToken, undefined)
})

t.test('reads only its argument: not process.env, and never branches on NODE_ENV', async (t) => {
  const saved = process.env.PORT
  process.env.PORT = '1234'
  t.teardown(() => {
    if (saved === undefined) delete process.env.PORT
    else process.env.PORT = saved
  })
  const env = required()
  t.equal(loadConfig(env).port, 8080)
  t.same(loadConfig({ ...env, NODE_ENV: 'production' }), loadConfig({ ...env, NODE_ENV: 'development' }))
})

t.test('.env.example documents exactly the variables of EnvSchema, with their defaults', async (t) => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  // Documented variables are either set (`NAME=`) or shown commented out with their default (`# NAME=value`).
  const documented = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
    if (match?.[1]) {
      t.notOk(documented.has(match[1]), `${match[1]} is documented once`)
      documented.set(match[1], match[2] ?? '')
    }
  }
  t.same([...documented.keys()].sort(), [...ENV_NAMES].sort(), 'same variables in .env.example and EnvSchema')

  for (const name of ENV_NAMES) {
    const schema = EnvSchema.properties[name] as { default?: unknown }
    if (schema.default !== undefined) {
      t.equal(documented.get(name), String(schema.default), `${name} shows its real default`)
    }
  }
  for (const line of text.split('\n')) {
    const name = /^(?:# )?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1]
    if (name) {
      const index = text.split('\n').indexOf(line)
      t.match(text.split('\n')[index - 1] ?? '', /^# \S/, `${name} has a comment line above it`)
    }
  }

  // Every value shown in the example (defaults and samples) is itself valid.
  const fromExample = Object.fromEntries(documented)
  t.ok(loadConfig({ ...fromExample, ...required(), GHCR_USERNAME: 'u', GHCR_TOKEN: 't' }))
})
