import type { FastifyInstance } from 'fastify'
import { type AppDeps, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/open-database.js'
import { createTestDatabase, type TeardownHost } from './database.js'

/** Two pool keys, as an operator rotating keys would configure them: both must be accepted. */
export const POOL_KEY = 'pk_test_current_0123456789abcdef0123456789'
export const ROTATED_POOL_KEY = 'pk_test_previous_0123456789abcdef012345678'

/** The configuration tests run with; `overrides` are environment variables, as an operator sets them. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    SERVICES_API_KEY: `${POOL_KEY},${ROTATED_POOL_KEY}`,
    SERVICES_ENCRYPTION_KEY: `test:${Buffer.alloc(32, 7).toString('base64')}`,
    LOG_LEVEL: 'silent',
    ...overrides,
  })
}

export interface BuildOptions {
  env?: Record<string, string | undefined>
  database?: DatabaseHandle
  railway?: AppDeps['railway']
  plugins?: AppDeps['plugins']
  tuning?: AppDeps['tuning']
  logStream?: { write(line: string): void }
}

/** The app on a fresh migrated Postgres database, closed when the test ends. */
export async function build(
  t: TeardownHost,
  options: BuildOptions = {},
): Promise<{ app: FastifyInstance; database: DatabaseHandle; config: Config }> {
  const database = options.database ?? (await createTestDatabase(t))
  const config = testConfig(options.env)
  const app = await buildApp(config, {
    database,
    ...(options.railway ? { railway: options.railway } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
  })
  t.teardown(() => app.close())
  return { app, database, config }
}

export const poolAuth = (key = POOL_KEY) => ({ authorization: `Bearer ${key}` })
