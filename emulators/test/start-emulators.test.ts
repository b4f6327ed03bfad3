import t from 'tap'
import { loadConfig } from '../../services/src/config.js'
import { registryView } from '../../services/src/plugins/tool-catalog.js'
import { startEmulators } from '../src/start-emulators.js'

t.test('startEmulators runs every provider and says how to point services at them', async (t) => {
  const emulators = await startEmulators()
  t.teardown(() => emulators.close())
  const config = loadConfig({
    SERVICES_API_KEY: 'k'.repeat(32),
    SERVICES_ENCRYPTION_KEY: `dev:${Buffer.alloc(32).toString('base64')}`,
    ...emulators.env,
  })
  t.same(
    registryView(config).filter((tool) => !tool.configured),
    [],
    'with the emulators env every tool is configured',
  )
  for (const [name, url] of Object.entries(emulators.env).filter(([name]) => name.endsWith('_URL'))) {
    const origin = new URL(url).origin
    const ledger = await fetch(`${origin}/__emulator/ledger`)
    t.equal(ledger.status, 200, `${name} answers at ${origin}`)
  }
})
