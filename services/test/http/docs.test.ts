import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { SPEC_PATH } from '../../src/http/docs.js'
import { build } from '../helpers/build.js'

t.test('/openapi.json is the spec file itself', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.same(response.json(), parse(readFileSync(SPEC_PATH, 'utf8')))
})

t.test('/docs serves Swagger UI with bundled assets (works offline)', async (t) => {
  const { app } = await build(t)
  const page = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(page.statusCode, 200)
  t.match(page.body, /swagger-ui/)
  const assets = [...page.body.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map(
    (m) => m[1] as string,
  )
  t.ok(assets.length >= 2, `the page references its scripts and styles (${assets.join(', ')})`)
  for (const asset of assets) {
    t.notMatch(asset, /^https?:/, `${asset} is served locally`)
    const response = await app.inject({ method: 'GET', url: `/docs/${asset.replace(/^\.?\//, '')}` })
    t.equal(response.statusCode, 200, `${asset} loads`)
  }
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.equal(initializer.statusCode, 200)
  const specForUi = await app.inject({ method: 'GET', url: '/docs/json' })
  t.same(specForUi.json(), parse(readFileSync(SPEC_PATH, 'utf8')), 'the UI shows the same spec')
})
