import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Operation } from '../db/schema.js'
import type { StepsRepository, StepWrite } from '../db/steps-repository.js'
import type { LifecycleObserver, StepOutcome } from './context.js'
import { describeFailure, type FailureInfo, Interrupted } from './failure.js'

/** A step that failed for good; the operation stops here (and a creation is undone). */
export class StepFailed extends Error {
  readonly step: string
  readonly failure: FailureInfo
  constructor(step: string, failure: FailureInfo) {
    super(`step ${step} failed: ${failure.code}: ${failure.message}`)
    this.name = 'StepFailed'
    this.step = step
    this.failure = failure
  }
}

export interface StepRunnerOptions {
  steps: StepsRepository
  instanceId: string
  operation: Operation
  /** Attempts of one step in all, for retryable failures (the adapters already retry inside each call). */
  attempts: number
  /** First pause between attempts; doubles each time. */
  retryBaseMs: number
  /** Throws `Interrupted` when the work must stop before the next external call. */
  guard: () => Promise<void>
  /** Called after every change of a step's state (events for dashboards). */
  onChange: (name: string) => void
  logError: (error: unknown, message: string) => void
  /** Told how long each attempt took and how it ended (metrics). */
  observer?: LifecycleObserver
}

/**
 * Runs the steps of one operation, each exactly once to completion: a step already `done` is skipped, a
 * step is `running` in the database before its call, and `done` (with what it produced) after it.
 * `body(resumed)` gets `resumed = true` when an earlier attempt may have done the work: it must look the
 * resource up before making it again.
 */
export function createStepRunner(options: StepRunnerOptions) {
  const { steps, instanceId, operation } = options
  return async function run(name: string, body: (resumed: boolean) => Promise<StepWrite | undefined>) {
    const current = (await steps.list(instanceId, operation)).find((step) => step.name === name)
    if (current?.state === 'done') return
    for (let attempt = 1; ; attempt++) {
      await options.guard()
      const startedAt = performance.now()
      const observe = (outcome: StepOutcome) =>
        options.observer?.stepAttempted(operation, name, outcome, (performance.now() - startedAt) / 1000)
      const before = await steps.begin(instanceId, operation, name)
      options.onChange(name)
      try {
        const write = await body(before.attempts > 0)
        await steps.finish(instanceId, operation, name, write)
        observe('done')
        options.onChange(name)
        return
      } catch (error) {
        if (error instanceof Interrupted) {
          observe('interrupted')
          throw error
        }
        const failure = describeFailure(error)
        if (failure.code === 'INTERNAL') options.logError(error, `${operation} step ${name} failed`)
        const again = failure.retryable && attempt < options.attempts
        observe(again ? 'retried' : 'failed')
        await steps.fail(instanceId, operation, name, failure, again ? 'running' : 'failed')
        options.onChange(name)
        if (!again) throw new StepFailed(name, failure)
        await sleep(options.retryBaseMs * 2 ** (attempt - 1))
      }
    }
  }
}

export type StepRun = ReturnType<typeof createStepRunner>
