import { eq } from 'drizzle-orm'
import type { Test } from 'tap'
import type { Database } from '../../src/db/open-database.js'
import { type InstanceInfra, instanceInfra, type NewInstanceInfra } from '../../src/db/schema.js'
import type { Railway } from '../../src/infra/railway/index.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import type { System } from '../helpers/system.js'

/** The image of the old shared project's services: not the runtime default, so its origin is visible. */
export const LEGACY_IMAGE = 'ghcr.io/xmtplabs/convos-runtime:legacy-1'
export const NEW_IMAGE = 'ghcr.io/xmtplabs/convos-runtime:sha-1a2b3c4'

/** The emulator's domains are `127.0.0.1:PORT`; `up.railway.app` stays allowed as in production. */
export const legacyEnv = { LEGACY_DOMAIN_SUFFIXES: 'up.railway.app,127.0.0.1' }

export const fastDeploys = { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } }

export interface SharedService {
  serviceId: string
  volumeId: string
  domain: string
}

/** The old shared Railway project: one project, `count` agent services, each with its volume and domain. */
export async function sharedProject(railway: Railway, count = 3) {
  const { projectId, environmentId } = await railway.createProject('legacy-shared')
  const services: SharedService[] = []
  for (let i = 0; i < count; i++) {
    const { serviceId } = await railway.createService({
      projectId,
      environmentId,
      name: `agent-${i}`,
      image: LEGACY_IMAGE,
      variables: {},
    })
    const { volumeId, domain } = await railway.createVolumeAndDomain({
      projectId,
      environmentId,
      serviceId,
      targetPort: 8080,
    })
    services.push({ serviceId, volumeId, domain })
  }
  return { projectId, environmentId, services }
}

/** The body of `POST /adopt-instance` for one service of a shared project. */
export function adoptBody(
  shared: { projectId: string; environmentId: string },
  service: SharedService,
  instanceId = 'legacy-1',
) {
  return {
    instanceId,
    railwayProjectId: shared.projectId,
    railwayEnvironmentId: shared.environmentId,
    railwayServiceId: service.serviceId,
    url: `https://${service.domain}`,
  }
}

export async function insertInstance(db: Database, row: NewInstanceInfra): Promise<InstanceInfra> {
  const [inserted] = await db.insert(instanceInfra).values(row).returning()
  if (!inserted) throw new Error(`no row inserted for ${row.instanceId}`)
  return inserted
}

/**
 * A created (non-legacy) instance without the creation engine: its own project, service, volume and
 * domain made through the adapter, and the row the engine would have left behind.
 */
export async function ownProjectInstance(
  system: System,
  instanceId: string,
  row: Partial<NewInstanceInfra> = {},
): Promise<InstanceInfra> {
  const image = row.image ?? system.config.railway.runtimeImage
  const { projectId, environmentId } = await system.railway.createProject(`agent-${instanceId}`)
  const { serviceId } = await system.railway.createService({
    projectId,
    environmentId,
    name: 'agent',
    image,
    variables: { INSTANCE_ID: instanceId },
  })
  const { volumeId, domain } = await system.railway.createVolumeAndDomain({
    projectId,
    environmentId,
    serviceId,
    targetPort: 8080,
  })
  return insertInstance(system.database.db, {
    instanceId,
    lifecycle: 'ready',
    image,
    url: `http://${domain}`,
    railwayProjectId: projectId,
    railwayEnvironmentId: environmentId,
    railwayServiceId: serviceId,
    railwayVolumeId: volumeId,
    railwayDomain: domain,
    deployStatus: 'SUCCESS',
    ...row,
  })
}

/** GraphQL requests the Railway emulator has received so far. */
export const railwayRequests = (system: System) => system.emulators.railway.stats().requests

/**
 * An instance made through the real creation path (`POST /create-instance` answering 201 within its wait),
 * and its database row.
 */
export async function createReadyInstance(
  t: Test,
  system: System,
  instanceId: string,
  tools: string[] = [],
): Promise<InstanceInfra> {
  const created = await request(t, system.app, {
    method: 'POST',
    url: '/create-instance',
    headers: poolAuth(),
    payload: { instanceId, tools },
  })
  t.equal(created.statusCode, 201, created.body)
  const [row] = await system.database.db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, instanceId))
  if (!row) throw new Error(`no row for ${instanceId}`)
  return row
}
