import { createHash } from 'node:crypto'
import t from 'tap'
import { createInstancesRepository } from '../../src/db/instances-repository.js'
import { INSTANCE_LIFECYCLES } from '../../src/db/schema.js'
import { createTestDatabase, rejectionCode } from '../helpers/database.js'

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex')

t.test('instances repository on postgres', async (t) => {
  const started = performance.now()
  const handle = await createTestDatabase(t)
  t.comment(
    `fresh postgres test database created and migrated in ${Math.round(performance.now() - started)} ms`,
  )
  t.equal(handle.kind, 'postgres')
  await t.resolves(handle.ping(), 'ping resolves')
  const repo = createInstancesRepository(handle.db)

  for (const lifecycle of INSTANCE_LIFECYCLES) {
    await repo.insert({
      instanceId: `inst-${lifecycle}`,
      lifecycle,
      image: 'img:1',
      tokenHash: sha256(lifecycle),
    })
  }

  await t.test('findByTokenHash finds live instances only', async (t) => {
    for (const lifecycle of INSTANCE_LIFECYCLES) {
      const found = await repo.findByTokenHash(sha256(lifecycle))
      if (lifecycle === 'destroyed') t.equal(found, undefined, 'a destroyed instance’s token opens nothing')
      else t.equal(found?.instanceId, `inst-${lifecycle}`, `a ${lifecycle} instance is found`)
    }
    t.equal(await repo.findByTokenHash(sha256('unknown')), undefined, 'unknown hash')
    t.equal(await repo.findByTokenHash(''), undefined, 'empty hash')
  })

  await t.test('get', async (t) => {
    t.equal(await repo.get('no-such-instance'), undefined, 'unknown id → undefined')
    const destroyed = await repo.get('inst-destroyed')
    t.equal(destroyed?.lifecycle, 'destroyed', 'get returns any lifecycle')
  })

  await t.test('insert', async (t) => {
    const row = await repo.insert({
      instanceId: 'inst-full',
      name: 'Grace',
      lifecycle: 'ready',
      legacy: true,
      image: 'ghcr.io/example/runtime:3',
      url: 'https://inst-full.up.railway.app',
      railwayProjectId: 'p',
      railwayEnvironmentId: 'e',
      railwayServiceId: 's',
      railwayVolumeId: 'v',
      railwayDomain: 'inst-full.up.railway.app',
      deployStatus: 'SUCCESS',
      runtimeCredential: 'v1:ciphertext',
      destroyedAt: null,
    })
    t.same(await repo.get('inst-full'), row, 'round trip')
    t.equal(row.legacy, true)
    t.equal(row.tokenHash, null, 'token hash is optional (several rows may have none)')
    t.equal(
      await rejectionCode(repo.insert({ instanceId: 'inst-full', lifecycle: 'creating', image: 'x' })),
      '23505',
      'the instance id is the primary key',
    )
    t.equal(
      await rejectionCode(
        repo.insert({
          instanceId: 'inst-dup-token',
          lifecycle: 'creating',
          image: 'x',
          tokenHash: sha256('ready'),
        }),
      ),
      '23505',
      'token hashes are unique',
    )
  })
})
