import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

/** Runs the check with a released spec, a current spec and a client version of the test's choosing. */
function check(dir: string, version: string) {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }))
  return spawnSync('npx', ['tsx', 'scripts/check-contract-version.ts'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      CONTRACT_RELEASED_DIR: join(dir, 'released'),
      CONTRACT_SPEC: join(dir, 'openapi.yaml'),
      CONTRACT_CLIENT_PACKAGE: join(dir, 'package.json'),
    },
  })
}

t.test('a breaking change fails unless the client major version was bumped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'contract-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'released'))
  copyFileSync('openapi/openapi.yaml', join(dir, 'released', '1.2.0.yaml'))
  copyFileSync('openapi/openapi.yaml', join(dir, 'openapi.yaml'))

  t.equal(check(dir, '1.2.0').status, 0, 'the same spec passes')

  // Removing an operation breaks every client that calls it.
  const spec = readFileSync('openapi/openapi.yaml', 'utf8')
  const start = spec.indexOf('  /registry:')
  const end = spec.indexOf('\n  /', start + 3)
  t.ok(start > 0 && end > start, 'the fixture finds the /registry path')
  writeFileSync(join(dir, 'openapi.yaml'), spec.slice(0, start) + spec.slice(end + 1))
  const broken = check(dir, '1.3.0')
  t.equal(broken.status, 1, 'a removed path fails the minor release')
  t.match(broken.stderr, /bump the major version/)
  t.equal(check(dir, '2.0.0').status, 0, 'and passes with a new major version')
})
