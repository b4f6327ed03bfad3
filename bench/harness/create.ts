import { type ServicesClient, waitUntilReady } from '../../pool-client/src/index.js'

/**
 * One creation as the pool does it: `POST /create-instance` (201 when it finished within the server's
 * wait, 202 otherwise), then polling until the instance is ready.
 */
export async function createInstance(client: ServicesClient, instanceId: string): Promise<void> {
  const { response, error } = await client.POST('/create-instance', { body: { instanceId } })
  if (error) throw new Error(`create ${instanceId}: ${response.status} ${error.code} ${error.detail ?? ''}`)
  if (response.status === 202) await waitUntilReady(client, instanceId, { timeoutMs: 300_000 })
}
