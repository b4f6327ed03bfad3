/** Checked inputs of the inbox routes; a failure names the field (`path`) as AgentMail's validation errors do. */
export type Result<T> = { ok: true; value: T } | { ok: false; message: string; path: string[] }

export type MetadataValue = string | number | boolean
export type Metadata = Record<string, MetadataValue>

export interface CreateInboxInput {
  username?: string
  domain?: string
  display_name?: string
  client_id?: string
  metadata?: Metadata
}

export interface UpdateInboxInput {
  display_name?: string
  /** null clears all metadata; a null value removes that key. */
  metadata?: Record<string, MetadataValue | null> | null
}

const MAX_METADATA_KEYS = 256
const MAX_METADATA_CHARS = 256
// AgentMail does not publish its username rule; local parts of ordinary addresses are accepted [I].
const USERNAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const fail = (path: string, message: string): { ok: false; message: string; path: string[] } => ({
  ok: false,
  message,
  path: [path],
})

/** The create body is optional; `null` fields count as absent, as the document marks them nullable. */
export function parseCreateInbox(body: unknown): Result<CreateInboxInput> {
  if (body === undefined || body === null) return { ok: true, value: {} }
  if (!isRecord(body)) return { ok: false, message: 'Expected an object', path: [] }
  const value: CreateInboxInput = {}
  for (const field of ['username', 'domain', 'display_name', 'client_id'] as const) {
    const raw = body[field]
    if (raw === undefined || raw === null) continue
    if (typeof raw !== 'string' || raw.length === 0) return fail(field, `${field} must be a non-empty string`)
    value[field] = raw
  }
  if (value.username !== undefined) {
    value.username = value.username.toLowerCase()
    if (!USERNAME.test(value.username)) return fail('username', 'username is not a valid email local part')
  }
  if (value.client_id?.includes('@')) return fail('client_id', 'client_id must not contain "@"')
  if (body.metadata !== undefined && body.metadata !== null) {
    const metadata = parseMetadata(body.metadata, false)
    if (!metadata.ok) return metadata
    value.metadata = metadata.value as Metadata
  }
  return { ok: true, value }
}

/** At least one of `display_name` or `metadata`; an empty object, or empty metadata, is rejected. */
export function parseUpdateInbox(body: unknown): Result<UpdateInboxInput> {
  if (!isRecord(body)) return { ok: false, message: 'Expected an object', path: [] }
  if (body.display_name === undefined && body.metadata === undefined) {
    return { ok: false, message: 'Provide at least one of display_name or metadata', path: [] }
  }
  const value: UpdateInboxInput = {}
  if (body.display_name !== undefined) {
    if (typeof body.display_name !== 'string') return fail('display_name', 'display_name must be a string')
    value.display_name = body.display_name
  }
  if (body.metadata === null) value.metadata = null
  else if (body.metadata !== undefined) {
    const metadata = parseMetadata(body.metadata, true)
    if (!metadata.ok) return metadata
    if (Object.keys(metadata.value).length === 0)
      return fail('metadata', 'metadata must not be empty; send null to clear')
    value.metadata = metadata.value
  }
  return { ok: true, value }
}

function parseMetadata(raw: unknown, nullable: boolean): Result<Record<string, MetadataValue | null>> {
  if (!isRecord(raw)) return fail('metadata', 'metadata must be an object')
  const entries = Object.entries(raw)
  if (entries.length > MAX_METADATA_KEYS)
    return fail('metadata', `metadata takes at most ${MAX_METADATA_KEYS} keys`)
  for (const [key, value] of entries) {
    if (key.length > MAX_METADATA_CHARS)
      return fail('metadata', `metadata keys are at most ${MAX_METADATA_CHARS} characters`)
    const ok =
      (value === null && nullable) ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= MAX_METADATA_CHARS)
    if (!ok)
      return {
        ok: false,
        message: `metadata.${key} must be a string (≤256), number or boolean`,
        path: ['metadata', key],
      }
  }
  return { ok: true, value: raw as Record<string, MetadataValue | null> }
}

/** `GET /inboxes` query: `limit` a positive integer, `ascending` "true"/"false", `page_token` opaque. */
export function parseListQuery(
  query: Record<string, string | undefined>,
  defaultLimit: number,
  maxLimit: number,
): Result<{ limit: number; ascending: boolean; pageToken: string | undefined }> {
  const { limit, ascending = 'false', page_token: pageToken } = query
  if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1))
    return fail('limit', 'limit must be a positive integer')
  if (ascending !== 'true' && ascending !== 'false') return fail('ascending', 'ascending must be a boolean')
  return {
    ok: true,
    value: {
      // Larger limits are capped, not refused; AgentMail's maximum is not published [I].
      limit: Math.min(limit === undefined ? defaultLimit : Number(limit), maxLimit),
      ascending: ascending === 'true',
      pageToken: pageToken === '' ? undefined : pageToken,
    },
  }
}
