import t from 'tap'
import { createGovernor } from '../../../src/infra/railway/governor.js'
import { MAX_PROJECT_NAME_LENGTH, projectNameFor } from '../../../src/infra/railway/project-name.js'
import { createRailwayClient } from '../../../src/infra/railway/railway-client.js'
import { RailwayError } from '../../../src/infra/railway/railway-error.js'
import type { RailwaySender } from '../../../src/infra/railway/transport.js'

interface Call {
  operation: string
  variables: Record<string, unknown>
}

/**
 * The client over a real governor, with a scripted sender in place of HTTP: for the paths the emulator
 * cannot provoke (Railway answers it does not give). The emulator tests cover everything else over sockets.
 */
function scripted(t: { teardown(fn: () => unknown): void }, answer: (call: Call) => unknown) {
  const calls: Call[] = []
  const sender: RailwaySender = {
    async send(document, variables) {
      const call = { operation: document.operationName, variables: variables as Record<string, unknown> }
      calls.push(call)
      return { data: answer(call) as never, rateLimit: undefined }
    },
  }
  const governor = createGovernor(sender, { perSecond: 1_000, retry: { baseDelayMs: 1, maxDelayMs: 2 } })
  t.teardown(() => governor.close())
  return { client: createRailwayClient(governor, { workspaceId: 'ws-1' }), calls }
}

const notFound = (operation: string, path?: string) =>
  new RailwayError({
    code: 'PROVIDER_NOT_FOUND',
    operation,
    message: 'not found',
    status: 200,
    errors: [{ message: 'Variable not found', code: 'BAD_USER_INPUT', ...(path ? { path: [path] } : {}) }],
    mayHaveHappened: false,
  })

const target = { projectId: 'p1', environmentId: 'e1', serviceId: 's1' }

t.test(
  'deleteVariables: one request for all; if Railway says one is gone, one by one where gone is done',
  async (t) => {
    const { client, calls } = scripted(t, (call) => {
      if (call.operation === 'DeleteVariables') throw notFound('DeleteVariables', 'd1')
      if (call.variables.name === 'B') throw notFound('DeleteVariable')
      return { variableDelete: true }
    })
    await client.deleteVariables(target, ['A', 'B', 'C'])
    t.same(
      calls.map(
        (c) =>
          `${c.operation} ${c.variables.name ?? [c.variables.n0, c.variables.n1, c.variables.n2].join(',')}`,
      ),
      ['DeleteVariables A,B,C', 'DeleteVariable A', 'DeleteVariable B', 'DeleteVariable C'],
    )
    t.same(calls[0]?.variables.projectId, 'p1', 'every call names project, environment and service')
  },
)

t.test('statusOf: an error that names no alias is not guessed at', async (t) => {
  const { client } = scripted(t, () => {
    throw notFound('ServiceStatus')
  })
  await t.rejects(client.statusOf([{ serviceId: 's1', environmentId: 'e1' }]), { code: 'PROVIDER_NOT_FOUND' })
})

t.test(
  'createProject gives up after 3 rounds when the project never shows up, with the last error',
  async (t) => {
    const { client, calls } = scripted(t, (call) => {
      if (call.operation === 'CreateProject') {
        throw new RailwayError({
          code: 'PROVIDER_TIMEOUT',
          operation: 'CreateProject',
          message: 'slow',
          mayHaveHappened: true,
        })
      }
      return { projects: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } }
    })
    await t.rejects(client.createProject('agent-x'), { code: 'PROVIDER_TIMEOUT' })
    t.same(
      calls.map((c) => c.operation),
      ['CreateProject', 'ListProjects', 'CreateProject', 'ListProjects', 'CreateProject', 'ListProjects'],
    )
  },
)

t.test('createProject: a refusal is not looked up (it provably did not happen)', async (t) => {
  const { client, calls } = scripted(t, () => {
    throw new RailwayError({
      code: 'PROVIDER_UNAUTHORIZED',
      operation: 'CreateProject',
      message: 'no',
      mayHaveHappened: false,
    })
  })
  await t.rejects(client.createProject('agent-x'), { code: 'PROVIDER_UNAUTHORIZED' })
  t.equal(calls.length, 1)
})

t.test('a cursor that never ends is caught instead of looping for ever', async (t) => {
  const { client, calls } = scripted(t, () => ({
    projects: {
      edges: [{ node: { id: 'p', name: 'x' } }],
      pageInfo: { hasNextPage: true, endCursor: 'same' },
    },
  }))
  await t.rejects(client.listProjects(), { code: 'PROVIDER_BAD_RESPONSE' })
  t.equal(calls.length, 1_000)
})

t.test('project names: deterministic, agent-<instanceId>, safe and bounded', async (t) => {
  t.equal(
    projectNameFor('0b6f3c1e-5d7a-4c1e-9d1a-2b3c4d5e6f70'),
    'agent-0b6f3c1e-5d7a-4c1e-9d1a-2b3c4d5e6f70',
  )
  t.equal(projectNameFor('inst-1'), projectNameFor('inst-1'), 'the same id, the same name')
  const odd = projectNameFor('Inst_1/Weird')
  t.match(odd, /^agent-inst-1-weird-[0-9a-f]{10}$/)
  t.not(projectNameFor('Inst_1/Weird'), projectNameFor('inst-1-weird'), 'cleaning up never merges two ids')
  const long = projectNameFor('x'.repeat(200))
  t.ok(long.length <= MAX_PROJECT_NAME_LENGTH, `${long.length} characters`)
  t.not(long, projectNameFor(`${'x'.repeat(199)}y`), 'long ids stay distinct')
  t.throws(() => projectNameFor(''), RangeError)
})
