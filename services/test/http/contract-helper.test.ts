import t from 'tap'
import { build, poolAuth } from '../helpers/build.js'
import { contractViolations } from '../helpers/contract.js'

/** The helper every HTTP test relies on must be able to fail, or it proves nothing. */
t.test('the contract check catches responses that drift from the spec', async (t) => {
  const { app } = await build(t)
  const good = await app.inject({ method: 'GET', url: '/registry', headers: poolAuth() })
  t.same(contractViolations('GET', '/registry', good), [], 'a real response conforms')

  const drifted = { ...good, body: JSON.stringify({ tools: [{ toolId: 'fax' }] }) } as typeof good
  t.ok(contractViolations('GET', '/registry', drifted).length > 0, 'a wrong body is caught')

  const undeclared = { ...good, statusCode: 418 } as typeof good
  t.match(
    contractViolations('GET', '/registry', undeclared),
    [/418 is not declared/],
    'an undeclared status is caught',
  )

  const wrongType = { ...good, headers: { ...good.headers, 'content-type': 'text/html' } } as typeof good
  t.match(
    contractViolations('GET', '/registry', wrongType),
    [/content type text\/html/],
    'a wrong content type is caught',
  )

  const notFound = await app.inject({ method: 'GET', url: '/nowhere' })
  t.same(contractViolations('GET', '/nowhere', notFound), [], 'unknown routes answer a Problem')
  const badProblem = { ...notFound, body: '{"oops":true}' } as typeof notFound
  t.ok(contractViolations('GET', '/nowhere', badProblem).length > 0, 'a 404 that is not a Problem is caught')
})
