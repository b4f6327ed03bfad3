import { randomBytes } from 'node:crypto'
import { generateToken, hashToken } from '../auth/tokens.js'
import { TOOL_CATALOG } from '../plugins/tool-catalog.js'
import { secretContexts } from '../secrets/contexts.js'
import type { SecretBox } from '../secrets/secret-box.js'

/** Variables services sets on every instance itself (besides each tool's). */
export const INSTANCE_OWN_ENV = [
  'INSTANCE_ID',
  'PORT',
  'POOL_API_KEY',
  'INSTANCE_SERVICES_TOKEN',
  'OPENCLAW_GATEWAY_TOKEN',
  'SETUP_PASSWORD',
] as const

/** Names a create request's `env` may not use: services owns them. */
export const RESERVED_ENV_NAMES: ReadonlySet<string> = new Set([
  ...INSTANCE_OWN_ENV,
  ...TOOL_CATALOG.flatMap((tool) => tool.envKeys),
])

export interface InstanceSecrets {
  /** INSTANCE_SERVICES_TOKEN: the instance's credential towards services; only its hash is stored. */
  serviceToken: string
  serviceTokenHash: string
  /** The instance's POOL_API_KEY: services' credential towards the runtime (never the pool's own key). */
  runtimeCredential: string
  /** Secrets only the runtime uses; services never needs them again. */
  gatewayToken: string
  setupPassword: string
}

/** Fresh per-instance secrets, generated for each attempt at creating the Railway service. */
export function newInstanceSecrets(): InstanceSecrets {
  const serviceToken = generateToken('ist_')
  return {
    serviceToken,
    serviceTokenHash: hashToken(serviceToken),
    runtimeCredential: generateToken('rt_'),
    gatewayToken: randomBytes(32).toString('hex'),
    setupPassword: randomBytes(16).toString('hex'),
  }
}

export function ownEnv(instanceId: string, port: number, secrets: InstanceSecrets): Record<string, string> {
  return {
    INSTANCE_ID: instanceId,
    PORT: String(port),
    POOL_API_KEY: secrets.runtimeCredential,
    INSTANCE_SERVICES_TOKEN: secrets.serviceToken,
    OPENCLAW_GATEWAY_TOKEN: secrets.gatewayToken,
    SETUP_PASSWORD: secrets.setupPassword,
  }
}

const runtimeContext = secretContexts.runtimeCredential

export const sealRuntimeCredential = (box: SecretBox, instanceId: string, credential: string) =>
  box.seal(credential, runtimeContext(instanceId))

/** The credential services presents to an instance's runtime, or undefined when it has none (legacy). */
export function runtimeCredentialOf(
  box: SecretBox,
  row: { instanceId: string; runtimeCredential: string | null },
): string | undefined {
  return row.runtimeCredential ? box.open(row.runtimeCredential, runtimeContext(row.instanceId)) : undefined
}
