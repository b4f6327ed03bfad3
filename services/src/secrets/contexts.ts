/**
 * The authenticated context each sealed column is bound to (AES-GCM additional data): a ciphertext copied
 * to another row, or another column, does not open. One place, so the reseal command uses the same ones.
 */
export const secretContexts = {
  /** `instance_infra.runtime_credential`: the instance's POOL_API_KEY. */
  runtimeCredential: (instanceId: string) => `runtime:${instanceId}`,
  /** `instance_infra.pending_env`: variables the running instance has not received yet. */
  pendingEnv: (instanceId: string) => `pending_env:${instanceId}`,
  /** `instance_services.secret`: a tool resource's variables. */
  toolSecret: (idempotencyKey: string) => `instance_services:${idempotencyKey}`,
}
