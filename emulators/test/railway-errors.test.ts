import t from 'tap'
import { DOCS, gql, startRailway } from './railway-client.js'

t.test('documents that do not parse or validate get HTTP 400 with the GraphQL code', async (t) => {
  const railway = await startRailway(t)

  const old = await gql(railway, 'mutation { deploymentRedeploy(id: "d-1", environmentId: "e-1") { id } }')
  t.equal(old.status, 400, 'the old code’s deploymentRedeploy(id, environmentId)')
  t.match(old.body, {
    errors: [
      {
        message: /Unknown argument "environmentId"/,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', traceId: /^[0-9a-f]{16}$/ },
      },
    ],
  })
  t.notOk('data' in old.body, 'no data: nothing ran')

  const unknownField = await gql(railway, 'query { me { id } }')
  t.equal(unknownField.status, 400, 'a field the emulator does not serve')
  t.match(unknownField.body.errors, [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }])

  const teamId = await gql(railway, DOCS.projectCreate, { input: { name: 'x', teamId: 't' } })
  t.equal(teamId.status, 400, 'an input field Railway removed (teamId) fails variable coercion')
  t.match(teamId.body.errors, [{ message: /teamId/, extensions: { code: 'BAD_USER_INPUT' } }])

  const parse = await gql(railway, 'mutation { projectCreate(')
  t.equal(parse.status, 400)
  t.match(parse.body.errors, [
    { message: /Syntax Error/, extensions: { code: 'GRAPHQL_PARSE_FAILED', traceId: String } },
  ])

  const empty = await gql(railway, '')
  t.equal(empty.status, 400)
  t.match(empty.body.errors, [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }])

  const notJson = await fetch(railway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${railway.token}` },
    body: '{"query": ',
  })
  t.equal(notJson.status, 400)
  t.match(await notJson.json(), {
    errors: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED', traceId: String } }],
  })

  const badVariables = await gql(railway, DOCS.serviceCreate, {
    input: { projectId: 'p', variables: { PORT: 8080 } },
  })
  t.equal(badVariables.status, 400, 'EnvironmentVariables holds strings only')
  t.match(badVariables.body.errors, [{ extensions: { code: 'BAD_USER_INPUT' } }])
  t.equal(railway.ledger.snapshot().live.project, undefined, 'nothing was created by any of these')
})

t.test('a bad or missing token gets HTTP 200 "Not Authorized" and does nothing', async (t) => {
  const railway = await startRailway(t, { tokens: ['good-token', 'second-token'] })
  const input = { input: { name: 'convos-agent-x', workspaceId: railway.workspaceId } }
  for (const token of ['wrong-token', null]) {
    const reply = await gql(railway, DOCS.projectCreate, input, { token })
    t.equal(reply.status, 200, `token ${token}`)
    t.match(reply.body, {
      data: null,
      errors: [{ message: 'Not Authorized', extensions: { traceId: String } }],
    })
  }
  t.equal(railway.ledger.snapshot().live.project, undefined)

  const second = await gql(
    railway,
    DOCS.workspace,
    { workspaceId: railway.workspaceId },
    { token: 'second-token' },
  )
  t.same(second.body.data.workspace.id, railway.workspaceId, 'every configured token is accepted')

  const otherWorkspace = await gql(railway, DOCS.projectCreate, {
    input: { name: 'x', workspaceId: 'ws-other' },
  })
  t.equal(otherWorkspace.status, 200)
  t.match(otherWorkspace.body, {
    data: null,
    errors: [{ message: 'Not Authorized', path: ['projectCreate'] }],
  })
  t.equal(railway.ledger.snapshot().live.project, undefined, 'no project in another workspace')

  const listOther = await gql(railway, DOCS.projects, { workspaceId: 'ws-other' })
  t.match(listOther.body.errors, [{ message: 'Not Authorized' }])
  const workspaceOther = await gql(railway, DOCS.workspace, { workspaceId: 'ws-other' })
  t.match(workspaceOther.body.errors, [{ message: 'Not Authorized' }])
})

t.test('unknown ids are execution errors: HTTP 200, BAD_USER_INPUT, a path and a traceId', async (t) => {
  const railway = await startRailway(t)
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['project', DOCS.project, { id: 'nope' }, 'Project not found'],
    ['deployment', DOCS.deployment, { id: 'nope' }, 'Deployment not found'],
    [
      'serviceInstance',
      DOCS.serviceInstance,
      { serviceId: 'nope', environmentId: 'nope' },
      'ServiceInstance not found',
    ],
    ['serviceDelete', DOCS.serviceDelete, { id: 'nope' }, 'Service not found'],
    ['serviceCreate', DOCS.serviceCreate, { input: { projectId: 'nope' } }, 'Project not found'],
    [
      'variableCollectionUpsert',
      DOCS.variableCollectionUpsert,
      { input: { projectId: 'nope', environmentId: 'nope', variables: {} } },
      'Project not found',
    ],
  ]
  for (const [field, document, variables, message] of cases) {
    const reply = await gql(railway, document, variables)
    t.equal(reply.status, 200, field)
    t.match(reply.body, {
      data: null,
      errors: [{ message, path: [field], extensions: { code: 'BAD_USER_INPUT', traceId: /^[0-9a-f]{16}$/ } }],
    })
  }
})
