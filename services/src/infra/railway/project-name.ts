import { createHash } from 'node:crypto'

const PREFIX = 'agent-'
/** Kept well under what Railway accepts, so the name also reads well in the dashboard. */
export const MAX_PROJECT_NAME_LENGTH = 60

/**
 * The Railway project name of an instance: `agent-<instanceId>`. Deterministic, because after a crash or
 * an ambiguous `projectCreate` the project is found again by this name (and adopted, not duplicated).
 * An id that is not plain `[a-z0-9-]` or is too long is cleaned up and gets a short hash of the original
 * id, so two different ids can never map to one name.
 */
export function projectNameFor(instanceId: string): string {
  if (instanceId === '') throw new RangeError('an instance id is required for a project name')
  const plain = `${PREFIX}${instanceId}`
  if (/^[a-z0-9-]+$/.test(instanceId) && plain.length <= MAX_PROJECT_NAME_LENGTH) return plain
  const hash = createHash('sha256').update(instanceId).digest('hex').slice(0, 10)
  const cleaned = instanceId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_PROJECT_NAME_LENGTH - PREFIX.length - hash.length - 1)
    .replace(/-+$/, '')
  return cleaned ? `${PREFIX}${cleaned}-${hash}` : `${PREFIX}${hash}`
}
