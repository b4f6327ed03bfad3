import type { FastifyInstance } from 'fastify'
import {
  type EmulatorsOptions,
  type RunningEmulators,
  startEmulators,
} from '../../../emulators/src/start-emulators.js'
import type { AppDeps } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/open-database.js'
import { createRailway, type Railway, type RailwayOptions } from '../../src/infra/railway/index.js'
import { build, testConfig } from './build.js'
import type { TeardownHost } from './database.js'

export interface SystemOptions {
  /** Extra environment for services (on top of the emulators' settings). */
  env?: Record<string, string | undefined>
  emulators?: EmulatorsOptions
  railway?: RailwayOptions
  database?: DatabaseHandle
  /** Engine timings; default: fast ones for tests (50 ms polls and retries). */
  tuning?: AppDeps['tuning']
  /** Captures the app's log lines (with a LOG_LEVEL in `env`; tests default to silent). */
  logStream?: { write(line: string): void }
}

/** Quick polls and retries: the emulators answer in milliseconds. */
export const FAST_TUNING = { stepRetryBaseMs: 20, deployPollMs: 25, deployStatusCheckMs: 200 }

export interface System {
  app: FastifyInstance
  config: Config
  database: DatabaseHandle
  railway: Railway
  emulators: RunningEmulators
}

/**
 * The whole system over real sockets: every provider emulator, the Railway adapter pointed at them, and
 * the app on a fresh Postgres database, wired exactly as `server.ts` wires them. Closed when `t` ends.
 */
export async function startSystem(t: TeardownHost, options: SystemOptions = {}): Promise<System> {
  const emulators = await startEmulators(options.emulators)
  t.teardown(() => emulators.close())
  const env = { ...emulators.env, ...options.env }
  const railway = createRailway(testConfig(env), options.railway)
  t.teardown(() => railway.close())
  const { app, database, config } = await build(t, {
    env,
    railway,
    tuning: { ...FAST_TUNING, ...options.tuning },
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(options.database ? { database: options.database } : {}),
  })
  return { app, config, database, railway, emulators }
}
