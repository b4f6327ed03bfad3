import { randomBytes } from 'node:crypto'
import { GraphQLError } from 'graphql'

/** The `extensions.code` values Railway documents (railwayapp/docs PR #1320). */
export type RailwayErrorCode =
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'BAD_USER_INPUT'
  | 'INTERNAL_SERVER_ERROR'

export function newTraceId(): string {
  return randomBytes(8).toString('hex')
}

/** An execution error the caller caused: unknown ids, bad values. */
export function userError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })
}

/**
 * Bad token, or no access to the workspace. The CLI matches on this exact message; the code is not
 * documented, so it gets the generic one.
 */
export function notAuthorized(): GraphQLError {
  return new GraphQLError('Not Authorized', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })
}

/** One error as sent: the GraphQL shape plus `extensions.code` (default INTERNAL_SERVER_ERROR) and `traceId`. */
export function formatError(error: GraphQLError, traceId: string, code?: RailwayErrorCode) {
  const json = error.toJSON()
  return {
    ...json,
    extensions: {
      ...json.extensions,
      code: code ?? json.extensions?.code ?? 'INTERNAL_SERVER_ERROR',
      traceId,
    },
  }
}

/** A whole response body made of one error, for answers that never reach execution. */
export function errorBody(message: string, code: RailwayErrorCode | undefined, traceId: string) {
  const extensions = code === undefined ? { traceId } : { code, traceId }
  return { data: null, errors: [{ message, extensions }] }
}
