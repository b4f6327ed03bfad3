// The committed migrations must describe services/src/db/schema.ts exactly: a schema change without
// `npm run db:generate` fails here. drizzle-kit runs against a temporary copy of migrations/, so the real
// folder is never touched, and without a TTY, so it cannot wait on a prompt (a possible rename makes
// it print an error instead).
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const drizzleKit = join(dirname(createRequire(import.meta.url).resolve('drizzle-kit')), 'bin.cjs')
const run = promisify(execFile)

async function drizzleKitRun(args: string[]) {
  // drizzle-kit exits 0 even when it fails, so callers check its output; stdin is not a TTY.
  const { stdout, stderr } = await run(process.execPath, [drizzleKit, ...args], {
    cwd: repoRoot,
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  })
  return { stdout, stderr, output: `${stdout}\n${stderr}` }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

t.test('schema.ts and the committed migrations agree', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'svc-drift-'))
  t.teardown(() => rm(work, { recursive: true, force: true }))
  const copy = join(work, 'migrations')
  await cp(join(repoRoot, 'migrations'), copy, { recursive: true })
  const before = await listFiles(copy)

  // The project's own config, only writing elsewhere. drizzle-kit resolves `out` from the working
  // directory (the repo root) and refuses absolute paths, hence the relative one.
  const config = join(work, 'drizzle.config.ts')
  await writeFile(
    config,
    `import base from ${JSON.stringify(join(repoRoot, 'drizzle.config.ts'))}\n` +
      `export default { ...base, out: ${JSON.stringify(relative(repoRoot, copy))} }\n`,
  )

  const started = performance.now()
  const { output } = await drizzleKitRun(['generate', '--config', config])
  t.comment(`drizzle-kit generate took ${Math.round(performance.now() - started)} ms`)

  const after = await listFiles(copy)
  const added = after.filter((file) => !before.includes(file))
  t.same(added, [], 'drizzle-kit generate writes no new migration', {
    hint: 'schema.ts changed without a migration: run `npm run db:generate` and commit migrations/',
    output,
  })
  t.match(output, /No schema changes, nothing to migrate/, 'and says so', { output })
})

t.test('drizzle-kit check accepts the committed migrations', async (t) => {
  const { output } = await drizzleKitRun(['check'])
  t.match(output, /Everything's fine/, { output })
})
