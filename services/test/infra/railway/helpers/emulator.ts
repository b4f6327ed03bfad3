import {
  type RailwayEmulatorOptions,
  type RunningRailwayEmulator,
  startRailwayEmulator,
} from '../../../../../emulators/src/railway/index.js'
import { createRailway, type Railway, type RailwayOptions } from '../../../../src/infra/railway/index.js'

export const IMAGE = 'ghcr.io/xmtplabs/convos-runtime:latest'

type Tap = { teardown(fn: () => unknown): void }

/**
 * A Railway emulator on a real port and the adapter configured against it (as `config.railway` would be),
 * both closed in the test's teardown.
 */
export async function railwayWithEmulator(
  t: Tap,
  emulatorOptions: RailwayEmulatorOptions = {},
  options: RailwayOptions & { ghcr?: boolean } = {},
): Promise<{ emulator: RunningRailwayEmulator; railway: Railway }> {
  const emulator = await startRailwayEmulator({
    deploy: { stepMs: 20 },
    runtime: { warmupMs: 0 },
    ...emulatorOptions,
  })
  t.teardown(() => emulator.close())
  const { ghcr, ...railwayOptions } = options
  const railway = createRailway(
    {
      railway: {
        apiUrl: emulator.url,
        apiToken: emulator.token,
        workspaceId: emulator.workspaceId,
        runtimeImage: IMAGE,
        ...(ghcr ? { ghcrUsername: 'octocat', ghcrToken: 'ghp_secret_for_tests' } : {}),
      },
    },
    {
      ...railwayOptions,
      governor: { retry: { baseDelayMs: 10, maxDelayMs: 50 }, ...railwayOptions.governor },
    },
  )
  t.teardown(() => railway.close())
  return { emulator, railway }
}

/** The root fields of the GraphQL requests the emulator received, in order, with their status. */
export function requestLog(emulator: RunningRailwayEmulator) {
  return emulator.ledger
    .requests()
    .filter((r) => r.path === '/graphql/v2')
    .map((r) => ({ operation: r.operation, status: r.status, at: r.at }))
}

/** One project with one service, for tests that need something to act on. */
export async function createAgent(railway: Railway, name: string, variables: Record<string, string> = {}) {
  const { projectId, environmentId } = await railway.createProject(name)
  const { serviceId } = await railway.createService({
    projectId,
    environmentId,
    name: 'agent',
    image: IMAGE,
    variables,
  })
  return { projectId, environmentId, serviceId }
}
