/**
 * Runs the tap suite and ends with one `N passed, N failed` line taken from tap's own closing counts
 * (`# { total: 12, pass: 11, fail: 1 }`), which CI reads. Keeps tap's exit code; arguments pass through.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const tap = spawn('npx', ['tap', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] })
let counts: Record<string, number> | undefined

createInterface({ input: tap.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`)
  const summary = /^# \{ (total: \d+.*) \}$/.exec(line)
  if (summary?.[1]) {
    counts = Object.fromEntries(
      [...summary[1].matchAll(/(\w+): (\d+)/g)].map(([, key, n]) => [key, Number(n)]),
    )
  }
})

tap.on('close', (code) => {
  if (!counts) {
    process.stdout.write('tap printed no counts: 0 passed, 1 failed\n')
    process.exit(code || 1)
  }
  const skipped = (counts.skip ?? 0) + (counts.todo ?? 0)
  const extra = skipped ? `, ${skipped} skipped` : ''
  process.stdout.write(`${counts.pass ?? 0} passed, ${counts.fail ?? 0} failed${extra}\n`)
  process.exit(code ?? 1)
})
