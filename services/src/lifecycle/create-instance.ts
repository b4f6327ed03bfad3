import { setTimeout as sleep } from 'node:timers/promises'
import { and, eq } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { type InstanceInfra, instanceInfra, type ToolId } from '../db/schema.js'
import { createStepsRepository } from '../db/steps-repository.js'
import { projectNameFor } from '../infra/railway/index.js'
import { inProcessSlots } from '../replicas/creation-slots.js'
import type { LifecycleDeps } from './context.js'
import { Interrupted, PermanentFailure } from './failure.js'
import { newInstanceSecrets, ownEnv, runtimeCredentialOf, sealRuntimeCredential } from './instance-env.js'
import { nextTick } from './status-batcher.js'
import { createStepRunner, StepFailed } from './step-runner.js'
import { envOf, liveToolRows, provisionPoolTool } from './tool-resources.js'

/** The create request as stored (defaults applied, lists sorted), so equal requests hash equal. */
export interface CreateSpec {
  instanceId: string
  name: string | null
  image: string
  /** Every tool provisioned at creation: openrouter and wallet first, then the requested ones. */
  tools: ToolId[]
  env: Record<string, string>
}

/** The one service of an instance's project. */
export const SERVICE_NAME = 'runtime'

const FAILED_DEPLOY_STATES = new Set(['FAILED', 'CRASHED', 'REMOVED'])

/**
 * Tools come first so that `serviceCreate` carries every variable (the tools' keys included) in one
 * request: project, service, volume + domain = 3 Railway requests per creation, and no redeploy for
 * variables set afterwards. A tool failing also stops the creation before it spends any Railway budget.
 */
export function creationSteps(spec: CreateSpec): string[] {
  return [...spec.tools.map((tool) => `tool:${tool}`), 'project', 'service', 'volume_domain', 'deploy']
}

const setInfra = (instanceId: string, values: Partial<InstanceInfra>) => (tx: Database) =>
  tx.update(instanceInfra).set(values).where(eq(instanceInfra.instanceId, instanceId))

async function getInfra(db: Database, instanceId: string): Promise<InstanceInfra> {
  const [row] = await db.select().from(instanceInfra).where(eq(instanceInfra.instanceId, instanceId))
  if (!row) throw new Error(`instance ${instanceId} vanished during its creation`)
  return row
}

/**
 * Runs (or resumes) the creation of an instance whose row is `creating`, step by step. Ends with the
 * instance `ready`; on a permanent failure marks it `failed` with the cause and returns `'failed'` (the
 * caller undoes what was made); on a destroy request or shutdown returns `'interrupted'`.
 */
export async function runCreation(
  deps: LifecycleDeps,
  instanceId: string,
): Promise<'ready' | 'failed' | 'interrupted'> {
  const { db, railway, config } = deps
  const infra = await getInfra(db, instanceId)
  if (infra.lifecycle !== 'creating') return 'interrupted'
  const spec = infra.createRequest as unknown as CreateSpec
  const steps = createStepsRepository(db)
  await steps.plan(instanceId, 'create', creationSteps(spec))

  const guard = async () => {
    if (deps.stopping()) throw new Interrupted('the server is shutting down')
    const { lifecycle, leaseOwner } = await getInfra(db, instanceId)
    if (lifecycle !== 'creating') throw new Interrupted(`the instance is now ${lifecycle}`)
    if (deps.leases && leaseOwner !== deps.leases.owner) {
      throw new Interrupted('another replica took the creation over (this lease lapsed)')
    }
  }
  const run = createStepRunner({
    steps,
    instanceId,
    operation: 'create',
    attempts: deps.tuning.stepAttempts,
    retryBaseMs: deps.tuning.stepRetryBaseMs,
    guard,
    onChange: (name) => deps.events.emit(instanceId, { kind: 'step', operation: 'create', name }),
    logError: (err, msg) => deps.log.error({ err, instanceId }, msg),
    observer: deps.observer,
  })

  try {
    for (const tool of spec.tools) {
      await run(`tool:${tool}`, async () => {
        await provisionPoolTool(deps, instanceId, tool)
        return undefined
      })
    }

    // The Railway part holds one of the workspace's creation slots (8 at once by default).
    const slots = deps.creationSlots ?? inProcessSlots(railway)
    await slots.hold(
      instanceId,
      async () => {
        await run('project', async (resumed) => {
          const name = projectNameFor(instanceId)
          const ids = (resumed && (await railway.findProjectIds(name))) || (await railway.createProject(name))
          return setInfra(instanceId, {
            railwayProjectId: ids.projectId,
            railwayEnvironmentId: ids.environmentId,
          })
        })

        await run('service', async (resumed) => {
          const row = await getInfra(db, instanceId)
          const projectId = row.railwayProjectId as string
          const environmentId = row.railwayEnvironmentId as string
          if (resumed) {
            // Made by the attempt that crashed: it carries that attempt's token, whose hash is recorded.
            const project = await railway.getProject(projectId)
            const existing = project?.services.find((service) => service.name === SERVICE_NAME)
            if (existing) return setInfra(instanceId, { railwayServiceId: existing.id })
          }
          // Intent first: the hash of the token and the sealed runtime credential this attempt sends.
          const secrets = newInstanceSecrets()
          await setInfra(instanceId, {
            tokenHash: secrets.serviceTokenHash,
            runtimeCredential: sealRuntimeCredential(deps.secretBox, instanceId, secrets.runtimeCredential),
          })(db)
          const toolEnv = Object.assign(
            {},
            ...(await liveToolRows(db, instanceId)).map((r) => envOf(deps.secretBox, r)),
          )
          const { serviceId } = await railway.createService({
            projectId,
            environmentId,
            name: SERVICE_NAME,
            image: row.image,
            variables: { ...spec.env, ...toolEnv, ...ownEnv(instanceId, config.runtime.port, secrets) },
          })
          return setInfra(instanceId, { railwayServiceId: serviceId })
        })

        await run('volume_domain', async (resumed) => {
          const row = await getInfra(db, instanceId)
          const { volumeId, domain } = await railway.createVolumeAndDomain({
            projectId: row.railwayProjectId as string,
            environmentId: row.railwayEnvironmentId as string,
            serviceId: row.railwayServiceId as string,
            targetPort: config.runtime.port,
            resume: resumed,
          })
          return setInfra(instanceId, {
            railwayVolumeId: volumeId,
            railwayDomain: domain,
            url: `${config.runtime.urlScheme}://${domain}`,
          })
        })
      },
      // Waiting for a slot (several replicas) ends on a shutdown, a destroy request or a lost lease.
      guard,
    )

    await run('deploy', () => waitForDeployment(deps, instanceId, guard))

    await db
      .update(instanceInfra)
      .set({ lifecycle: 'ready', deployStatus: 'SUCCESS', errorCode: null, errorMessage: null })
      .where(and(eq(instanceInfra.instanceId, instanceId), eq(instanceInfra.lifecycle, 'creating')))
    return 'ready'
  } catch (error) {
    if (error instanceof Interrupted) return 'interrupted'
    if (!(error instanceof StepFailed)) throw error
    await db
      .update(instanceInfra)
      .set({
        lifecycle: 'failed',
        errorCode: error.failure.code,
        errorMessage: `${error.step}: ${error.failure.message}`,
      })
      .where(and(eq(instanceInfra.instanceId, instanceId), eq(instanceInfra.lifecycle, 'creating')))
    deps.log.warn({ instanceId, step: error.step, code: error.failure.code }, 'creation failed; undoing it')
    return 'failed'
  }
}

/**
 * The deployment is up when the runtime answers its health route at the instance's URL: that costs no
 * Railway request. Railway is asked only now and then, to notice a deployment that FAILED or CRASHED,
 * and all creations waiting at that moment share one batched request.
 */
async function waitForDeployment(deps: LifecycleDeps, instanceId: string, guard: () => Promise<void>) {
  const row = await getInfra(deps.db, instanceId)
  const ref = { serviceId: row.railwayServiceId as string, environmentId: row.railwayEnvironmentId as string }
  const credential = runtimeCredentialOf(deps.secretBox, row)
  const deadline = Date.now() + deps.config.lifecycle.deployTimeoutMs
  const interval = deps.tuning.deployStatusCheckMs
  let nextStatusCheck = nextTick(Date.now(), interval)
  for (;;) {
    await guard()
    if ((await deps.health.check(row.url as string, credential)).answered) return undefined
    if (Date.now() >= nextStatusCheck) {
      nextStatusCheck = nextTick(Date.now(), interval)
      const status = await deps.deployStatus.statusOf(ref)
      const deployStatus = status?.deployStatus ?? null
      if (deployStatus && FAILED_DEPLOY_STATES.has(deployStatus)) {
        await setInfra(instanceId, { deployStatus })(deps.db)
        throw new PermanentFailure('DEPLOY_FAILED', `the deployment ended ${deployStatus}`)
      }
      await setInfra(instanceId, { deployStatus })(deps.db)
    }
    if (Date.now() >= deadline) {
      throw new PermanentFailure(
        'DEPLOY_TIMEOUT',
        `the instance did not answer within ${deps.config.lifecycle.deployTimeoutMs} ms`,
      )
    }
    await sleep(deps.tuning.deployPollMs)
  }
}
