import { randomBytes } from 'node:crypto'
import type { BenchEnvironment } from '../harness/environment.js'
import {
  NaiveDeploy,
  NaiveDomainCreate,
  NaiveEnvironments,
  NaiveProjectCreate,
  NaiveServiceCreate,
  NaiveSetImage,
  NaiveSetVariables,
  NaiveVolumeCreate,
} from './documents.js'
import type { NaiveRailway } from './naive-client.js'

/** The earlier creation: eight Railway requests in a row, then waiting for the runtime to come up. */
export async function naiveCreation(
  env: BenchEnvironment,
  railway: NaiveRailway,
  name: string,
): Promise<void> {
  const { config } = env
  const { projectCreate } = await railway.send(NaiveProjectCreate, {
    name,
    workspaceId: config.railway.workspaceId as string,
  })
  const projectId = projectCreate.id
  const { project } = await railway.send(NaiveEnvironments, { projectId })
  const environmentId = project.environments.edges[0]?.node.id
  if (!environmentId) throw new Error('the new project has no environment')
  const { serviceCreate } = await railway.send(NaiveServiceCreate, { projectId, name: 'runtime' })
  const ref = { serviceId: serviceCreate.id, environmentId }
  await railway.send(NaiveSetImage, { ...ref, image: config.railway.runtimeImage })
  await railway.send(NaiveSetVariables, {
    ...ref,
    projectId,
    variables: { POOL_API_KEY: `rt_${randomBytes(16).toString('hex')}` },
  })
  await railway.send(NaiveVolumeCreate, { ...ref, projectId })
  await railway.send(NaiveDomainCreate, { ...ref, targetPort: config.runtime.port })
  await railway.send(NaiveDeploy, ref)
  // Up when the runtime answers ready; watched in the emulator, so the wait costs no Railway request.
  const deadline = Date.now() + 120_000
  while (!env.emulators.railway.runtimeOf(ref.serviceId)?.ready) {
    if (Date.now() > deadline) throw new Error('the naive creation never came up')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
