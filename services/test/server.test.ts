import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startRailwayEmulator } from '../../emulators/src/railway/index.js'
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

/** What every start needs besides Railway: the database and the two keys. */
async function baseEnv(t: Parameters<typeof createTestDatabase>[0]) {
  const database = await createTestDatabase(t, { migrate: false })
  const key = testConfig().encryptionKeys[0]?.key.toString('base64')
  return {
    DATABASE_URL: database.url,
    PORT: '0',
    LOG_LEVEL: 'info',
    SERVICES_API_KEY: POOL_KEY,
    SERVICES_ENCRYPTION_KEY: `k1:${key}`,
  }
}

async function exitOf(child: ChildProcess): Promise<number> {
  const [code] = await once(child, 'exit')
  return code as number
}

t.test('without Railway credentials the server refuses to start and names them', async (t) => {
  const { child, output } = startServer(await baseEnv(t))
  t.equal(await exitOf(child), 1)
  t.match(output(), /Railway is not configured: set RAILWAY_API_TOKEN and RAILWAY_WORKSPACE_ID/)
})

t.test('a Railway token that cannot see the workspace stops the start, in plain words', async (t) => {
  const railway = await startRailwayEmulator()
  t.teardown(() => railway.close())
  const { child, output } = startServer({
    ...(await baseEnv(t)),
    RAILWAY_API_URL: railway.url,
    RAILWAY_API_TOKEN: 'a-project-token-that-cannot-see-the-workspace',
    RAILWAY_WORKSPACE_ID: railway.workspaceId,
  })
  t.equal(await exitOf(child), 1)
  t.match(output(), /RAILWAY_WORKSPACE_ID|workspace/)
  t.notOk(output().includes('a-project-token-that-cannot-see-the-workspace'), 'the token is not printed')
})

t.test('the server migrates, checks Railway, listens, serves, and stops cleanly on SIGTERM', async (t) => {
  const railway = await startRailwayEmulator()
  t.teardown(() => railway.close())
  const { child, output } = startServer({
    ...(await baseEnv(t)),
    RAILWAY_API_URL: railway.url,
    RAILWAY_API_TOKEN: railway.token,
    RAILWAY_WORKSPACE_ID: railway.workspaceId,
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
  t.match(output(), /Railway token can see the workspace/)
  const ready = await fetch(`${address}/readyz`)
  t.equal(ready.status, 200, 'ready: migrations applied, Railway answers')
  t.match(await ready.json(), {
    status: 'ok',
    checks: { database: 'ok', railway: 'ok', recovery: /^(pending|done)$/ },
  })
  let recovery = ''
  for (let i = 0; i < 100 && recovery !== 'done'; i++) {
    recovery = ((await (await fetch(`${address}/readyz`)).json()) as { checks: { recovery: string } }).checks
      .recovery
    if (recovery !== 'done') await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(recovery, 'done', 'the first reaper pass after start reports recovery done')
  const registry = await fetch(`${address}/registry`, { headers: { authorization: `Bearer ${POOL_KEY}` } })
  t.equal(registry.status, 200)

  child.kill('SIGTERM')
  t.equal(await exitOf(child), 0, 'exits 0 after a graceful stop')
  t.match(output(), /stopping/)
  t.notOk(output().includes(POOL_KEY), 'the key never reached the log')
  t.notOk(output().includes(railway.token), 'the Railway token never reached the log')
})
