import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { startEmulators } from '../../emulators/src/start-emulators.js'
import { POOL_KEY } from '../../services/test/helpers/build.js'
import { createTestDatabase } from '../../services/test/helpers/database.js'
import { runDockerfile } from './dockerfile-steps.js'

const root = resolve(import.meta.dirname, '../..')

t.test(
  'the Dockerfile, step by step without a Docker engine: build, slim runtime, start, probes',
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'docker-smoke-'))
    t.teardown(() => rmSync(work, { recursive: true, force: true }))
    const built = runDockerfile(root, work)
    const final = built.stages.at(-1)
    if (!final?.cmd) throw new Error('the last stage has no CMD')

    // What the image says about itself, checked as far as no linter here can.
    t.same(
      built.stages.map((stage) => stage.from),
      ['node:20-bookworm-slim', 'node:20-bookworm-slim', 'node:20-bookworm-slim'],
      'every stage on the Node major this machine runs',
    )
    t.equal(process.versions.node.split('.')[0], '20')
    t.equal(final.user, 'node', 'the server runs as the non-root node user')
    t.match(built.instructions.get('HEALTHCHECK')?.[0], /\/healthz/, 'HEALTHCHECK probes /healthz')
    t.same(built.instructions.get('STOPSIGNAL'), ['SIGTERM'])
    t.same(
      built.skipped,
      ['mkdir -p /data && chown node:node /data'],
      'only the data folder set-up is not reproduced',
    )
    t.notOk(existsSync(join(final.dir, 'node_modules/typescript')), 'no dev dependency in the runtime stage')
    t.notOk(existsSync(join(final.dir, 'services/src')), 'no sources in the runtime stage')

    const emulators = await startEmulators()
    t.teardown(() => emulators.close())
    // A database with no tables: the server applies the migrations itself before it listens.
    const database = await createTestDatabase(t, { migrate: false })
    const [command, ...args] = final.cmd
    const server = spawn(command as string, args, {
      cwd: final.dir,
      env: {
        PATH: process.env.PATH,
        ...final.env,
        ...emulators.env,
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: join(work, 'data'),
        DATABASE_URL: database.url,
        SERVICES_API_KEY: POOL_KEY,
        SERVICES_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.teardown(() => {
      if (server.exitCode === null) server.kill('SIGKILL')
    })
    const stderr: string[] = []
    server.stderr.on('data', (chunk) => stderr.push(String(chunk)))
    const address = await new Promise<string>((resolveAddress, reject) => {
      server.once('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr.join('')}`)))
      createInterface({ input: server.stdout }).on('line', (line) => {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match?.[1]) resolveAddress(match[1])
      })
    })

    t.equal((await fetch(`${address}/healthz`)).status, 200, '/healthz')
    const ready = await fetch(`${address}/readyz`)
    t.match(
      await ready.json(),
      { status: 'ok', checks: { database: 'ok', railway: 'ok', recovery: /^(pending|done)$/ } },
      '/readyz',
    )
    t.equal((await fetch(`${address}/docs/`)).status, 200, 'Swagger UI from the built assets')
    const registry = await fetch(`${address}/registry`, { headers: { authorization: `Bearer ${POOL_KEY}` } })
    t.equal(registry.status, 200, 'an authenticated operation')

    server.kill('SIGTERM')
    const [code] = await once(server, 'exit')
    t.equal(code, 0, 'SIGTERM stops it cleanly')
  },
)
