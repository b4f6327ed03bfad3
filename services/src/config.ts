import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Ajv, type ErrorObject } from 'ajv'
import { TOOL_IDS, type ToolId } from './db/schema.js'
import { type EncryptionKey, KEY_BYTES, KEY_ID_PATTERN } from './secrets/secret-box.js'

export type { EncryptionKey } from './secrets/secret-box.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const MIN_API_KEY_LENGTH = 32
// setTimeout fires at once for delays above 2^31-1 ms, so larger timeouts would silently mean "no wait".
const MAX_TIMER_MS = 2_147_483_647
// A JSON control-plane API has no use for bodies anywhere near this; the cap catches typos such as an extra 0s.
const MAX_BODY_LIMIT_BYTES = 1_073_741_824

const integer = (options: { default: number; minimum: number; maximum: number }) => Type.Integer(options)
const httpUrl = (defaultUrl: string) => Type.String({ format: 'http-url', default: defaultUrl })
const optionalString = () => Type.Optional(Type.String())

/**
 * Every environment variable services reads, with its default. `.env.example` documents each one (a test keeps
 * the two in step). Values arrive as strings; Ajv coerces the integers.
 */
const TOOL_NAMES = TOOL_IDS.join('|')
/** `none`, or a comma-separated list of tool ids. */
const SELF_PROVISION_PATTERN = `^(none|(${TOOL_NAMES})(,(${TOOL_NAMES}))*)$`

export const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: integer({ default: 8080, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Unsafe<LogLevel>({ type: 'string', enum: [...LOG_LEVELS], default: 'info' }),
  DATABASE_URL: Type.Optional(Type.String({ format: 'postgres-url' })),
  DATA_DIR: Type.String({ default: '.data' }),
  SERVICES_API_KEY: Type.String(),
  SERVICES_ENCRYPTION_KEY: Type.String(),
  METRICS_TOKEN: optionalString(),
  BODY_LIMIT_BYTES: integer({ default: 262_144, minimum: 1, maximum: MAX_BODY_LIMIT_BYTES }),
  REQUEST_TIMEOUT_MS: integer({ default: 120_000, minimum: 1, maximum: MAX_TIMER_MS }),
  HEADERS_TIMEOUT_MS: integer({ default: 10_000, minimum: 1, maximum: MAX_TIMER_MS }),
  SHUTDOWN_GRACE_MS: integer({ default: 10_000, minimum: 0, maximum: MAX_TIMER_MS }),

  RAILWAY_API_URL: httpUrl('https://backboard.railway.com/graphql/v2'),
  RAILWAY_API_TOKEN: optionalString(),
  RAILWAY_WORKSPACE_ID: optionalString(),
  RAILWAY_RUNTIME_IMAGE: Type.String({
    pattern: '^\\S+$',
    default: 'ghcr.io/xmtplabs/convos-runtime:latest',
  }),
  GHCR_USERNAME: optionalString(),
  GHCR_TOKEN: optionalString(),
  RAILWAY_RATE_LIMIT_PER_SECOND: integer({ default: 50, minimum: 1, maximum: 1_000 }),
  RAILWAY_MAX_CONCURRENT_CREATIONS: integer({ default: 8, minimum: 1, maximum: 100 }),

  RUNTIME_PORT: integer({ default: 8080, minimum: 1, maximum: 65535 }),
  RUNTIME_URL_SCHEME: Type.Unsafe<'https' | 'http'>({
    type: 'string',
    enum: ['https', 'http'],
    default: 'https',
  }),
  CREATE_WAIT_MS: integer({ default: 60_000, minimum: 0, maximum: MAX_TIMER_MS }),
  DEPLOY_TIMEOUT_MS: integer({ default: 900_000, minimum: 1, maximum: MAX_TIMER_MS }),
  HEALTH_TIMEOUT_MS: integer({ default: 1_500, minimum: 1, maximum: MAX_TIMER_MS }),
  HEALTH_CONCURRENCY: integer({ default: 64, minimum: 1, maximum: 10_000 }),
  LEGACY_DOMAIN_SUFFIXES: Type.String({ pattern: '^[a-z0-9.-]+(,[a-z0-9.-]+)*$', default: 'up.railway.app' }),
  REAPER_INTERVAL_MS: integer({ default: 30_000, minimum: 100, maximum: MAX_TIMER_MS }),
  NUMBER_POOL_IDLE_MS: integer({ default: 604_800_000, minimum: 0, maximum: 31_536_000_000 }),
  PROVISION_RESUME_AFTER_MS: integer({ default: 300_000, minimum: 100, maximum: MAX_TIMER_MS }),
  SELF_PROVISION_TOOLS: Type.String({ pattern: SELF_PROVISION_PATTERN, default: 'email,crypto' }),
  PROVIDER_TIMEOUT_MS: integer({ default: 10_000, minimum: 1, maximum: MAX_TIMER_MS }),
  INSTANCE_RATE_LIMIT_PER_MINUTE: integer({ default: 60, minimum: 1, maximum: 100_000 }),
  CONFIGURE_WAIT_MS: integer({ default: 60_000, minimum: 0, maximum: MAX_TIMER_MS }),

  REPLICA_COORDINATION: Type.Unsafe<'off' | 'postgres'>({
    type: 'string',
    enum: ['off', 'postgres'],
    default: 'off',
  }),
  REPLICA_LEASE_MS: integer({ default: 30_000, minimum: 500, maximum: MAX_TIMER_MS }),

  OPENROUTER_API_URL: httpUrl('https://openrouter.ai/api/v1'),
  OPENROUTER_MANAGEMENT_KEY: optionalString(),

  AGENTMAIL_API_URL: httpUrl('https://api.agentmail.to/v0'),
  AGENTMAIL_API_KEY: optionalString(),

  TELNYX_API_URL: httpUrl('https://api.telnyx.com/v2'),
  TELNYX_API_KEY: optionalString(),
  TELNYX_MESSAGING_PROFILE_ID: optionalString(),

  BANKR_API_URL: httpUrl('https://api.bankr.bot'),
  BANKR_PARTNER_KEY: optionalString(),
})

export type Env = Static<typeof EnvSchema>
export type EnvName = keyof Env & string

export const ENV_NAMES = Object.keys(EnvSchema.properties) as EnvName[]

export interface Config {
  host: string
  port: number
  logLevel: LogLevel
  /** Unset: embedded PGlite under `dataDir`. */
  databaseUrl?: string
  dataDir: string
  /** Pool API keys; all are accepted so a key can be rotated without downtime. */
  poolApiKeys: string[]
  /** The first key seals new secrets; the others only open older ones (rotation). */
  encryptionKeys: EncryptionKey[]
  /** Tokens that open only `GET /metrics` (a scraper needs no pool key); empty: only the pool key does. */
  metricsTokens: string[]
  bodyLimitBytes: number
  requestTimeoutMs: number
  /** How long a client may take to send its request headers (slowloris); at most `requestTimeoutMs`. */
  headersTimeoutMs: number
  shutdownGraceMs: number
  railway: {
    apiUrl: string
    apiToken?: string
    workspaceId?: string
    runtimeImage: string
    ghcrUsername?: string
    ghcrToken?: string
    /** Railway's per-second limit for the token (Pro: 50); the governor paces at 90% of it. */
    rateLimitPerSecond: number
    maxConcurrentCreations: number
  }
  openrouter: { apiUrl: string; managementKey?: string }
  agentmail: { apiUrl: string; apiKey?: string }
  telnyx: { apiUrl: string; apiKey?: string; messagingProfileId?: string }
  bankr: { apiUrl: string; partnerKey?: string }
  runtime: {
    /** The port the runtime listens on; each instance's Railway domain targets it. */
    port: number
    /** `https` for Railway domains; `http` only for the emulators' loopback runtimes. */
    urlScheme: 'https' | 'http'
    healthTimeoutMs: number
    healthConcurrency: number
  }
  lifecycle: {
    /** How long `POST /create-instance` waits for the instance before answering 202. */
    createWaitMs: number
    /** A creation whose deployment is not up after this long fails (and compensates). */
    deployTimeoutMs: number
    /** How often unfinished creations and destroys are resumed and failed releases retried. */
    reaperIntervalMs: number
    /** Adopted (legacy) instance URLs must end in one of these host suffixes. */
    legacyDomainSuffixes: string[]
    /** Numbers idle in services' Telnyx number pool longer than this are deleted at Telnyx. */
    numberPoolIdleMs: number
    /** A tool provision untouched this long is taken as interrupted (a crash) and finished by the reaper. */
    provisionResumeAfterMs: number
  }
  tools: {
    /** Tools an instance may provision for itself with its own token (cost-abuse policy). */
    selfProvisionable: ToolId[]
    /** Requests per minute one instance may make with its token; the pool is not limited. */
    instanceRateLimitPerMinute: number
    /** How long `POST /configure` waits for a warming-up runtime before answering 503. */
    configureWaitMs: number
    /** One REST provider request (OpenRouter, AgentMail, Telnyx, Bankr) without an answer by then fails. */
    providerTimeoutMs: number
  }
  replicas: {
    /**
     * `postgres`: several replicas share one Postgres, and coordinate through it (instance leases,
     * one runner of the periodic jobs, one Railway budget). `off`: a single process.
     */
    coordination: 'off' | 'postgres'
    /** A replica that stops renewing its lease on an instance's work loses it after this long. */
    leaseMs: number
  }
}

/** Thrown by `loadConfig`; `problems` has one line per bad setting, and the message lists them all. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
    super(`Invalid configuration (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

function isUrlWithProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol)
  } catch {
    return false
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: true })
ajv.addFormat('http-url', { type: 'string', validate: (v) => isUrlWithProtocol(v, ['http:', 'https:']) })
ajv.addFormat('postgres-url', {
  type: 'string',
  validate: (v) => isUrlWithProtocol(v, ['postgres:', 'postgresql:']),
})
const validateEnv = ajv.compile<Env>(EnvSchema)

const HOW_TO_GENERATE = 'generate one with `openssl rand -base64 32`'

/** Appended once to any problem with these variables: what a valid value looks like. */
const EXPECTED: Partial<Record<EnvName, string>> = {
  SERVICES_API_KEY: `comma-separated pool API keys, each at least ${MIN_API_KEY_LENGTH} characters; ${HOW_TO_GENERATE}`,
  METRICS_TOKEN: `comma-separated tokens, each at least ${MIN_API_KEY_LENGTH} characters; ${HOW_TO_GENERATE}`,
  SELF_PROVISION_TOOLS: `none, or a comma-separated list of ${TOOL_NAMES.replaceAll('|', ', ')}`,
  SERVICES_ENCRYPTION_KEY: `comma-separated <keyId>:<base64 of ${KEY_BYTES} bytes>, current key first, e.g. k1:<output of \`openssl rand -base64 32\`>`,
}

const integerProblem = (schema: TSchema) => `must be an integer from ${schema.minimum} to ${schema.maximum}`

/** Says what is wrong without ever quoting the value: it may be a secret. */
function describeAjvError(name: EnvName, error: ErrorObject): string {
  const schema = EnvSchema.properties[name] as TSchema
  switch (error.keyword) {
    case 'required':
      return 'is required'
    case 'type':
    case 'minimum':
    case 'maximum':
      return schema.type === 'integer' ? integerProblem(schema) : (error.message ?? 'is invalid')
    case 'enum':
      return `must be one of ${(schema.enum as string[]).join(', ')}`
    case 'format':
      return error.params.format === 'postgres-url'
        ? 'must be a postgres:// or postgresql:// URL'
        : 'must be an http:// or https:// URL'
    case 'pattern':
      return EXPECTED[name] ? 'is not in the expected form' : 'must not contain whitespace'
    default:
      return error.message ?? 'is invalid'
  }
}

function parseApiKeys(raw: string | undefined, problem: (p: string) => void): string[] {
  if (raw === undefined) return []
  const keys = raw.split(',').map((k) => k.trim())
  for (const [i, key] of keys.entries()) {
    const entry = `entry ${i + 1} of ${keys.length}`
    if (key === '') problem(`${entry} is empty (stray comma?)`)
    else if (/\s/.test(key)) problem(`${entry} contains whitespace (separate keys with commas)`)
    else if (key.length < MIN_API_KEY_LENGTH) {
      problem(`${entry} is shorter than ${MIN_API_KEY_LENGTH} characters`)
    }
  }
  return keys
}

// Canonical, padded standard base64; Buffer.from(..., 'base64') alone would accept nearly anything.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** One `<keyId>:<base64>` entry, or what is wrong with it. */
function parseEncryptionKeyEntry(item: string): EncryptionKey | string {
  const colon = item.indexOf(':')
  if (item === '') return 'is empty (stray comma?)'
  if (colon === -1) return 'must look like <keyId>:<base64 key>'
  const id = item.slice(0, colon).trim()
  const encoded = item.slice(colon + 1).trim()
  // The id is quoted only once it has passed the pattern, so a key pasted in the wrong place is never echoed.
  if (!KEY_ID_PATTERN.test(id)) return 'has an invalid key id (1-32 characters of A-Z a-z 0-9 _ -)'
  const key = Buffer.from(encoded, 'base64')
  if (!BASE64.test(encoded) || key.toString('base64') !== encoded || key.length !== KEY_BYTES) {
    return `(key id "${id}") must be base64 of exactly ${KEY_BYTES} bytes`
  }
  return { id, key }
}

function parseEncryptionKeys(raw: string | undefined, problem: (p: string) => void): EncryptionKey[] {
  if (raw === undefined) return []
  const entries = raw.split(',').map((e) => e.trim())
  const keys: EncryptionKey[] = []
  const entryOfId = new Map<string, number>()
  for (const [i, item] of entries.entries()) {
    const entry = `entry ${i + 1} of ${entries.length}`
    const parsed = parseEncryptionKeyEntry(item)
    if (typeof parsed === 'string') {
      problem(`${entry} ${parsed}`)
      continue
    }
    const first = entryOfId.get(parsed.id)
    if (first !== undefined) {
      problem(`${entry} repeats the key id "${parsed.id}" of entry ${first}`)
      continue
    }
    entryOfId.set(parsed.id, i + 1)
    keys.push(parsed)
  }
  return keys
}

const trimUrl = (url: string) => url.replace(/\/+$/, '')

/**
 * Validates the environment once and returns typed config, or throws a `ConfigError` naming every missing or
 * invalid variable. Takes `env` as an argument (never reads `process.env`) so tests and callers stay explicit.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Only known names, trimmed; empty means unset so `FOO=` in an env file falls back to the default.
  const problemsByName = new Map<EnvName, string[]>()
  const report = (name: EnvName, problem: string) => {
    const list = problemsByName.get(name) ?? []
    if (!list.includes(problem)) list.push(problem)
    problemsByName.set(name, list)
  }

  const input: Record<string, string> = {}
  for (const name of ENV_NAMES) {
    const value = env[name]?.trim()
    if (!value) continue
    const schema = EnvSchema.properties[name] as TSchema
    // Ajv's coercion also takes "0x10", "1e3" and "1e400" (Infinity); integers here are plain decimals.
    if (schema.type === 'integer' && !/^-?\d{1,16}$/.test(value)) report(name, integerProblem(schema))
    else input[name] = value
  }

  const valid = validateEnv(input)
  for (const error of validateEnv.errors ?? []) {
    const name = (
      error.keyword === 'required' ? error.params.missingProperty : error.instancePath.slice(1)
    ) as EnvName
    report(name, describeAjvError(name, error))
  }

  const poolApiKeys = parseApiKeys(input.SERVICES_API_KEY, (p) => report('SERVICES_API_KEY', p))
  const metricsTokens = parseApiKeys(input.METRICS_TOKEN, (p) => report('METRICS_TOKEN', p))
  const encryptionKeys = parseEncryptionKeys(input.SERVICES_ENCRYPTION_KEY, (p) =>
    report('SERVICES_ENCRYPTION_KEY', p),
  )

  // Registry credentials are useless half-set; say so at start instead of failing on the first deploy.
  if ((input.GHCR_USERNAME === undefined) !== (input.GHCR_TOKEN === undefined)) {
    const [missing, present] =
      input.GHCR_TOKEN === undefined
        ? (['GHCR_TOKEN', 'GHCR_USERNAME'] as const)
        : (['GHCR_USERNAME', 'GHCR_TOKEN'] as const)
    report(missing, `is required when ${present} is set (set both or neither)`)
  }

  // Node refuses a headers timeout longer than the whole request's: an explicit one must fit, the default
  // shrinks to fit.
  const headersTimeoutSet = Boolean(env.HEADERS_TIMEOUT_MS?.trim())
  const headersTimeout = Number(input.HEADERS_TIMEOUT_MS ?? 10_000)
  const requestTimeout = Number(input.REQUEST_TIMEOUT_MS ?? 120_000)
  if (headersTimeoutSet && requestTimeout >= 1 && headersTimeout > requestTimeout) {
    report('HEADERS_TIMEOUT_MS', `must not exceed REQUEST_TIMEOUT_MS (${requestTimeout})`)
  }

  // Replicas coordinate through one shared Postgres; an embedded PGlite is one process's alone.
  if (input.REPLICA_COORDINATION === 'postgres' && input.DATABASE_URL === undefined) {
    report('REPLICA_COORDINATION', 'postgres needs DATABASE_URL (replicas share one Postgres)')
  }

  if (!valid || problemsByName.size > 0) {
    const problems = ENV_NAMES.flatMap((name) => {
      const list = problemsByName.get(name)
      if (!list) return []
      const expected = EXPECTED[name]
      return [`${name}: ${list.join('; ')}${expected ? ` (expected ${expected})` : ''}`]
    })
    throw new ConfigError(problems)
  }
  const values = input as unknown as Env

  return {
    host: values.HOST,
    port: values.PORT,
    logLevel: values.LOG_LEVEL,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.DATA_DIR,
    poolApiKeys,
    encryptionKeys,
    metricsTokens,
    bodyLimitBytes: values.BODY_LIMIT_BYTES,
    requestTimeoutMs: values.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: headersTimeoutSet
      ? values.HEADERS_TIMEOUT_MS
      : Math.min(values.HEADERS_TIMEOUT_MS, values.REQUEST_TIMEOUT_MS),
    shutdownGraceMs: values.SHUTDOWN_GRACE_MS,
    railway: {
      apiUrl: trimUrl(values.RAILWAY_API_URL),
      apiToken: values.RAILWAY_API_TOKEN,
      workspaceId: values.RAILWAY_WORKSPACE_ID,
      runtimeImage: values.RAILWAY_RUNTIME_IMAGE,
      ghcrUsername: values.GHCR_USERNAME,
      ghcrToken: values.GHCR_TOKEN,
      rateLimitPerSecond: values.RAILWAY_RATE_LIMIT_PER_SECOND,
      maxConcurrentCreations: values.RAILWAY_MAX_CONCURRENT_CREATIONS,
    },
    openrouter: {
      apiUrl: trimUrl(values.OPENROUTER_API_URL),
      managementKey: values.OPENROUTER_MANAGEMENT_KEY,
    },
    agentmail: { apiUrl: trimUrl(values.AGENTMAIL_API_URL), apiKey: values.AGENTMAIL_API_KEY },
    telnyx: {
      apiUrl: trimUrl(values.TELNYX_API_URL),
      apiKey: values.TELNYX_API_KEY,
      messagingProfileId: values.TELNYX_MESSAGING_PROFILE_ID,
    },
    bankr: { apiUrl: trimUrl(values.BANKR_API_URL), partnerKey: values.BANKR_PARTNER_KEY },
    runtime: {
      port: values.RUNTIME_PORT,
      urlScheme: values.RUNTIME_URL_SCHEME,
      healthTimeoutMs: values.HEALTH_TIMEOUT_MS,
      healthConcurrency: values.HEALTH_CONCURRENCY,
    },
    lifecycle: {
      createWaitMs: values.CREATE_WAIT_MS,
      deployTimeoutMs: values.DEPLOY_TIMEOUT_MS,
      reaperIntervalMs: values.REAPER_INTERVAL_MS,
      legacyDomainSuffixes: values.LEGACY_DOMAIN_SUFFIXES.split(','),
      numberPoolIdleMs: values.NUMBER_POOL_IDLE_MS,
      provisionResumeAfterMs: values.PROVISION_RESUME_AFTER_MS,
    },
    tools: {
      selfProvisionable:
        values.SELF_PROVISION_TOOLS === 'none'
          ? []
          : ([...new Set(values.SELF_PROVISION_TOOLS.split(','))] as ToolId[]),
      instanceRateLimitPerMinute: values.INSTANCE_RATE_LIMIT_PER_MINUTE,
      configureWaitMs: values.CONFIGURE_WAIT_MS,
      providerTimeoutMs: values.PROVIDER_TIMEOUT_MS,
    },
    replicas: { coordination: values.REPLICA_COORDINATION, leaseMs: values.REPLICA_LEASE_MS },
  }
}
