/**
 * `npm run contract:check` (part of `make test`): the spec may not break the clients already released.
 * `openapi/released/<version>.yaml` is the spec each client version was released from. The current
 * spec is compared with the newest one of the client's own major version by `redocly diff
 * --fail-on=major`: a breaking change fails unless `pool-client/package.json` has a new major version
 * (then there is no baseline of that major yet, and the release adds one).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

// The paths can be changed for the script's own test.
const RELEASED = process.env.CONTRACT_RELEASED_DIR ?? 'openapi/released'
const SPEC = process.env.CONTRACT_SPEC ?? 'openapi/openapi.yaml'
const CLIENT_PACKAGE = process.env.CONTRACT_CLIENT_PACKAGE ?? 'pool-client/package.json'
const { version } = JSON.parse(readFileSync(CLIENT_PACKAGE, 'utf8')) as { version: string }
const major = (v: string) => Number(v.split('.')[0])
const newer = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number))
  for (let i = 0; i < 3; i++) if ((x?.[i] ?? 0) !== (y?.[i] ?? 0)) return (x?.[i] ?? 0) - (y?.[i] ?? 0)
  return 0
}

const baselines = readdirSync(RELEASED)
  .filter((file) => /^\d+\.\d+\.\d+\.yaml$/.test(file))
  .map((file) => file.slice(0, -'.yaml'.length))
  .filter((released) => major(released) === major(version))
  .sort(newer)
const baseline = baselines.at(-1)
if (!baseline) {
  console.log(`client ${version} starts major ${major(version)}: no released spec to stay compatible with`)
  process.exit(0)
}

const diff = spawnSync('npx', ['redocly', 'diff', `${RELEASED}/${baseline}.yaml`, SPEC, '--fail-on=major'], {
  encoding: 'utf8',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
})
if (diff.status !== 0) {
  console.error(diff.stdout.replace(/^.*[║╔╚].*\n/gm, ''), diff.stderr)
  console.error(
    `${SPEC} breaks clients released from ${baseline}: make the change compatible, or bump the major version of pool-client (now ${version})`,
  )
  process.exit(1)
}
console.log(`${SPEC} is compatible with the spec client ${baseline} was released from`)
