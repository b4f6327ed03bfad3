import t from 'tap'
import { startSystem } from '../helpers/system.js'
import { poolAuth } from '../helpers/build.js'
import { deployServices, insertRows, readyRow, untilReady } from './status-fixtures.js'

t.test('probe', async (t) => {
  const system = await startSystem(t, {
    env: { RAILWAY_RATE_LIMIT_PER_SECOND: '1000' },
    emulators: { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 }, rateLimit: false } },
  })
  const services = await deployServices(system, 1000)
  await untilReady(system, services)
  const rows = services.map((s, i) => readyRow(system, `agent-${i}`, s, { url: null }))
  await insertRows(system, rows)
  for (const round of [1, 2]) {
    const start = performance.now()
    const r = await system.app.inject({ method: 'POST', url: '/status/batch', headers: poolAuth(), payload: { instanceIds: rows.map((r) => r.instanceId) } })
    t.comment(`round ${round}: ${r.statusCode} ${Math.round(performance.now() - start)} ms`)
  }
})
