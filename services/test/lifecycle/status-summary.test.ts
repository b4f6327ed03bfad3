import t from 'tap'
import type { InstanceLifecycle } from '../../src/db/schema.js'
import type { DeployStatus, SummaryStatus } from '../../src/generated/schemas.js'
import { asDeployStatus, summaryStatus } from '../../src/lifecycle/status-summary.js'

t.test('summary status: lifecycle first, then a failed deploy, health, a deploy in progress', async (t) => {
  const table: [InstanceLifecycle, DeployStatus, boolean | undefined, SummaryStatus][] = [
    ['creating', 'SUCCESS', true, 'deploying'],
    ['creating', null, undefined, 'deploying'],
    ['failed', 'SUCCESS', true, 'deploy_failed'],
    ['destroying', 'SUCCESS', true, 'unreachable'],
    ['destroyed', null, undefined, 'unreachable'],
    ['ready', 'FAILED', true, 'deploy_failed'],
    ['ready', 'CRASHED', false, 'deploy_failed'],
    ['ready', 'REMOVED', undefined, 'deploy_failed'],
    ['ready', 'SUCCESS', true, 'healthy'],
    ['ready', 'BUILDING', true, 'healthy'],
    ['ready', null, true, 'healthy'],
    ['ready', 'QUEUED', false, 'deploying'],
    ['ready', 'INITIALIZING', undefined, 'deploying'],
    ['ready', 'BUILDING', false, 'deploying'],
    ['ready', 'DEPLOYING', false, 'deploying'],
    ['ready', 'WAITING', false, 'deploying'],
    ['ready', 'SUCCESS', false, 'unreachable'],
    ['ready', 'SUCCESS', undefined, 'unreachable'],
    ['ready', 'SLEEPING', false, 'unreachable'],
    ['ready', 'SKIPPED', false, 'unreachable'],
    ['ready', null, false, 'unreachable'],
  ]
  for (const [lifecycle, deploy, ready, expected] of table) {
    t.equal(summaryStatus(lifecycle, deploy, ready), expected, `${lifecycle}, ${deploy}, ready=${ready}`)
  }
})

t.test('a recorded deploy status outside the contract reads as unknown', async (t) => {
  t.equal(asDeployStatus('SUCCESS'), 'SUCCESS')
  t.equal(asDeployStatus(null), null)
  t.equal(asDeployStatus('SOMETHING_NEW'), null)
})
