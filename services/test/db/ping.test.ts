import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import t from 'tap'
import { openDatabase } from '../../src/db/open-database.js'

t.test('ping rejects fast when nothing listens (closed port)', async (t) => {
  const handle = await openDatabase({
    databaseUrl: 'postgres://postgres:secret@127.0.0.1:1/none',
    dataDir: tmpdir(),
  })
  t.teardown(() => handle.close())
  t.equal(handle.location, 'postgres://postgres:***@127.0.0.1:1/none', 'password masked')
  const started = performance.now()
  await t.rejects(handle.ping(), /^postgres ping failed: .*ECONNREFUSED/)
  const elapsed = performance.now() - started
  t.comment(`rejected after ${Math.round(elapsed)} ms`)
  t.ok(elapsed < 4_000, 'within a few seconds')
})

t.test('ping times out when the server accepts but never answers', async (t) => {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })

  const handle = await openDatabase({
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`,
    dataDir: tmpdir(),
    pingTimeoutMs: 500,
  })
  const started = performance.now()
  await t.rejects(handle.ping(), /^postgres ping failed: postgres ping timed out after 500 ms$/)
  const elapsed = performance.now() - started
  t.ok(elapsed < 2_000, `rejected after ${Math.round(elapsed)} ms`)
  const closing = performance.now()
  await handle.close()
  await handle.close()
  t.pass(`close() twice is harmless (took ${Math.round(performance.now() - closing)} ms)`)
})
