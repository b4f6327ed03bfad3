import type { LimitReset } from './api-key.js'

/** What `POST /keys` accepts, once checked. */
export interface CreateKeyInput {
  name: string
  limit: number | null
  limit_reset: LimitReset | null
  include_byok_in_limit: boolean
  expires_at: string | null
  workspace_id: string | undefined
  creator_user_id: string | null | undefined
}

/** What `PATCH /keys/{hash}` accepts, once checked: only the fields the caller sent. */
export type UpdateKeyInput = Partial<
  Pick<CreateKeyInput, 'name' | 'limit' | 'limit_reset' | 'include_byok_in_limit'> & { disabled: boolean }
>

type Result<T> = { ok: true; value: T } | { ok: false; message: string }

const RESETS = new Set(['daily', 'weekly', 'monthly'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// OpenRouter takes `expires_at` in UTC only and rejects other zones (providers.md §2).
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00)$/

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Unknown fields are ignored, as a provider's lenient parser would; known ones must have the documented type. */
export function parseCreateKey(body: unknown): Result<CreateKeyInput> {
  if (!isRecord(body)) return fail('Request body must be a JSON object')
  if (typeof body.name !== 'string' || body.name.length === 0) return fail('name is required')
  const common = parseCommon(body)
  if (!common.ok) return common
  const expires = body.expires_at ?? null
  if (expires !== null) {
    if (typeof expires !== 'string' || !UTC_TIMESTAMP.test(expires) || Number.isNaN(Date.parse(expires))) {
      return fail('expires_at must be an ISO 8601 timestamp in UTC')
    }
    if (Date.parse(expires) <= Date.now()) return fail('expires_at must be in the future')
  }
  if (
    body.workspace_id !== undefined &&
    (typeof body.workspace_id !== 'string' || !UUID.test(body.workspace_id))
  ) {
    return fail('workspace_id must be a UUID')
  }
  const creator = body.creator_user_id
  if (creator !== undefined && creator !== null && (typeof creator !== 'string' || creator.length === 0)) {
    return fail('creator_user_id must be a non-empty string')
  }
  return {
    ok: true,
    value: {
      name: body.name,
      limit: common.value.limit ?? null,
      limit_reset: common.value.limit_reset ?? null,
      include_byok_in_limit: common.value.include_byok_in_limit ?? false,
      expires_at: expires as string | null,
      workspace_id: body.workspace_id as string | undefined,
      creator_user_id: creator as string | null | undefined,
    },
  }
}

export function parseUpdateKey(body: unknown): Result<UpdateKeyInput> {
  if (!isRecord(body)) return fail('Request body must be a JSON object')
  if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length === 0)) {
    return fail('name must be a non-empty string')
  }
  if (body.disabled !== undefined && typeof body.disabled !== 'boolean')
    return fail('disabled must be a boolean')
  const common = parseCommon(body)
  if (!common.ok) return common
  return {
    ok: true,
    value: {
      ...common.value,
      ...(body.name !== undefined ? { name: body.name as string } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled as boolean } : {}),
    },
  }
}

/** `GET /keys` query: `offset` a non-negative integer, `include_disabled` "true"/"false", `workspace_id` a UUID. */
export function parseListQuery(
  query: Record<string, string | undefined>,
): Result<{ offset: number; includeDisabled: boolean; workspaceId: string | undefined }> {
  const { offset = '0', include_disabled: includeDisabled = 'false', workspace_id: workspaceId } = query
  if (!/^\d+$/.test(offset)) return fail('offset must be a non-negative integer')
  if (includeDisabled !== 'true' && includeDisabled !== 'false')
    return fail('include_disabled must be "true" or "false"')
  if (workspaceId !== undefined && !UUID.test(workspaceId)) return fail('workspace_id must be a UUID')
  return {
    ok: true,
    value: { offset: Number(offset), includeDisabled: includeDisabled === 'true', workspaceId },
  }
}

function parseCommon(
  body: Record<string, unknown>,
): Result<Partial<Pick<CreateKeyInput, 'limit' | 'limit_reset' | 'include_byok_in_limit'>>> {
  const value: Partial<Pick<CreateKeyInput, 'limit' | 'limit_reset' | 'include_byok_in_limit'>> = {}
  if (body.limit !== undefined) {
    if (
      body.limit !== null &&
      (typeof body.limit !== 'number' || !Number.isFinite(body.limit) || body.limit < 0)
    ) {
      return fail('limit must be a non-negative number or null')
    }
    value.limit = body.limit
  }
  if (body.limit_reset !== undefined) {
    if (body.limit_reset !== null && !RESETS.has(body.limit_reset as string)) {
      return fail('limit_reset must be one of daily, weekly, monthly or null')
    }
    value.limit_reset = body.limit_reset as LimitReset | null
  }
  if (body.include_byok_in_limit !== undefined) {
    if (typeof body.include_byok_in_limit !== 'boolean')
      return fail('include_byok_in_limit must be a boolean')
    value.include_byok_in_limit = body.include_byok_in_limit
  }
  return { ok: true, value }
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message }
}
