import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { instanceInfra, type NewInstanceInfra } from '../../src/db/schema.js'
import { sealRuntimeCredential } from '../../src/lifecycle/instance-env.js'
import { createSecretBox } from '../../src/secrets/secret-box.js'
import type { TeardownHost } from '../helpers/database.js'
import type { System } from '../helpers/system.js'

/** A deployed Railway service with its domain, as the creation engine leaves it (without the engine). */
export interface DeployedService {
  projectId: string
  environmentId: string
  serviceId: string
  domain: string
  /** The runtime's POOL_API_KEY, which its health route asks for. */
  credential: string
}

/**
 * `count` services in one project (one project per instance would cost a request more each, and the status
 * read does not care), each with its POOL_API_KEY, volume and domain, created concurrently through the
 * adapter (the governor paces them).
 */
export async function deployServices(system: System, count: number): Promise<DeployedService[]> {
  const { railway, config } = system
  const { projectId, environmentId } = await railway.createProject(`status-${randomBytes(4).toString('hex')}`)
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const credential = `rt_${randomBytes(16).toString('hex')}`
      const { serviceId } = await railway.createService({
        projectId,
        environmentId,
        name: `agent-${i}`,
        image: config.railway.runtimeImage,
        variables: { POOL_API_KEY: credential },
      })
      const { domain } = await railway.createVolumeAndDomain({
        projectId,
        environmentId,
        serviceId,
        targetPort: config.runtime.port,
      })
      return { projectId, environmentId, serviceId, domain, credential }
    }),
  )
}

/** Waits (without spending Railway requests) until every service's runtime answers ready. */
export async function untilReady(system: System, services: readonly DeployedService[], timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!services.every((s) => system.emulators.railway.runtimeOf(s.serviceId)?.ready)) {
    if (Date.now() > deadline) throw new Error('runtimes did not become ready in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The `ready` row the creation engine would have written for a service, with overrides. */
export function readyRow(
  system: System,
  instanceId: string,
  service: DeployedService,
  overrides: Partial<NewInstanceInfra> = {},
): NewInstanceInfra {
  const box = createSecretBox(system.config.encryptionKeys)
  return {
    instanceId,
    lifecycle: 'ready',
    image: system.config.railway.runtimeImage,
    url: `${system.config.runtime.urlScheme}://${service.domain}`,
    railwayProjectId: service.projectId,
    railwayEnvironmentId: service.environmentId,
    railwayServiceId: service.serviceId,
    runtimeCredential: sealRuntimeCredential(box, instanceId, service.credential),
    ...overrides,
  }
}

export async function insertRows(system: System, rows: NewInstanceInfra[]) {
  for (let i = 0; i < rows.length; i += 500) {
    await system.database.db.insert(instanceInfra).values(rows.slice(i, i + 500))
  }
}

/**
 * A runtime that accepts connections and requests and never answers; counts the requests it got and
 * those the caller gave up on (it closed the connection: never answered, only the caller can end one).
 */
export async function hungRuntime(t: TeardownHost) {
  const seen = { requests: 0, abandoned: 0 }
  const server = createServer((_request, response) => {
    seen.requests += 1
    response.on('close', () => {
      seen.abandoned += 1
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

/** The URL of a port nothing listens on (bound once, then released): connections are refused. */
export async function refusedUrl() {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}
