import type { Faults } from '../../../emulators/src/kit/faults.js'
import type { RunningEmulators } from '../../../emulators/src/start-emulators.js'
import type { Operation } from '../../src/db/schema.js'
import { projectNameFor } from '../../src/infra/railway/index.js'

/**
 * Where the kill lands, relative to one step:
 * - `request lost`: its provider request reached the provider, which never does the work;
 * - `in flight`: the provider does the work after the crash, before the restarted server looks for it;
 * - `lands late`: the same, but after the restarted server has looked for it (and made another);
 * - `waiting for runtime`: the deploy step is waiting for the runtime to answer;
 * - `answered, unrecorded`: the provider answered; the write that records it is in progress;
 * - `after done`: the step is done; the next one has not begun.
 */
export type Moment =
  | 'request lost'
  | 'in flight'
  | 'lands late'
  | 'waiting for runtime'
  | 'answered, unrecorded'
  | 'after done'

export const MOMENTS: Moment[] = [
  'request lost',
  'in flight',
  'lands late',
  'waiting for runtime',
  'answered, unrecorded',
  'after done',
]

/** Moments held at the step's provider request. */
export const AT_REQUEST = new Set<Moment>(['request lost', 'in flight', 'lands late'])

export interface StepPlan {
  operation: Operation
  step: string
  /** The step's provider request, and whether its work is visible at the provider for an instance id. */
  request?: { faults: Faults; name: string; landed: (id: string) => boolean }
  /** The change (see helpers/kill-points.ts) that records the provider's answer. */
  recorded: string
  /** The deploy step makes no provider request: the kill lands while it waits for the runtime. */
  waits?: true
}

export function applies(plan: StepPlan, moment: Moment): boolean {
  // A delete that lands late finds the resource already deleted by the resume: nothing to test there.
  if (moment === 'lands late') return plan.request !== undefined && plan.operation === 'create'
  if (AT_REQUEST.has(moment)) return plan.request !== undefined
  if (moment === 'waiting for runtime') return plan.waits === true
  return true
}

/** Every step of a creation and of a destroy, in order, with what the kill test needs to hold it. */
export function stepPlans(emulators: RunningEmulators): StepPlan[] {
  const railway = emulators.railway.faults
  const openrouter = emulators.openrouter.faults
  const hasKey = (id: string) =>
    emulators.openrouter.ledger.all<{ name: string }>('key').some((key) => key.name === `${id}:openrouter`)
  const projectOf = (id: string) =>
    emulators.railway.ledger
      .all<{ id: string; name: string }>('project')
      .find((project) => project.name === projectNameFor(id))
  const inProject = (kind: 'service' | 'volume' | 'domain', id: string) =>
    emulators.railway.ledger
      .all<{ projectId: string }>(kind)
      .some((record) => record.projectId === projectOf(id)?.id)

  return [
    {
      operation: 'create',
      step: 'tool:openrouter',
      request: { faults: openrouter, name: 'createKeys', landed: hasKey },
      recorded: 'tool:openrouter:active',
    },
    { operation: 'create', step: 'tool:wallet', recorded: 'tool:wallet:active' },
    {
      operation: 'create',
      step: 'project',
      request: { faults: railway, name: 'projectCreate', landed: (id) => projectOf(id) !== undefined },
      recorded: 'create/project:done',
    },
    {
      operation: 'create',
      step: 'service',
      request: { faults: railway, name: 'serviceCreate', landed: (id) => inProject('service', id) },
      recorded: 'create/service:done',
    },
    {
      operation: 'create',
      step: 'volume_domain',
      // One request with two root mutations; the emulator names it by the first.
      request: {
        faults: railway,
        name: 'volumeCreate',
        landed: (id) => inProject('volume', id) && inProject('domain', id),
      },
      recorded: 'create/volume_domain:done',
    },
    { operation: 'create', step: 'deploy', waits: true, recorded: 'create/deploy:done' },
    {
      operation: 'destroy',
      step: 'tool:openrouter',
      request: { faults: openrouter, name: 'deleteKeys', landed: (id) => !hasKey(id) },
      recorded: 'tool:openrouter:destroyed',
    },
    { operation: 'destroy', step: 'tool:wallet', recorded: 'tool:wallet:destroyed' },
    {
      operation: 'destroy',
      step: 'railway',
      request: { faults: railway, name: 'projectDelete', landed: (id) => projectOf(id) === undefined },
      recorded: 'destroy/railway:done',
    },
  ]
}
