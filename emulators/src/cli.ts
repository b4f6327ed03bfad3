/**
 * `npm run emulators`: every provider emulator in one process. Ports come from EMULATOR_<NAME>_PORT
 * (default: fixed ports 4010-4014 so a services config can point at them), latency from EMULATOR_LATENCY_MS.
 * Prints the settings that point services at them; stops on SIGINT/SIGTERM.
 */
import { startEmulators } from './start-emulators.js'

const DEFAULT_PORTS = { railway: 4010, openrouter: 4011, agentmail: 4012, telnyx: 4013, bankr: 4014 }

const portOf = (name: keyof typeof DEFAULT_PORTS) =>
  Number(process.env[`EMULATOR_${name.toUpperCase()}_PORT`] ?? DEFAULT_PORTS[name])

const emulators = await startEmulators({
  ports: {
    railway: portOf('railway'),
    openrouter: portOf('openrouter'),
    agentmail: portOf('agentmail'),
    telnyx: portOf('telnyx'),
    bankr: portOf('bankr'),
  },
  latencyMs: Number(process.env.EMULATOR_LATENCY_MS ?? 0),
})

process.stdout.write('emulators running; point services at them with:\n')
for (const [name, value] of Object.entries(emulators.env)) process.stdout.write(`${name}=${value}\n`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    emulators.close().then(() => process.exit(0))
  })
}
