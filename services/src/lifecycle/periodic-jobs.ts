import type { Config } from '../config.js'
import type { NumberPool } from '../plugins/sms.js'
import { releaseExpiredNumbers } from '../plugins/sms.js'
import { retryToolReleases } from './destroy-tool.js'
import { deliverPendingPushes, type LivePushDeps } from './live-push.js'
import type { Provisioner } from './provision-tool.js'
import { resumeInterruptedProvisions } from './resume-provisions.js'
import type { ToolResourceDeps } from './tool-resources.js'

/**
 * Jobs that run with the reaper, besides resuming unfinished creations and destroys: variables a running
 * instance has not received yet are pushed again, tool releases that failed on ready instances are
 * retried, provisions a crash interrupted are finished, and (when Telnyx is configured) phone numbers idle in services' pool longer than
 * `NUMBER_POOL_IDLE_MS` are deleted at Telnyx (a number costs a monthly fee).
 */
export function periodicJobs(
  config: Pick<Config, 'telnyx' | 'lifecycle'>,
  deps: LivePushDeps &
    ToolResourceDeps & {
      numberPool: NumberPool
      /** The app's one provisioner (absent without Railway): interrupted provisions are finished with it. */
      provision?: Provisioner | undefined
    },
): Array<() => Promise<unknown>> {
  const jobs: Array<() => Promise<unknown>> = [
    () => deliverPendingPushes(deps),
    () => retryToolReleases(deps, config.lifecycle.reaperIntervalMs),
  ]
  const { provision } = deps
  if (provision) {
    jobs.push(() => resumeInterruptedProvisions(deps, provision, config.lifecycle.provisionResumeAfterMs))
  }
  const { apiUrl, apiKey } = config.telnyx
  if (apiKey) {
    const numberPool = deps.numberPool
    jobs.push(() => releaseExpiredNumbers({ apiUrl, apiKey, numberPool }, config.lifecycle.numberPoolIdleMs))
  }
  return jobs
}
