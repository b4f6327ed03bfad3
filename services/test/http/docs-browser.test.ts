import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { chromium } from 'playwright-core'
import t from 'tap'
import { build, POOL_KEY } from '../helpers/build.js'

/** The system Chromium (Debian's `chromium` package); playwright's own browser download is never used. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const SCREENSHOT = resolve('.tap/artifacts/docs-registry.png')
const TOOL_IDS = ['openrouter', 'wallet', 'email', 'sms', 'crypto']

t.test(
  'Swagger UI in a real browser: authorize with the pool key and try GET /registry',
  { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)` },
  async (t) => {
    const { app } = await build(t)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const origin = `http://127.0.0.1:${port}`

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 20_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    t.teardown(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()

    // Every request of the context (the page, its workers, any popup), not only the page's own.
    const requested: string[] = []
    let registryAuthorization: string | undefined
    context.on('request', (request) => {
      requested.push(request.url())
      if (new URL(request.url()).pathname === '/registry') {
        registryAuthorization = request.headers().authorization
      }
    })
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))

    await page.goto(`${origin}/docs`, { waitUntil: 'load' })
    await page.locator('.opblock').first().waitFor()

    // Authorize: paste the pool key into the poolKey scheme's bearer field.
    await page.locator('.auth-wrapper button.authorize').click()
    const dialog = page.locator('.dialog-ux .modal-ux')
    await dialog.waitFor()
    // Each scheme is its own form (poolKey, instanceToken), with its own Authorize and Close buttons.
    const poolKeyScheme = dialog
      .locator('.auth-container')
      .filter({ has: page.locator('h4 code', { hasText: /^poolKey$/ }) })
    await poolKeyScheme.locator('input#auth-bearer-value').fill(POOL_KEY)
    await poolKeyScheme.locator('button.authorize').click()
    await poolKeyScheme.locator('button', { hasText: 'Logout' }).waitFor()
    await poolKeyScheme.locator('button.btn-done').click()
    await dialog.waitFor({ state: 'detached' })

    // GET /registry: expand, try it out, execute.
    const operation = page.locator('#operations-registry-getRegistry')
    await operation.locator('.opblock-summary').first().click()
    const tryItOut = operation.locator('button.try-out__btn')
    await tryItOut.waitFor()
    // `tryItOutEnabled` opens the form already (the button then says "Cancel").
    if ((await tryItOut.textContent())?.trim() === 'Try it out') await tryItOut.click()
    await operation.locator('button.execute').click()

    const live = operation.locator('.live-responses-table .response')
    await live.first().waitFor()
    const status = (await live.locator('.response-col_status').first().textContent())?.trim()
    const body = (await live.locator('.response-col_description pre').first().textContent()) ?? ''
    t.equal(status, '200', 'the live response shown in the page is a 200')
    const shown = JSON.parse(body) as { tools: Array<{ toolId: string }> }
    t.same(
      shown.tools.map((tool) => tool.toolId),
      TOOL_IDS,
      `the response shown lists the tools (${TOOL_IDS.join(', ')})`,
    )
    t.equal(registryAuthorization, `Bearer ${POOL_KEY}`, 'the browser sent the pool key')

    await mkdir(resolve('.tap/artifacts'), { recursive: true })
    // The GET /registry block with its live response (the whole page is ~8,600 px tall).
    await operation.screenshot({ path: SCREENSHOT })
    t.comment(`screenshot: ${SCREENSHOT}`)

    t.ok(requested.includes(`${origin}/registry`), 'the page called GET /registry itself')
    const elsewhere = requested.filter((url) => {
      const { protocol, hostname } = new URL(url)
      return !(protocol === 'data:' || protocol === 'blob:' || hostname === '127.0.0.1')
    })
    t.same(elsewhere, [], `no request left 127.0.0.1 (${requested.length} requests)`)
    t.same(pageErrors, [], 'no script error in the page')
  },
)
