import { randomBytes } from 'node:crypto'
import { instanceInfra, type NewInstanceInfra } from '../../services/src/db/schema.js'
import { sealRuntimeCredential } from '../../services/src/lifecycle/instance-env.js'
import { createSecretBox } from '../../services/src/secrets/secret-box.js'
import type { BenchEnvironment } from './environment.js'

/** A deployed Railway service with its domain and the POOL_API_KEY its runtime checks. */
export interface FleetService {
  projectId: string
  environmentId: string
  serviceId: string
  domain: string
  credential: string
}

/**
 * `count` services with volume and domain in one project, made on the setup token. One project per
 * instance would cost a request more each and the status read does not look at projects.
 */
export async function deployFleet(env: BenchEnvironment, count: number): Promise<FleetService[]> {
  const { setup, config } = env
  const { projectId, environmentId } = await setup.createProject(`fleet-${randomBytes(4).toString('hex')}`)
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const credential = `rt_${randomBytes(16).toString('hex')}`
      const { serviceId } = await setup.createService({
        projectId,
        environmentId,
        name: `agent-${i}`,
        image: config.railway.runtimeImage,
        variables: { POOL_API_KEY: credential },
      })
      const { domain } = await setup.createVolumeAndDomain({
        projectId,
        environmentId,
        serviceId,
        targetPort: config.runtime.port,
      })
      return { projectId, environmentId, serviceId, domain, credential }
    }),
  )
}

/** Waits, without spending Railway requests, until every runtime of the fleet answers ready. */
export async function untilFleetReady(
  env: BenchEnvironment,
  fleet: readonly FleetService[],
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs
  const ready = (s: FleetService) => env.emulators.railway.runtimeOf(s.serviceId)?.ready
  while (!fleet.every(ready)) {
    if (Date.now() > deadline) throw new Error('the fleet did not become ready in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The `ready` row the creation engine would have written for `service`, with overrides. */
export function readyRow(
  env: BenchEnvironment,
  instanceId: string,
  service: FleetService,
  overrides: Partial<NewInstanceInfra> = {},
): NewInstanceInfra {
  const box = createSecretBox(env.config.encryptionKeys)
  return {
    instanceId,
    lifecycle: 'ready',
    image: env.config.railway.runtimeImage,
    url: `${env.config.runtime.urlScheme}://${service.domain}`,
    railwayProjectId: service.projectId,
    railwayEnvironmentId: service.environmentId,
    railwayServiceId: service.serviceId,
    runtimeCredential: sealRuntimeCredential(box, instanceId, service.credential),
    ...overrides,
  }
}

export async function insertRows(env: BenchEnvironment, rows: readonly NewInstanceInfra[]) {
  for (let i = 0; i < rows.length; i += 500) {
    await env.database.db.insert(instanceInfra).values(rows.slice(i, i + 500))
  }
}

export const instanceIdOf = (i: number) => `agent-${String(i).padStart(5, '0')}`
