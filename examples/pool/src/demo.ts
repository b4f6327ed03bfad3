/**
 * `make demo`: the reference pool against a running `make dev`. Ticks until POOL_MIN_IDLE instances are
 * healthy, redrawing a table of them, claims one, prints its invite URL, destroys the idle ones it made
 * (so repeated runs do not pile up instances) and exits. The claimed one stays, for you to try.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseEnv } from 'node:util'
import { createServicesClient } from '@agent-pool/services-client'
import { createPool, type PoolInstance } from './pool.js'

const TICK_MS = 1_000
const GIVE_UP_MS = 5 * 60_000

const baseUrl = process.env.SERVICES_URL ?? 'http://127.0.0.1:8080'
const apiKey = process.env.SERVICES_API_KEY ?? devKey()
const minIdle = Number(process.env.POOL_MIN_IDLE ?? 3)

/** The pool key `make dev` wrote on its first run. */
/** Fails fast with a hint, rather than ticking against nothing (the client would keep retrying). */
async function checkServices() {
  const probe = createServicesClient({ baseUrl, apiKey }, { retry: false, timeoutMs: 5_000 })
  const answer = await probe.GET('/registry').catch(() => undefined)
  if (!answer) console.error(`Nothing answers at ${baseUrl}: start \`make dev\` first (in another terminal).`)
  else if (answer.error) console.error(`${baseUrl} refused the pool key: ${answer.error.code}.`)
  else return
  process.exit(1)
}

function devKey(): string {
  try {
    const key = parseEnv(readFileSync('.data/dev.env', 'utf8')).SERVICES_API_KEY
    if (key) return key.split(',')[0] as string
  } catch {}
  console.error('No SERVICES_API_KEY and no .data/dev.env: start `make dev` first (in another terminal).')
  process.exit(1)
}

const client = createServicesClient({ baseUrl, apiKey })
await checkServices()
const pool = createPool({ client, minIdle, env: { SERVICES_URL: baseUrl } })
const started = Date.now()
const log: string[] = []

/** The last health ping: its time, and whether the runtime said it is ready (it warms up after a start). */
function ping(instance: PoolInstance): string {
  if (instance.latencyMs === null) return '—'
  return `${instance.latencyMs} ms${instance.runtimeReady ? '' : ', not ready'}`
}

function table(instances: PoolInstance[]): string {
  const rows = instances.map((i) => [
    i.instanceId,
    i.state,
    i.status ?? '…',
    i.deployStatus ?? '…',
    ping(i),
    `${((Date.now() - i.requestedAt) / 1000).toFixed(1)} s`,
    i.stuckReason ?? '',
  ])
  const header = ['INSTANCE', 'POOL', 'SERVICES', 'RAILWAY', 'PING', 'AGE', 'NOTE']
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

let printed = 0

function redraw(tick: number) {
  // Plain text: on a terminal, clear the screen and show the last few events under the table; in a pipe,
  // print one frame after another, each with only the events that are new since the previous one.
  const tty = process.stdout.isTTY
  if (tty) process.stdout.write('\x1b[H\x1b[2J')
  const elapsed = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`pool → ${baseUrl}   tick ${tick}   ${elapsed} s   min idle ${minIdle}\n`)
  console.log(table(pool.instances()))
  const events = tty ? log.slice(-5) : log.slice(printed)
  printed = log.length
  console.log(events.length > 0 ? `\n${events.join('\n')}\n` : '')
}

const ready = () => pool.instances().filter((i) => i.state === 'ready').length

for (let tick = 1; ready() < minIdle; tick++) {
  if (Date.now() - started > GIVE_UP_MS) {
    console.error(`\nno ${minIdle} healthy instances after ${GIVE_UP_MS / 1000} s; giving up`)
    process.exit(1)
  }
  const report = await pool.tick()
  for (const id of report.created) log.push(`tick ${tick}: asked services for ${id}`)
  for (const { instanceId, reason } of report.destroyed) {
    log.push(`tick ${tick}: destroyed ${instanceId} (${reason}); a replacement is on its way`)
  }
  for (const error of report.errors) log.push(`tick ${tick}: ${error}`)
  redraw(tick)
  await sleep(TICK_MS)
}

console.log('\nclaiming one…')
const claimed = await pool.claim({
  agentName: 'Ada',
  instructions: 'You help the team plan their week.',
  tools: [{ toolId: 'email', mode: 'pool' }],
})
console.log(`claimed ${claimed.instanceId}: conversation ${claimed.conversationId}`)
for (const tool of claimed.tools)
  console.log(`  ${tool.toolId} (${tool.mode}): ${JSON.stringify(tool.config)}`)
console.log(`invite URL: ${claimed.inviteUrl}`)

const idle = pool.instances().filter((i) => i.state !== 'claimed')
await Promise.all(idle.map((i) => pool.release(i.instanceId)))
console.log(`destroyed the ${idle.length} idle instances; ${claimed.instanceId} stays for you`)
