import t from 'tap'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import { runtimeCredentialOf } from '../../src/lifecycle/instance-env.js'
import { envOf } from '../../src/lifecycle/tool-resources.js'
import { resealAll } from '../../src/secrets/reseal.js'
import { createSecretBox } from '../../src/secrets/secret-box.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import { startSystem } from '../helpers/system.js'

t.test('reseal: every stored secret moves to the new key, and the old key can go', async (t) => {
  const system = await startSystem(t, {
    emulators: { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } },
  })
  const created = await request(t, system.app, {
    method: 'POST',
    url: '/create-instance',
    headers: poolAuth(),
    payload: { instanceId: 'agent-1', tools: ['email'] },
  })
  t.equal(created.statusCode, 201, created.body)
  const { db } = system.database
  const oldKey = system.config.encryptionKeys[0]
  if (!oldKey) throw new Error('the test config has a key')
  const newKey = { id: 'next', key: Buffer.alloc(32, 9) }
  const before = await db.select().from(instanceServices)

  const rotated = createSecretBox([newKey, oldKey])
  const report = await resealAll(db, rotated)
  t.equal(report.checked, before.length + 1, 'every tool secret and the runtime credential')
  t.equal(report.resealed, report.checked, 'all were under the old key')
  t.same(
    await resealAll(db, rotated),
    { checked: report.checked, resealed: 0 },
    'running it again changes nothing',
  )

  const onlyNew = createSecretBox([newKey])
  const [instance] = await db.select().from(instanceInfra)
  t.match(
    runtimeCredentialOf(onlyNew, instance as never),
    /^rt_/,
    'the runtime credential opens with the new key alone',
  )
  for (const row of await db.select().from(instanceServices)) {
    const old = before.find((b) => b.id === row.id)
    t.same(
      envOf(onlyNew, row),
      envOf(createSecretBox([oldKey]), old as never),
      `${row.toolId}: same variables`,
    )
  }
})
