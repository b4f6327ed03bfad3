import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { migrateDatabase } from './db/migrate.js'
import { type DatabaseHandle, openDatabase } from './db/open-database.js'
import { createRailway, type Railway, RailwayError } from './infra/railway/index.js'
import { createFleetTokens } from './replicas/fleet-rate-bucket.js'

/** Prints one message and exits: a half-configured control plane must not start. */
function refuseToStart(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** Reads the environment once; on a bad configuration prints every problem in one message and exits. */
function configFromEnv(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) refuseToStart(error.message)
    throw error
  }
}

function railwayFrom(config: Config, database: DatabaseHandle): Railway {
  // Replicas share one Railway token, so they share its rate too: a bucket row in Postgres.
  const fleet =
    config.replicas.coordination === 'postgres' && database.kind === 'postgres'
      ? createFleetTokens(database.db, 'railway')
      : undefined
  try {
    return createRailway(config, fleet ? { governor: { fleet } } : {})
  } catch (error) {
    refuseToStart(`${(error as Error).message} (\`make dev\` points services at the emulators)`)
  }
}

/** The process: config, database, migrations, Railway, the app, `listen`, and a graceful stop. */
async function main() {
  const config = configFromEnv()
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  await migrateDatabase(database)
  const railway = railwayFrom(config, database)
  const app = await buildApp(config, { database, railway })

  // A token that cannot see the workspace will never work: say so and stop. Railway being down is not
  // a reason to stop; /readyz reports it until it answers.
  try {
    const workspace = await railway.checkWorkspace()
    app.log.info({ workspace: workspace.name }, 'Railway token can see the workspace')
  } catch (error) {
    if (error instanceof RailwayError && error.code === 'PROVIDER_UNAUTHORIZED') refuseToStart(error.message)
    app.log.warn(
      { err: error },
      'Railway did not answer the workspace check; /readyz reports it until it does',
    )
  }

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'stopping after an uncaught error')
    else app.log.info({ signal }, 'stopping: no new requests, finishing the ones in flight')
    await app.close()
    await railway.close()
    await database.close()
  })

  await app.listen({ host: config.host, port: config.port })
  app.log.info({ database: database.kind, location: database.location }, 'services is ready')
  // Resumes what a previous run left unfinished, then keeps retrying failed releases.
  app.lifecycle?.startReaper(app.periodicJobs)
}

await main()
