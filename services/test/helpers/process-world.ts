import { type RunningEmulators, startEmulators } from '../../../emulators/src/start-emulators.js'
import { createSecretBox, type SecretBox } from '../../src/secrets/secret-box.js'
import { POOL_KEY, testConfig } from './build.js'
import { createTestDatabase, type TeardownHost, type TestPostgresHandle } from './database.js'
import { auditLedgers, untouchedLedgers } from './ledger-audit.js'

export interface ProcessWorld {
  emulators: RunningEmulators
  database: TestPostgresHandle
  secretBox: SecretBox
  /** The environment of a server process (startServerProcess) on this database and these emulators. */
  env: Record<string, string>
  /** Every provider ledger against the database: the disagreements (none = consistent). */
  audit(): Promise<string[]>
}

/**
 * What the tests that run services as child processes share: the emulators, a fresh database, the keys,
 * and a ledger audit whose baseline is taken now. `withEmail`: the run provisions inboxes (audited too).
 */
export async function startProcessWorld(
  t: TeardownHost,
  options: { deployStepMs: number; env?: Record<string, string>; withEmail?: boolean },
): Promise<ProcessWorld> {
  const emulators = await startEmulators({
    railway: { deploy: { stepMs: options.deployStepMs }, runtime: { warmupMs: 0 } },
  })
  t.teardown(() => emulators.close())
  const database = await createTestDatabase(t)
  const encryptionKey = `k1:${Buffer.alloc(32, 7).toString('base64')}`
  const secretBox = createSecretBox(testConfig({ SERVICES_ENCRYPTION_KEY: encryptionKey }).encryptionKeys)
  const withEmail = options.withEmail ?? false
  const baseline = untouchedLedgers(emulators, { withEmail })
  return {
    emulators,
    database,
    secretBox,
    env: {
      ...emulators.env,
      DATABASE_URL: database.url,
      PORT: '0',
      SERVICES_API_KEY: POOL_KEY,
      SERVICES_ENCRYPTION_KEY: encryptionKey,
      ...options.env,
    },
    audit: () => auditLedgers(database, emulators, secretBox, baseline, { withEmail }),
  }
}
