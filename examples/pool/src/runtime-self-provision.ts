/**
 * What a running agent instance does to give itself a tool, with nothing but its own environment:
 * INSTANCE_ID and INSTANCE_SERVICES_TOKEN (set by services at creation) and SERVICES_URL (set by the pool,
 * see `env` in createPool). The token opens only this instance's own routes, and only for the tools the
 * server allows (SELF_PROVISION_TOOLS, default email and crypto).
 */
import { createServicesClient, ServicesProblemError } from '@agent-pool/services-client'

export type SelfProvisionedTool = 'email' | 'crypto'

/** Provisions `toolId` for this instance and returns the tool's variables, to use at once. */
export async function provisionForSelf(
  toolId: SelfProvisionedTool,
  env: Record<string, string | undefined> = process.env,
): Promise<Record<string, string>> {
  const { SERVICES_URL: baseUrl, INSTANCE_ID: instanceId, INSTANCE_SERVICES_TOKEN: instanceToken } = env
  if (!baseUrl || !instanceId || !instanceToken) {
    throw new Error('SERVICES_URL, INSTANCE_ID and INSTANCE_SERVICES_TOKEN must be set')
  }
  const self = createServicesClient({ baseUrl, instanceToken })
  const { data, error } = await self.POST('/provision/{instanceId}/{toolId}', {
    params: { path: { instanceId, toolId } },
    body: { mode: 'pool' },
  })
  if (error) throw new ServicesProblemError(error)
  // Services also pushes these to the gateway (restart-gateway); the answer saves waiting for it.
  return data.env ?? {}
}
