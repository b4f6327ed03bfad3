// `npm run secrets:reseal`: after adding a new key first in SERVICES_ENCRYPTION_KEY (keeping the old one
// after it), seals every stored secret again under the new key; then the old key can be removed.
import { loadConfig } from '../config.js'
import { openDatabase } from '../db/open-database.js'
import { resealAll } from './reseal.js'
import { createSecretBox } from './secret-box.js'

try {
  const config = loadConfig(process.env)
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    const report = await resealAll(handle.db, createSecretBox(config.encryptionKeys))
    const current = config.encryptionKeys[0]?.id
    console.log(
      `${report.resealed} of ${report.checked} sealed values now use key "${current}" (${handle.kind})`,
    )
  } finally {
    await handle.close()
  }
} catch (error) {
  console.error(`reseal failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
