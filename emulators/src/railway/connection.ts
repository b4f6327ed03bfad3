import { userError } from './errors.js'

export interface PageArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
}

export type SortKey = (string | number)[]

// Railway's backend pages with Pothos + Prisma, whose connection defaults are 20 per page and at most 100
// [I]. Keeping them makes an adapter that forgets to page fail here, not only in production.
export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 100

/**
 * A Relay connection over `items`, ordered by `keyOf` (ascending, compared element by element). A cursor
 * is the item's sort key, so paging stays correct when items before the cursor are deleted meanwhile.
 */
export function connection<T>(items: T[], keyOf: (item: T) => SortKey, args: PageArgs) {
  const keyed = items.map((node) => ({ node, key: keyOf(node) })).sort((a, b) => compareKeys(a.key, b.key))
  const after = args.after ? decodeCursor(args.after) : undefined
  const before = args.before ? decodeCursor(args.before) : undefined
  let window = keyed.filter(
    ({ key }) => (!after || compareKeys(key, after) > 0) && (!before || compareKeys(key, before) < 0),
  )
  const first = pageSize(args.first, 'first')
  const last = pageSize(args.last, 'last')
  let hasNextPage = false
  let hasPreviousPage = false
  if (first !== undefined || last === undefined) {
    const size = first ?? DEFAULT_PAGE_SIZE
    hasNextPage = window.length > size
    window = window.slice(0, size)
  }
  if (last !== undefined) {
    hasPreviousPage = window.length > last
    window = window.slice(Math.max(0, window.length - last))
  }
  const edges = window.map(({ node, key }) => ({ node, cursor: encodeCursor(key) }))
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  }
}

function pageSize(value: number | null | undefined, name: string): number | undefined {
  if (value === null || value === undefined) return undefined
  if (value < 0) throw userError(`Argument "${name}" must be a non-negative integer`)
  return Math.min(value, MAX_PAGE_SIZE)
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x === undefined) return -1
    if (y === undefined) return 1
    return x < y ? -1 : 1
  }
  return 0
}

function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

function decodeCursor(cursor: string): SortKey {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(key) && key.every((part) => typeof part === 'string' || typeof part === 'number')) {
      return key
    }
  } catch {
    // falls through to the error below
  }
  throw userError('Invalid cursor')
}
