import { and, eq, inArray } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { type InstanceInfra, instanceInfra, instanceServices } from '../db/schema.js'
import { createStepsRepository } from '../db/steps-repository.js'
import { projectNameFor } from '../infra/railway/index.js'
import type { LifecycleDeps } from './context.js'
import { Interrupted } from './failure.js'
import { createStepRunner, StepFailed } from './step-runner.js'
import { liveToolRows, recordReleaseFailure, releaseToolRow } from './tool-resources.js'

/** What a destroy (or the undoing of a failed creation) still holds, for the 202 answer. */
export interface Remaining {
  toolId: string
  resourceId: string
  status: 'releasing' | 'failed'
}

const TOOL_STEP = /^tool:(.+)$/
/** Twins one project step can leave: one per attempt that died with its request in flight. */
const MAX_TWINS = 10

/**
 * Releases everything an instance holds: each tool resource at its provider, then its Railway project
 * (for a legacy instance: only its own service and volume, never the shared project). Runs for an
 * instance being destroyed (it ends `destroyed`) and to undo a failed creation (it stays `failed`). A
 * resource is forgotten only once its provider says it is gone; one that cannot be released stays
 * tracked, its step `failed`, and the reaper runs this again later. Returns what is still held.
 */
export async function runCleanup(deps: LifecycleDeps, instanceId: string): Promise<Remaining[]> {
  const { db } = deps
  const [infra] = await db.select().from(instanceInfra).where(eq(instanceInfra.instanceId, instanceId))
  if (!infra || (infra.lifecycle !== 'destroying' && infra.lifecycle !== 'failed')) return []
  const steps = createStepsRepository(db)
  const tools = await liveToolRows(db, instanceId)
  await steps.plan(instanceId, 'destroy', [...tools.map((row) => `tool:${row.toolId}`), 'railway'])

  const run = createStepRunner({
    steps,
    instanceId,
    operation: 'destroy',
    attempts: deps.tuning.stepAttempts,
    retryBaseMs: deps.tuning.stepRetryBaseMs,
    guard: async () => {
      if (deps.stopping()) throw new Interrupted('the server is shutting down')
      if (deps.leases && !(await deps.leases.holds(instanceId))) {
        throw new Interrupted('another replica took the destroy over (this lease lapsed)')
      }
    },
    onChange: (name) => deps.events.emit(instanceId, { kind: 'step', operation: 'destroy', name }),
    logError: (err, msg) => deps.log.error({ err, instanceId }, msg),
    observer: deps.observer,
  })

  let failed = false
  // Tool steps planned by an earlier run whose row has since been released are simply done.
  for (const step of await steps.list(instanceId, 'destroy')) {
    const toolId = TOOL_STEP.exec(step.name)?.[1]
    if (!toolId || step.state === 'done') continue
    const row = tools.find((candidate) => candidate.toolId === toolId)
    try {
      await run(step.name, async () => {
        if (row) await releaseToolRow(deps, row)
        return undefined
      })
    } catch (error) {
      if (!(error instanceof StepFailed)) throw error
      failed = true
      if (row) await recordReleaseFailure(db, row, error.failure)
    }
  }

  try {
    await run('railway', () => releaseRailway(deps, infra))
    // The project is gone: a creation stopped half-way no longer counts against the creation slots.
    await deps.creationSlots?.release(instanceId)
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error
    failed = true
  }

  if (!failed) await finish(deps, infra)
  return remainingOf(db, infra)
}

async function releaseRailway(deps: LifecycleDeps, infra: InstanceInfra) {
  const { railway } = deps
  if (infra.legacy) {
    await releaseLegacyService(railway, infra)
    return undefined
  }
  const name = projectNameFor(infra.instanceId)
  const [projectStep] = (await createStepsRepository(deps.db).list(infra.instanceId, 'create')).filter(
    (step) => step.name === 'project',
  )
  let projectId = infra.railwayProjectId
  if (!projectId && projectStep && projectStep.attempts > 0) {
    // A crash inside projectCreate leaves no id behind: the project, if it exists, has its deterministic name.
    projectId = (await railway.findProjectByName(name))?.id ?? null
  }
  if (projectId) await railway.deleteProject(projectId)
  // A projectCreate still in flight when an attempt died can land after the next attempt looked for it by
  // name and made another (the kill test's "lands late"): that twin is recorded nowhere but carries the
  // same name. Only a step that ran more than once can have one, and only then is the whole workspace paged.
  if (projectStep && projectStep.attempts > 1) {
    for (let twins = 0; twins < MAX_TWINS; twins++) {
      const twin = await railway.findProjectByName(name)
      if (!twin) break
      await railway.deleteProject(twin.id)
    }
  }
  return undefined
}

/**
 * The shared project holds other instances: only this one's volumes and service go, never the project.
 * Adopt records no volume, and Railway does not promise that `serviceDelete` removes a service's volumes
 * (it may leave them detached, and then nothing ties them to this instance any more). So the volumes
 * mounted in this service are looked up and deleted first, the service after: a retry after a crash at
 * any point looks them up again and finds exactly those not yet deleted.
 */
async function releaseLegacyService(railway: LifecycleDeps['railway'], infra: InstanceInfra) {
  const {
    railwayProjectId: projectId,
    railwayEnvironmentId: environmentId,
    railwayServiceId: serviceId,
  } = infra
  if (!serviceId || !environmentId) return
  const volumeIds = new Set(projectId ? await railway.volumesOf({ projectId, environmentId, serviceId }) : [])
  if (infra.railwayVolumeId) volumeIds.add(infra.railwayVolumeId)
  for (const volumeId of volumeIds) await railway.deleteVolume(volumeId)
  await railway.deleteService({ serviceId, environmentId })
}

/** Everything is released: a destroyed instance is final; an undone creation stays `failed`, compensated. */
async function finish(deps: LifecycleDeps, infra: InstanceInfra) {
  const { db } = deps
  if (infra.lifecycle === 'destroying') {
    await db
      .update(instanceInfra)
      .set({ lifecycle: 'destroyed', destroyedAt: new Date(), tokenHash: null, runtimeCredential: null })
      .where(and(eq(instanceInfra.instanceId, infra.instanceId), eq(instanceInfra.lifecycle, 'destroying')))
    return
  }
  await db
    .update(instanceInfra)
    .set({ tokenHash: null, runtimeCredential: null })
    .where(eq(instanceInfra.instanceId, infra.instanceId))
  await createStepsRepository(db).markCompensated(infra.instanceId)
}

export async function remainingOf(db: Database, infra: InstanceInfra): Promise<Remaining[]> {
  const held = await db
    .select()
    .from(instanceServices)
    .where(
      and(
        eq(instanceServices.instanceId, infra.instanceId),
        inArray(instanceServices.status, ['provisioning', 'active', 'releasing', 'failed']),
      ),
    )
  const remaining: Remaining[] = held.map((row) => ({
    toolId: row.toolId,
    resourceId: row.resourceId ?? row.idempotencyKey,
    status: row.status === 'failed' ? 'failed' : 'releasing',
  }))
  const railwayStep = (await createStepsRepository(db).list(infra.instanceId, 'destroy')).find(
    (step) => step.name === 'railway',
  )
  if (railwayStep && railwayStep.state !== 'done') {
    const resourceId =
      (infra.legacy ? infra.railwayServiceId : infra.railwayProjectId) ?? projectNameFor(infra.instanceId)
    remaining.push({
      toolId: 'railway',
      resourceId,
      status: railwayStep.state === 'failed' ? 'failed' : 'releasing',
    })
  }
  return remaining
}
