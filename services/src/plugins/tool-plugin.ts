import type { ToolConfig, ToolId } from '../generated/schemas.js'

/** A resource a tool plugin made (or found) at its provider. */
export interface ProvisionedResource {
  /** The provider's id: OpenRouter key hash, inbox id, Telnyx number id, Bankr wallet id, wallet address. */
  resourceId: string
  /** Non-secret values, shown to callers (inbox address, phone number, wallet address, key limit). */
  config: ToolConfig
  /** The variables this resource gives the instance; may hold secrets (the caller encrypts before storing). */
  env: Record<string, string>
}

export interface CreateInput {
  instanceId: string
  /**
   * Deterministic per (instance, tool): used as the provider's idempotency key or resource name, so a
   * retry after a crash finds or re-receives the resource instead of making a second one.
   */
  idempotencyKey: string
  /** Tool-specific pool-mode options from the provision request (e.g. an OpenRouter key limit). */
  options?: Record<string, unknown>
}

export interface ResourceRef {
  resourceId: string
  config: ToolConfig
}

/**
 * A resource at the provider that carries services' mark: `marker` is what the provider keeps of the
 * idempotency key (OpenRouter key name, AgentMail client_id, Bankr idempotencyKey, Telnyx
 * customer_reference), decoded back to the key `<instanceId>:<toolId>`.
 */
export interface MarkedResource extends ResourceRef {
  idempotencyKey: string
}

/**
 * One tool, one provider. Plugins only talk to their provider: they never touch the database or
 * Railway, and every failure is a coded ProviderError.
 */
export interface ToolPlugin {
  toolId: ToolId
  /** Creates the resource, or returns the one an earlier attempt with the same idempotency key made. */
  create(input: CreateInput): Promise<ProvisionedResource>
  /**
   * The resource an earlier attempt made with this idempotency key, if any, WITHOUT creating one: crash
   * recovery adopts it. Secrets the provider shows only at creation cannot be recovered; the plugin then
   * says so by returning `env` without them, and recovery releases and recreates.
   */
  find(input: Omit<CreateInput, 'options'>): Promise<ProvisionedResource | undefined>
  /** Releases the resource. A resource the provider no longer knows counts as released ('gone'). */
  destroy(resource: ResourceRef): Promise<'destroyed' | 'gone'>
  /** Applies changed pool-mode options to an existing resource, where the provider allows it. */
  update?(resource: ResourceRef, options: Record<string, unknown>): Promise<ProvisionedResource>
  /**
   * `user` mode: checks the caller's credentials with the provider where that is cheap (throws a
   * ProviderError with code PROVIDER_UNAUTHORIZED/PROVIDER_REJECTED when they are refused) and returns the
   * resource they describe; nothing is created at the provider.
   */
  useUserConfig?(instanceId: string, userConfig: Record<string, unknown>): Promise<ProvisionedResource>
  /**
   * The reconciler's view: every resource of services' provider account that carries a mark following the
   * idempotency-key convention (`isIdempotencyKey`), all pages read. Unmarked resources are never listed,
   * so the reconciler can never touch them. Absent for tools with nothing at a provider (wallet).
   */
  inventory?(): Promise<MarkedResource[]>
  /** Deletes an orphan at the provider outright (no pooling); a resource already gone is 'gone'. */
  deleteOrphan?(resource: MarkedResource): Promise<'destroyed' | 'gone'>
}

const TOOL_SUFFIX = /:(openrouter|wallet|email|sms|crypto)$/
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Whether a provider-side mark is an idempotency key services makes: `<instanceId>:<toolId>`. */
export function isIdempotencyKey(value: unknown): value is string {
  return (
    typeof value === 'string' && TOOL_SUFFIX.test(value) && INSTANCE_ID.test(value.replace(TOOL_SUFFIX, ''))
  )
}
