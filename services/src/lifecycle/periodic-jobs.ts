import type { Config } from '../config.js'
import type { NumberPool } from '../plugins/sms.js'
import { releaseExpiredNumbers } from '../plugins/sms.js'

/**
 * Jobs that run with the reaper, besides resuming unfinished work: deleting at Telnyx the phone numbers
 * idle in services' pool for longer than `NUMBER_POOL_IDLE_MS` (a number costs a monthly fee). None
 * when Telnyx is not configured.
 */
export function periodicJobs(config: Pick<Config, 'telnyx' | 'lifecycle'>, numberPool: NumberPool) {
  const { apiUrl, apiKey } = config.telnyx
  if (!apiKey) return []
  return [() => releaseExpiredNumbers({ apiUrl, apiKey, numberPool }, config.lifecycle.numberPoolIdleMs)]
}
