import { execFile } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { loadConfig } from '../../services/src/config.js'
import { ensureDevSecrets } from '../dev-secrets.js'

const run = promisify(execFile)
const script = new URL('../dev-secrets.ts', import.meta.url).pathname

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
    if (match?.[1]) env[match[1]] = match[2] ?? ''
  }
  return env
}

t.test('creates the file once, in a new folder, private, with keys that pass loadConfig', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'nested', '.data', 'dev.env')

  const first = await ensureDevSecrets(file)
  t.same(first, { path: file, created: true })
  const text = readFileSync(file, 'utf8')
  if (process.platform !== 'win32') t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600')

  const env = parseEnvFile(text)
  t.same(Object.keys(env).sort(), ['SERVICES_API_KEY', 'SERVICES_ENCRYPTION_KEY'])
  t.match(env.SERVICES_API_KEY, /^sk_dev_[A-Za-z0-9_-]{43}$/)
  t.match(env.SERVICES_ENCRYPTION_KEY, /^dev:[A-Za-z0-9+/]{43}=$/)

  const config = loadConfig(env)
  t.same(config.poolApiKeys, [env.SERVICES_API_KEY])
  t.equal(config.encryptionKeys[0]?.id, 'dev')
  t.equal(config.encryptionKeys[0]?.key.length, 32)

  const second = await ensureDevSecrets(file)
  t.same(second, { path: file, created: false })
  t.equal(readFileSync(file, 'utf8'), text, 'second run leaves the keys unchanged')
})

t.test('two files get different keys', async (t) => {
  const dir = t.testdir()
  await ensureDevSecrets(join(dir, 'a.env'))
  await ensureDevSecrets(join(dir, 'b.env'))
  const a = parseEnvFile(readFileSync(join(dir, 'a.env'), 'utf8'))
  const b = parseEnvFile(readFileSync(join(dir, 'b.env'), 'utf8'))
  t.not(a.SERVICES_API_KEY, b.SERVICES_API_KEY)
  t.not(a.SERVICES_ENCRYPTION_KEY, b.SERVICES_ENCRYPTION_KEY)
})

t.test('the CLI prints the path but no secret', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'dev.env')
  const first = await run(process.execPath, ['--import', 'tsx', script, file])
  const second = await run(process.execPath, ['--import', 'tsx', script, file])
  const env = parseEnvFile(readFileSync(file, 'utf8'))
  t.match(first.stdout, `created ${file}`)
  t.match(second.stdout, `kept existing ${file}`)
  for (const output of [first.stdout, first.stderr, second.stdout, second.stderr]) {
    for (const secret of Object.values(env)) t.notOk(output.includes(secret.slice(-20)), 'no secret printed')
  }

  const usage = await run(process.execPath, ['--import', 'tsx', script]).catch((error: unknown) => error)
  t.match(usage, { code: 2, stderr: /usage: tsx scripts\/dev-secrets\.ts <file>/ }, 'no file argument: usage')
})
