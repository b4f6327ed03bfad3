import type { FastifyRequest } from 'fastify'
import { type DocumentNode, GraphQLError, getOperationAST, Kind, parse } from 'graphql'

export const GRAPHQL_PATH = '/graphql/v2'

export interface GraphqlBody {
  query: string
  variables?: unknown
  operationName?: string | null
}

export type ParsedRequest =
  | { ok: true; body: GraphqlBody; document: DocumentNode; operation: string | undefined }
  | { ok: false; error: GraphQLError }

// The kit asks for the operation name (fault rules, request log) and the handler needs the document:
// parse once per request.
const cache = new WeakMap<FastifyRequest, ParsedRequest>()

export function parseRequest(request: FastifyRequest): ParsedRequest {
  let parsed = cache.get(request)
  if (!parsed) {
    parsed = parseBody(request.body)
    cache.set(request, parsed)
  }
  return parsed
}

/**
 * The operation name fault rules use: the first root field of the operation to run (`projectCreate`,
 * `serviceInstance`, ...). Undefined off the GraphQL route or for a body that does not parse.
 */
export function operationOf(request: FastifyRequest): string | undefined {
  if (request.routeOptions.url !== GRAPHQL_PATH || request.body === undefined) return undefined
  const parsed = parseRequest(request)
  return parsed.ok ? parsed.operation : undefined
}

function parseBody(body: unknown): ParsedRequest {
  const candidate = (typeof body === 'object' && body !== null ? body : {}) as Partial<GraphqlBody>
  if (typeof candidate.query !== 'string' || candidate.query.trim() === '') {
    return { ok: false, error: new GraphQLError('GraphQL operations must contain a non-empty `query`.') }
  }
  const graphqlBody: GraphqlBody = {
    query: candidate.query,
    variables: candidate.variables,
    operationName: typeof candidate.operationName === 'string' ? candidate.operationName : null,
  }
  try {
    const document = parse(graphqlBody.query)
    const operation = getOperationAST(document, graphqlBody.operationName)
    const first = operation?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD)
    return {
      ok: true,
      body: graphqlBody,
      document,
      operation: first?.kind === Kind.FIELD ? first.name.value : undefined,
    }
  } catch (error) {
    if (error instanceof GraphQLError) return { ok: false, error }
    throw error
  }
}
