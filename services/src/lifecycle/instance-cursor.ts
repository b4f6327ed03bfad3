import { ProblemError } from '../http/problem.js'

/** Where a page of `GET /instances` ends: the keyset (created_at, instance_id) of its last row. */
export interface InstanceCursor {
  /** `created_at` to the microsecond, as Postgres stores it (a JS Date would round to milliseconds). */
  createdAt: string
  instanceId: string
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Opaque to clients: base64url of the keyset, so the order can change without breaking their code. */
export function encodeCursor(cursor: InstanceCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.instanceId]), 'utf8').toString('base64url')
}

/** The keyset of a `cursor` parameter; a 400 VALIDATION_FAILED naming the parameter when it is not ours. */
export function decodeCursor(value: string): InstanceCursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [createdAt, instanceId] = parsed as unknown[]
    if (
      typeof createdAt === 'string' &&
      TIMESTAMP.test(createdAt) &&
      !Number.isNaN(Date.parse(createdAt)) &&
      typeof instanceId === 'string' &&
      INSTANCE_ID.test(instanceId)
    ) {
      return { createdAt, instanceId }
    }
  }
  const message = 'is not a cursor this server returned; pass nextCursor of the previous page'
  throw new ProblemError(400, 'VALIDATION_FAILED', `querystring/cursor ${message}`, {
    errors: [{ in: 'querystring', pointer: '/cursor', message }],
  })
}
