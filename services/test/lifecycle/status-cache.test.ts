import t from 'tap'
import type { DeployStatus } from '../../src/generated/schemas.js'
import { DeployStatusCache } from '../../src/lifecycle/status-cache.js'

t.test('deploy status cache: what is cached, for how long, for which row version', async (t) => {
  let now = 1_000_000
  const cache = new DeployStatusCache({ steadyTtlMs: 60_000, finalTtlMs: 600_000, now: () => now })
  const v1 = 111
  const exists = (deployStatus: DeployStatus) => ({ deployStatus, exists: true })

  for (const status of ['QUEUED', 'BUILDING', 'DEPLOYING', 'REMOVING', 'NEEDS_APPROVAL', null] as const) {
    cache.set('a', v1, exists(status))
    t.equal(cache.get('a', v1), undefined, `${status} moves on by itself: not cached`)
  }

  cache.set('a', v1, exists('SUCCESS'))
  t.same(cache.get('a', v1), { deployStatus: 'SUCCESS' })
  t.equal(cache.get('a', v1 + 1), undefined, 'the row changed since (a redeploy): a miss')
  t.equal(cache.get('a', v1), undefined, 'and the entry is gone')

  cache.set('a', v1, exists('SUCCESS'))
  now += 59_999
  t.ok(cache.get('a', v1), 'SUCCESS within its TTL')
  now += 1
  t.equal(cache.get('a', v1), undefined, 'SUCCESS after 60 s: asked again')

  cache.set('b', v1, exists('FAILED'))
  cache.set('c', v1, { deployStatus: null, exists: false })
  now += 599_999
  t.same(cache.get('b', v1), { deployStatus: 'FAILED' }, 'FAILED lasts longer')
  t.same(cache.get('c', v1), { deployStatus: null }, 'a service Railway no longer knows too')
  now += 1
  t.equal(cache.get('b', v1), undefined)

  cache.set('d', v1, exists('CRASHED'))
  cache.set('d', v1, exists('BUILDING'))
  t.equal(cache.get('d', v1), undefined, 'a newer uncacheable observation replaces the entry')

  cache.set('e', v1, exists('SUCCESS'))
  now += 10 * 600_000
  cache.set('f', v1, exists('SUCCESS'))
  t.equal(cache.size, 1, 'expired entries of instances nobody asks about are swept')
})
