import type { OperationId } from '../generated/routes.js'
import { notImplemented } from '../http/problem.js'
import type { Handlers } from './handler-types.js'

/** Handlers for operations that are in the contract but not served yet: each answers 501 NOT_IMPLEMENTED. */
export function notImplementedHandlers<K extends OperationId>(operationIds: readonly K[]): Pick<Handlers, K> {
  const entries = operationIds.map((operationId) => [
    operationId,
    async () => {
      throw notImplemented(operationId)
    },
  ])
  return Object.fromEntries(entries) as Pick<Handlers, K>
}
