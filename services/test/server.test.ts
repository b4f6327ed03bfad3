import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { POOL_KEY, testConfig } from './helpers/build.js'
import { createTestDatabase } from './helpers/database.js'

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))

/** Starts `server.ts` as the process a container would run, with only the given environment. */
function startServer(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = ''
  const child = spawn(process.execPath, ['--import=tsx', SERVER], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  return { child, output: () => output }
}

t.test('a bad configuration stops the process with one message naming every problem', async (t) => {
  const { child, output } = startServer({ PORT: 'eighty', SERVICES_API_KEY: 'tiny-secret-xyz' })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  const message = output()
  t.match(message, /Invalid configuration \(3 problems\)/)
  t.match(message, /PORT/)
  t.match(message, /SERVICES_API_KEY/)
  t.match(message, /SERVICES_ENCRYPTION_KEY/)
  t.notMatch(message, /tiny-secret-xyz/, 'the bad secret itself is not echoed')
})

t.test('the server migrates, listens, serves, and stops cleanly on SIGTERM', async (t) => {
  const database = await createTestDatabase(t, { migrate: false })
  const config = testConfig()
  const { child, output } = startServer({
    DATABASE_URL: database.url,
    PORT: '0',
    LOG_LEVEL: 'info',
    SERVICES_API_KEY: POOL_KEY,
    SERVICES_ENCRYPTION_KEY: `k1:${config.encryptionKeys[0]?.key.toString('base64')}`,
  })
  t.teardown(() => child.kill('SIGKILL'))
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line in time:\n${output()}`)), 30_000)
    child.stdout?.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
  })
  const ready = await fetch(`${address}/readyz`)
  t.equal(ready.status, 200, 'ready: migrations were applied at start')
  const registry = await fetch(`${address}/registry`, { headers: { authorization: `Bearer ${POOL_KEY}` } })
  t.equal(registry.status, 200)

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'exits 0 after a graceful stop')
  t.match(output(), /stopping/)
  t.notOk(output().includes(POOL_KEY), 'the key never reached the log')
})
