import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createInstancesRepository } from '../../src/db/instances-repository.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { type DatabaseHandle, openDatabase } from '../../src/db/open-database.js'
import { createTestPglite } from '../helpers/database.js'

t.test('PGlite data survives close and reopen of the same data dir', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'svc-pglite-persist-'))
  const opened: DatabaseHandle[] = []
  t.teardown(async () => {
    for (const handle of opened) await handle.close()
    await rm(root, { recursive: true, force: true })
  })
  const dataDir = join(root, '.data')

  let started = performance.now()
  const first = await openDatabase({ dataDir })
  t.comment(`fresh PGlite started in ${Math.round(performance.now() - started)} ms`)
  opened.push(first)
  t.equal(first.kind, 'pglite')
  t.equal(first.location, join(dataDir, 'pglite'))
  t.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')), 'cluster files live in <dataDir>/pglite')

  await migrateDatabase(first)
  await createInstancesRepository(first.db).insert({
    instanceId: 'persisted-1',
    lifecycle: 'ready',
    image: 'ghcr.io/example/runtime:1',
    tokenHash: 'a'.repeat(64),
  })
  await first.close()
  await first.close()
  t.pass('close() twice is harmless')
  await t.rejects(first.ping(), 'ping after close rejects')

  started = performance.now()
  const second = await openDatabase({ dataDir })
  t.comment(`existing PGlite reopened in ${Math.round(performance.now() - started)} ms`)
  opened.push(second)
  await migrateDatabase(second)
  const row = await createInstancesRepository(second.db).get('persisted-1')
  t.equal(row?.image, 'ghcr.io/example/runtime:1', 'the row written before close is there')
  t.equal(row?.tokenHash, 'a'.repeat(64))
})

t.test('ping and repository round trip on PGlite', async (t) => {
  const handle = await createTestPglite(t)
  await t.resolves(handle.ping(), 'ping resolves')

  const repo = createInstancesRepository(handle.db)
  const before = new Date()
  const inserted = await repo.insert({
    instanceId: 'rt-1',
    name: 'Ada',
    lifecycle: 'creating',
    image: 'ghcr.io/example/runtime:2',
    tokenHash: 'b'.repeat(64),
    requestHash: 'c'.repeat(64),
  })
  t.equal(inserted.legacy, false, 'legacy defaults to false')
  t.ok(inserted.createdAt instanceof Date && inserted.createdAt.getTime() >= before.getTime() - 1_000)
  t.ok(inserted.updatedAt instanceof Date)
  t.equal(inserted.destroyedAt, null)
  t.equal(inserted.url, null)

  t.same(await repo.get('rt-1'), inserted, 'get returns what insert returned')
  t.same(await repo.findByTokenHash('b'.repeat(64)), inserted, 'findByTokenHash finds it')
  t.equal(await repo.get('nope'), undefined)
  t.equal(await repo.findByTokenHash('f'.repeat(64)), undefined)
})
