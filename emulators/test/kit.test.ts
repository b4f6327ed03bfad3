import t from 'tap'
import { Faults } from '../src/kit/faults.js'
import { Ledger } from '../src/kit/ledger.js'
import { createEmulatorServer } from '../src/kit/server.js'

t.test('fault rules: scope, rates, storms, times, and replay by seed', async (t) => {
  const faults = new Faults([{ operation: 'create', errorRate: 1, errorStatus: 502, times: 2 }], 1)
  t.same(faults.pick('list'), undefined, 'another operation is untouched')
  t.same(faults.pick('create'), { kind: 'error', status: 502, afterWork: false })
  t.same(faults.pick('create'), { kind: 'error', status: 502, afterWork: false })
  t.same(faults.pick('create'), undefined, 'the rule is gone after `times`')

  faults.set([{ rateLimitStorm: { retryAfterSeconds: 1 } }])
  t.same(
    faults.pick('anything'),
    { kind: 'rateLimit', retryAfterSeconds: 1 },
    'a global storm hits everything',
  )

  const sequence = (seed: number) => {
    const f = new Faults([{ errorRate: 0.5 }], seed)
    return Array.from({ length: 40 }, () => (f.pick('op') ? 1 : 0)).join('')
  }
  t.equal(sequence(42), sequence(42), 'the same seed replays the same faults')
  const hits = sequence(7)
    .split('')
    .filter((c) => c === '1').length
  t.ok(hits > 5 && hits < 35, `a 50% rate fires about half the time (${hits}/40)`)
  t.equal(new Faults([{ operation: 'a', latencyMs: 5 }, { latencyMs: 7 }]).latencyFor('a'), 12)
})

t.test('ledger: live resources, creations ever, requests', async (t) => {
  const ledger = new Ledger<'key'>()
  ledger.put('key', 'a', { id: 'a' })
  ledger.put('key', 'a', { id: 'a', v: 2 })
  ledger.put('key', 'b', { id: 'b' })
  t.equal(ledger.delete('key', 'b'), true)
  t.equal(ledger.delete('key', 'b'), false)
  t.same(ledger.snapshot(), { live: { key: [{ id: 'a', v: 2 }] }, created: { key: 2 }, requestCount: 0 })
})

t.test('emulator server: faults over HTTP, request log, control routes', async (t) => {
  const ledger = new Ledger<'thing'>()
  const { app } = createEmulatorServer({
    name: 'demo',
    ledger,
    errorBody: (status, message) => ({ status, message }),
  })
  app.post('/things', { config: { operation: 'createThing' } }, async () => {
    ledger.put('thing', 't1', { id: 't1' })
    return { id: 't1' }
  })
  t.teardown(() => app.close())

  t.equal((await app.inject({ method: 'POST', url: '/things' })).statusCode, 200)
  await app.inject({
    method: 'POST',
    url: '/__emulator/faults',
    payload: { operation: 'createThing', errorRate: 1, errorStatus: 503, times: 1 },
  })
  const failed = await app.inject({ method: 'POST', url: '/things' })
  t.equal(failed.statusCode, 503)
  t.same(failed.json(), { status: 503, message: 'Injected fault' })

  await app.inject({
    method: 'POST',
    url: '/__emulator/faults',
    payload: { operation: 'createThing', rateLimitStorm: { retryAfterSeconds: 3 }, times: 1 },
  })
  const limited = await app.inject({ method: 'POST', url: '/things' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['retry-after'], '3')

  ledger.delete('thing', 't1')
  await app.inject({
    method: 'POST',
    url: '/__emulator/faults',
    payload: { operation: 'createThing', errorRate: 1, failAfterWork: true, times: 1 },
  })
  const afterWork = await app.inject({ method: 'POST', url: '/things' })
  t.equal(afterWork.statusCode, 500, 'the client sees a failure...')
  t.equal(ledger.all('thing').length, 1, '...but the work was done')

  const requests = (await app.inject({ method: 'GET', url: '/__emulator/requests' })).json()
  t.same(
    requests.map((r: { status: number }) => r.status),
    [200, 503, 429, 500],
  )
  t.equal((await app.inject({ method: 'GET', url: '/__emulator/ledger' })).json().live.thing.length, 1)
  await app.inject({ method: 'POST', url: '/__emulator/reset' })
  t.same((await app.inject({ method: 'GET', url: '/__emulator/ledger' })).json(), {
    live: {},
    created: {},
    requestCount: 0,
  })
})
