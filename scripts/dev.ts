/**
 * `make dev`: the whole system offline in one process. Creates local keys once (`.data/dev.env`), starts
 * every provider emulator, points services at them through the same environment variables an operator
 * sets for the real providers, and starts the server (embedded PGlite unless DATABASE_URL is set).
 */
import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { startEmulators } from '../emulators/src/start-emulators.js'
import { ensureDevSecrets } from './dev-secrets.js'

const DEV_ENV_FILE = '.data/dev.env'

await ensureDevSecrets(DEV_ENV_FILE)
const emulators = await startEmulators({ latencyMs: Number(process.env.EMULATOR_LATENCY_MS ?? 50) })
const devEnv = parseEnv(readFileSync(DEV_ENV_FILE, 'utf8'))
// The caller's own environment wins, so `PORT=9090 make dev` works.
for (const [name, value] of Object.entries({ ...emulators.env, ...devEnv })) process.env[name] ??= value

const url = `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 8080}`
process.stdout.write(
  `services: ${url}/docs  (pool key: ${process.env.SERVICES_API_KEY})\n` +
    `emulators: Railway ${emulators.env.RAILWAY_API_URL}, ledgers at <emulator>/__emulator/ledger\n`,
)
process.once('exit', () => void emulators.close())
await import('../services/src/server.js')
