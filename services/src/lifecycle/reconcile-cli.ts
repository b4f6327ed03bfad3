// `npm run reconcile [-- --apply]`: the orphan reconciler from a shell, with the server's environment
// (same database, same provider accounts). Prints the report as JSON; without --apply nothing changes.
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { createNumberPoolRepository } from '../db/number-pool-repository.js'
import { openDatabase } from '../db/open-database.js'
import { createRailway } from '../infra/railway/index.js'
import { createToolPlugins } from '../plugins/index.js'
import { reconcile } from './reconcile.js'

const log = {
  info: (obj: object, msg: string) => console.error(msg, JSON.stringify(obj)),
  warn: (obj: object, msg: string) => console.error(msg, JSON.stringify(obj)),
  error: (obj: object, msg: string) => console.error(msg, JSON.stringify(obj)),
}

try {
  const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false } } })
  const config = loadConfig(process.env)
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const railway = createRailway(config)
  try {
    const plugins = createToolPlugins(config, { numberPool: createNumberPoolRepository(database.db) })
    const report = await reconcile({ db: database.db, railway, plugins, log }, { apply: values.apply })
    console.log(JSON.stringify(report, null, 2))
  } finally {
    await railway.close()
    await database.close()
  }
} catch (error) {
  console.error(`reconcile failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
