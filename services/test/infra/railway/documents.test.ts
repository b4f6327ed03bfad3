import { type DocumentNode, NoDeprecatedCustomRule, parse, specifiedRules, validate } from 'graphql'
import { getVariableValues } from 'graphql/execution/values.js'
import t from 'tap'
import {
  CreateDomain,
  CreateProject,
  CreateService,
  CreateVolume,
  CreateVolumeAndDomain,
  DeleteProject,
  DeleteService,
  DeleteVariable,
  DeleteVolume,
  DeployService,
  type DocumentText,
  deleteVariablesDocument,
  FIXED_DOCUMENTS,
  GetProject,
  GetWorkspace,
  ListProjects,
  ServiceProject,
  statusDocument,
  statusVariables,
  UpdateImageAndDeploy,
  UpsertVariables,
  type VariablesOf,
  VolumeAndDomainOf,
  VolumesOfEnvironment,
} from '../../../src/infra/railway/documents.js'
import { railwaySchema, skipWithoutContracts } from './helpers/contracts.js'

/** Schema validation plus "no deprecated field or argument": both are contract violations here. */
function violations(source: string): string[] {
  const ast = parse(source)
  return validate(railwaySchema(), ast, [...specifiedRules, NoDeprecatedCustomRule]).map((e) => e.message)
}

/** Whether `variables` (as the client sends them) are accepted by the document's variable definitions. */
function variableViolations(ast: DocumentNode, variables: Record<string, unknown>): string[] {
  const operation = ast.definitions[0]
  if (operation?.kind !== 'OperationDefinition') return ['not an operation']
  const result = getVariableValues(railwaySchema(), operation.variableDefinitions ?? [], variables)
  return result.errors?.map((e) => e.message) ?? []
}

const ids = { projectId: 'p1', environmentId: 'e1', serviceId: 's1' }
const credentials = { registryCredentials: { username: 'octocat', password: 'ghp_x' } }

/** One sample of the variables the client sends with each document, typed by the document itself. */
const samples: [DocumentText, Record<string, unknown>][] = [
  [CreateProject, { name: 'agent-1', workspaceId: 'w1' } satisfies VariablesOf<typeof CreateProject>],
  [
    CreateService,
    {
      ...ids,
      name: 'agent',
      image: 'ghcr.io/o/i:tag',
      variables: { A: '1' },
      ...credentials,
    } satisfies VariablesOf<typeof CreateService>,
  ],
  [CreateVolumeAndDomain, { ...ids, targetPort: 8080 } satisfies VariablesOf<typeof CreateVolumeAndDomain>],
  [CreateVolume, ids satisfies VariablesOf<typeof CreateVolume>],
  [CreateDomain, { environmentId: 'e1', serviceId: 's1', targetPort: 8080 }],
  [VolumeAndDomainOf, ids],
  [DeployService, { serviceId: 's1', environmentId: 'e1' }],
  [UpdateImageAndDeploy, { serviceId: 's1', environmentId: 'e1', image: 'ghcr.io/o/i:2', ...credentials }],
  [UpdateImageAndDeploy, { serviceId: 's1', environmentId: 'e1', image: 'ghcr.io/o/i:2' }],
  [UpsertVariables, { ...ids, variables: { A: '1' }, skipDeploys: true }],
  [DeleteVariable, { ...ids, name: 'A' }],
  [DeleteProject, { id: 'p1' }],
  [DeleteService, { id: 's1', environmentId: 'e1' }],
  [DeleteVolume, { volumeId: 'v1' }],
  [ListProjects, { workspaceId: 'w1', first: 100 }],
  [ListProjects, { workspaceId: 'w1', first: 100, after: 'cursor' }],
  [GetProject, { id: 'p1' }],
  [ServiceProject, { id: 's1' }],
  [VolumesOfEnvironment, { projectId: 'p1', environmentId: 'e1', first: 100 }],
  [VolumesOfEnvironment, { projectId: 'p1', environmentId: 'e1', first: 100, after: 'cursor' }],
  [GetWorkspace, { workspaceId: 'w1' }],
]

t.test('every document validates against Railway’s published schema', skipWithoutContracts, async (t) => {
  t.equal(
    new Set(samples.map(([doc]) => doc)).size,
    FIXED_DOCUMENTS.length,
    'every fixed document has a variables sample',
  )
  for (const document of FIXED_DOCUMENTS) {
    const ast = parse(document.source)
    const operation = ast.definitions[0]
    t.equal(ast.definitions.length, 1, `${document.operationName}: one operation`)
    t.equal(
      operation?.kind === 'OperationDefinition' && operation.operation,
      document.kind,
      `${document.operationName}: kind`,
    )
    t.equal(
      operation?.kind === 'OperationDefinition' && operation.name?.value,
      document.operationName,
      `${document.operationName}: operation name`,
    )
    t.same(violations(document.source), [], `${document.operationName} is valid and uses nothing deprecated`)
  }
  for (const [document, variables] of samples) {
    t.same(
      variableViolations(parse(document.source), variables),
      [],
      `${document.operationName}: the variables the client sends are accepted (${Object.keys(variables).join(', ')})`,
    )
  }
})

t.test('the aliased status document validates for 1 and 50 services', skipWithoutContracts, async (t) => {
  for (const count of [1, 2, 50]) {
    const document = statusDocument(count)
    t.same(violations(document.source), [], `${count} service(s): valid`)
    const refs = Array.from({ length: count }, (_, i) => ({ serviceId: `s-${i}`, environmentId: `e-${i}` }))
    t.same(
      variableViolations(parse(document.source), statusVariables(refs)),
      [],
      `${count}: variables accepted`,
    )
    t.equal(
      document.source.match(/serviceInstance\(/g)?.length,
      count,
      `${count} aliased serviceInstance fields`,
    )
    t.notMatch(document.source, /s-0|e-0/, 'ids are variables, never interpolated into the text')
  }
  t.equal(statusDocument(7), statusDocument(7), 'a document is built once per size')
  t.throws(() => statusDocument(0), RangeError)
  t.throws(() => statusDocument(51), RangeError, 'no more than 50 services in one request')
})

t.test('the batched variable delete validates for 1 and 50 names', skipWithoutContracts, async (t) => {
  for (const count of [1, 50]) {
    t.same(violations(deleteVariablesDocument(count).source), [], `${count} name(s): valid`)
  }
})

t.test('the validation can fail: the old code’s calls are rejected', skipWithoutContracts, async (t) => {
  const oldRedeploy = 'mutation { deploymentRedeploy(id: "d1", environmentId: "e1") { id } }'
  t.match(violations(oldRedeploy), [
    /Unknown argument "environmentId" on field "Mutation.deploymentRedeploy"/,
  ])
  t.match(
    violations('mutation { projectCreate(input: { name: "x", teamId: "t" }) { id } }'),
    [/"teamId" is not defined by type "ProjectCreateInput"/],
    'teamId was removed from ProjectCreateInput',
  )
  t.match(
    violations('query { service(id: "s") { deployments { edges { node { id } } } } }'),
    [/Service\.deployments is deprecated/],
    'a deprecated field counts as a violation',
  )
  t.match(
    variableViolations(parse(UpsertVariables.source), { ...ids, variables: { A: '1' } }),
    [/\$skipDeploys/],
    'a missing required variable is caught',
  )
})
