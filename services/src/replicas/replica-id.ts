import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

/**
 * This process's name in lease rows: host and pid say which replica to look at, the random part keeps a
 * restarted process (same pid in a new container) from mistaking its predecessor's leases for its own.
 */
export function newReplicaId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`
}
