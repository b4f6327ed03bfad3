import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { migrateDatabase } from './db/migrate.js'
import { openDatabase } from './db/open-database.js'

/** Reads the environment once; on a bad configuration prints every problem in one message and exits. */
function configFromEnv(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}

/** The process: config, database, migrations, the app, `listen`, and a graceful stop on SIGTERM/SIGINT. */
async function main() {
  const config = configFromEnv()
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  await migrateDatabase(database)
  const app = await buildApp(config, { database })

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'stopping after an uncaught error')
    else app.log.info({ signal }, 'stopping: no new requests, finishing the ones in flight')
    await app.close()
    await database.close()
  })

  await app.listen({ host: config.host, port: config.port })
  app.log.info({ database: database.kind, location: database.location }, 'services is ready')
}

await main()
