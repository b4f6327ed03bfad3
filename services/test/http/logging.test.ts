import t from 'tap'
import { generateToken, hashToken } from '../../src/auth/tokens.js'
import { createInstancesRepository } from '../../src/db/instances-repository.js'
import { build, POOL_KEY } from '../helpers/build.js'

t.test('logs are JSON with a request id on every request line, and never carry a credential', async (t) => {
  const lines: string[] = []
  const { app, database } = await build(t, {
    env: { LOG_LEVEL: 'trace' },
    logStream: { write: (line) => lines.push(line) },
  })
  const token = generateToken('ist_')
  await createInstancesRepository(database.db).insert({
    instanceId: 'agent-log',
    lifecycle: 'ready',
    image: 'img',
    tokenHash: hashToken(token),
  })

  const asPool = await app.inject({
    method: 'GET',
    url: '/registry',
    headers: { authorization: `Bearer ${POOL_KEY}`, 'x-request-id': 'trace-abc-123' },
  })
  t.equal(asPool.headers['x-request-id'], 'trace-abc-123', 'a sane caller request id is kept')
  const asInstance = await app.inject({
    method: 'GET',
    url: '/instances/agent-log',
    headers: { authorization: `Bearer ${token}`, 'x-request-id': 'bad id with spaces' },
  })
  t.match(asInstance.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unsafe one is replaced')
  app.log.info({ headers: { authorization: `Bearer ${POOL_KEY}` }, apiKey: POOL_KEY }, 'a careless log call')

  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const requestLines = records.filter((record) => record.req || record.res)
  t.ok(requestLines.length >= 4, 'request and response lines were logged')
  t.ok(
    requestLines.every((record) => typeof record.requestId === 'string'),
    'every request line has its request id',
  )
  t.ok(records.some((record) => record.requestId === 'trace-abc-123'))
  const all = lines.join('\n')
  t.notOk(all.includes(POOL_KEY), 'the pool key is not in the logs')
  t.notOk(all.includes(token), 'the instance token is not in the logs')
  t.match(all, /\[redacted\]/, 'redaction happened')
})
