import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { POOL_KEY } from '../../services/test/helpers/build.js'
import { startSystem } from '../../services/test/helpers/system.js'
import { installPackedClient, packClient } from './packed-client.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const tsc = join(root, 'node_modules/.bin/tsc')

/** What the pool will write: typed calls through the installed package only, run by plain node. */
const consumer = (baseUrl: string) => `
import { createServicesClient, statusOf, type Instance, type Problem } from '@agent-pool/services-client'

const services = createServicesClient({ baseUrl: ${JSON.stringify(baseUrl)}, apiKey: ${JSON.stringify(POOL_KEY)} })
const registry = await services.GET('/registry')
const created = await services.POST('/create-instance', { body: { instanceId: 'agent-packaged' } })
const instance: Instance | undefined = created.data
const missing = await services.GET('/instances/{instanceId}', { params: { path: { instanceId: 'agent-nope' } } })
const problem: Problem | undefined = missing.error
const status = await statusOf(services, ['agent-packaged', 'agent-nope'])
console.log(JSON.stringify({
  tools: registry.data?.tools.map((tool) => tool.toolId),
  created: created.response.status,
  lifecycle: instance?.lifecycle,
  missing: problem?.code,
  status: status.instances.map((s) => s.status),
  notFound: status.notFound,
}))
`

t.test(
  'npm pack → install into a blank project offline → typecheck and run against the real server',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'client-consumer-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))

    const { tarball } = await packClient()
    t.ok(tarball.endsWith('.tgz'), `packed ${basename(tarball)}`)
    // ESM only (no CJS build): `require` users get a clear dynamic-import-only verdict, nothing broken.
    const attw = join(root, 'node_modules/.bin/attw')
    const types = await run(attw, [tarball, '--profile', 'esm-only', '--format', 'json'])
    const problems = (
      JSON.parse(types.stdout).analysis.problems as Array<{ kind: string; resolutionKind?: string }>
    )
      .filter((problem) => problem.resolutionKind !== 'node16-cjs' && problem.resolutionKind !== 'node10')
      .map((problem) => problem.kind)
    t.same(problems, [], 'attw: no type problems for ESM and bundler consumers')

    const project = join(dir, 'pool')
    await installPackedClient(project)
    const installed = readdirSync(join(project, 'node_modules/@agent-pool/services-client')).sort()
    t.same(installed, ['README.md', 'CHANGELOG.md', 'dist', 'package.json'].sort(), 'only what users need')

    const system = await startSystem(t, {
      emulators: { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } },
    })
    const address = await system.app.listen({ host: '127.0.0.1', port: 0 })
    writeFileSync(join(project, 'consumer.ts'), consumer(address))
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          lib: ['ES2022', 'DOM'],
          types: [],
          outDir: 'out',
        },
        files: ['consumer.ts'],
      }),
    )
    // Typechecks against the package's own .d.ts (no @types/node, no repo paths), then emits plain JS.
    await run(tsc, ['-p', 'tsconfig.json'], { cwd: project })
    const { stdout } = await run('node', ['out/consumer.js'], { cwd: project })
    t.same(JSON.parse(stdout), {
      tools: ['openrouter', 'wallet', 'email', 'sms', 'crypto'],
      created: 201,
      lifecycle: 'ready',
      missing: 'NOT_FOUND',
      status: ['healthy'],
      notFound: ['agent-nope'],
    })
  },
)
