import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { createJsonClient, type JsonClient, type JsonRequest } from '../infra/http/json-client.js'
import { ProviderError } from '../infra/http/provider-error.js'
import { type RetryOptions, withRetries } from '../infra/http/retry.js'
import {
  type CreateInput,
  isIdempotencyKey,
  type MarkedResource,
  type ProvisionedResource,
  type ResourceRef,
  type ToolPlugin,
} from './tool-plugin.js'

/** A number services owns at Telnyx, as the pool records it. */
export interface PoolNumber {
  phoneNumber: string
  telnyxNumberId: string
  messagingProfileId: string
}

export interface PoolEntry extends PoolNumber {
  claimedBy: string | null
  releasedAt: Date | null
}

/**
 * What the plugin needs from the number pool (services/src/db/number-pool-repository.ts implements it).
 * A claimant is the idempotency key of the resource holding the number.
 */
export interface NumberPool {
  take(
    claimant: string,
    filter?: { phoneNumber?: string; releasedBefore?: Date },
  ): Promise<PoolEntry | undefined>
  claimedBy(claimant: string): Promise<PoolEntry | undefined>
  claimedWithPrefix(prefix: string): Promise<PoolEntry[]>
  get(phoneNumber: string): Promise<PoolEntry | undefined>
  claim(number: PoolNumber, claimant: string): Promise<boolean>
  release(phoneNumber: string, claimant: string, releasedAt?: Date): Promise<boolean>
  put(number: PoolNumber): Promise<boolean>
  expired(olderThanMs: number, limit?: number): Promise<PoolEntry[]>
  remove(phoneNumber: string, claimant: string): Promise<boolean>
}

export interface TelnyxAccess {
  /** e.g. `https://api.telnyx.com/v2` */
  apiUrl: string
  /** The pool's Telnyx API v2 key. */
  apiKey: string
  dispatcher?: Dispatcher
  numberPool: NumberPool
  retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>
  timeoutMs?: number
}

export interface SmsPluginOptions extends TelnyxAccess {
  /** The messaging profile every pool number is assigned to (`TELNYX_MESSAGING_PROFILE_ID`). */
  messagingProfileId: string
  /** Interval between reads of a pending order, and between tries of a step waiting on propagation. */
  orderPollMs?: number
  /** How long an order may stay pending (and a new number's messaging settings stay 404). */
  orderTimeoutMs?: number
}

export interface ReleaseReport {
  /** Numbers deleted at Telnyx (or already gone there) and forgotten by the pool. */
  deleted: string[]
  /** Numbers whose deletion failed; they stay idle in the pool and are tried again next run. */
  failed: Array<{ phoneNumber: string; code: string }>
}

export type SmsPlugin = ToolPlugin & {
  /** Deletes at Telnyx the numbers idle in the pool for more than `olderThanMs` (see releaseExpiredNumbers). */
  releaseExpiredNumbers(olderThanMs: number): Promise<ReleaseReport>
}

/** The fields of Telnyx's objects this plugin reads. */
interface TelnyxNumber {
  id: string
  phone_number: string
  messaging_profile_id: string | null
  /** What the order that bought it carried: services puts the buyer's idempotency key there. */
  customer_reference: string | null
}
interface TelnyxOrder {
  id: string
  status: 'pending' | 'success' | 'failure'
  phoneNumber: string
  created_at: string
}

const PROVIDER = 'telnyx'
/** Resource ids of user-mode numbers: the user's own number, which services never releases. */
const USER_PREFIX = 'user:'
/** Claimant of a number the cleanup job is deleting (one per number: `claimed_by` is unique). */
const RELEASE_PREFIX = 'release:'
const E164 = /^\+[1-9][0-9]{6,14}$/
/** How many pooled numbers a provision tries before buying (a pooled number may be gone at Telnyx). */
const POOL_TRIES = 5
/** How many times a settled order's number is looked up before it counts as gone. */
const LOOKUP_TRIES = 3
/** A server that keeps reporting more pages must not keep the reconciler busy forever (2.5M numbers). */
const MAX_NUMBER_PAGES = 10_000

/**
 * The `sms` tool: one Telnyx phone number per instance, with the pool's messaging profile.
 *
 * `create` adopts what an earlier attempt with the same idempotency key got (a pool claim, or a number
 * order whose `customer_reference` is the key), else reuses an idle pooled number, else buys one: search
 * (US, sms) → order (with the messaging profile and the key as `customer_reference`) → wait for the order
 * → assign the messaging profile (retrying 404 while the purchase propagates) → record the claim.
 * `destroy` returns the number to the pool (it stays bought, for the next instance);
 * `releaseExpiredNumbers` deletes long-idle numbers at Telnyx.
 */
export function createSmsPlugin(options: SmsPluginOptions): SmsPlugin {
  const telnyx = telnyxClient(options)
  const pool = options.numberPool
  const pollMs = options.orderPollMs ?? 1_000
  const timeoutMs = options.orderTimeoutMs ?? 60_000

  const resourceOf = (number: PoolNumber, claimant: string): ProvisionedResource => ({
    resourceId: number.telnyxNumberId,
    // `poolClaim` lets destroy release the number only if this resource still holds it (see destroy).
    config: {
      phoneNumber: number.phoneNumber,
      messagingProfileId: number.messagingProfileId,
      poolClaim: claimant,
    },
    // The runtime sends with the pool's key (as before); Telnyx has no per-number keys.
    env: {
      TELNYX_API_KEY: options.apiKey,
      TELNYX_PHONE_NUMBER: number.phoneNumber,
      TELNYX_MESSAGING_PROFILE_ID: number.messagingProfileId,
    },
  })

  /** Polls the order until it leaves `pending`; PROVIDER_TIMEOUT (retryable) after `orderTimeoutMs`. */
  const waitForOrder = async (order: TelnyxOrder): Promise<TelnyxOrder> => {
    const deadline = Date.now() + timeoutMs
    let current = order
    while (current.status === 'pending') {
      if (Date.now() >= deadline) throw timedOut('retrieveNumberOrder', `order ${order.id} still pending`)
      await sleep(pollMs)
      current = readOrder(
        await telnyx.call({
          operation: 'retrieveNumberOrder',
          method: 'GET',
          path: `/number_orders/${order.id}`,
        }),
        'retrieveNumberOrder',
      )
    }
    return current
  }

  /** Assigns the configured profile; Telnyx answers 404 for a few moments after a purchase. */
  const assignProfile = async (number: PoolNumber): Promise<PoolNumber> => {
    if (number.messagingProfileId === options.messagingProfileId) return number
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await telnyx.call({
          operation: 'updatePhoneNumberMessagingSettings',
          method: 'PATCH',
          path: `/phone_numbers/${encodeURIComponent(number.telnyxNumberId)}/messaging`,
          body: { messaging_profile_id: options.messagingProfileId },
        })
        return { ...number, messagingProfileId: options.messagingProfileId }
      } catch (error) {
        if (!isNotFound(error) || Date.now() >= deadline) throw error
        await sleep(pollMs)
      }
    }
  }

  /** The number a settled order bought, if Telnyx still lists it (a few tries: listing may lag). */
  const numberOf = async (order: TelnyxOrder): Promise<PoolNumber | undefined> => {
    for (let attempt = 1; ; attempt++) {
      const found = await lookupNumber(telnyx, order.phoneNumber)
      if (found) return toPoolNumber(found)
      if (attempt >= LOOKUP_TRIES) return undefined
      await sleep(pollMs)
    }
  }

  /**
   * Adopts what an order placed under `claimant` bought. Orders still pending are waited for. Should
   * several have succeeded (a crash between two attempts), the oldest is adopted and the others go to the
   * pool as idle, so no bought number is left untracked.
   */
  const adoptOrdered = async (claimant: string): Promise<PoolNumber | undefined> => {
    const orders = await ordersFor(telnyx, claimant)
    const succeeded: TelnyxOrder[] = []
    for (const order of orders.filter((o) => o.status !== 'failure')) {
      const settled = await waitForOrder(order)
      if (settled.status === 'success') succeeded.push(settled)
    }
    let adopted: PoolNumber | undefined
    for (const order of succeeded) {
      const recorded = await pool.get(order.phoneNumber)
      if (adopted) {
        // An extra number bought under this key: keep it, idle, for the next provision.
        const number = recorded ? undefined : await numberOf(order)
        if (number) await pool.put(number)
        continue
      }
      const holder = recorded?.claimedBy
      // Released since and taken by another resource: no longer this key's to adopt.
      if (recorded && holder !== null && holder !== claimant) continue
      // Released since and idle: take it back (unless another provision is quicker).
      const idle = recorded !== undefined && holder === null
      if (idle && !(await pool.take(claimant, { phoneNumber: order.phoneNumber }))) continue
      const number = recorded ?? (await numberOf(order))
      if (!number) continue // deleted since
      const assigned = await assignProfile(number)
      if (await pool.claim(assigned, claimant)) adopted = assigned
    }
    return adopted
  }

  /** What an earlier attempt under this key got: its pool claim, or what its order bought. */
  const adopt = async (claimant: string): Promise<PoolNumber | undefined> => {
    const held = await pool.claimedBy(claimant)
    if (held) {
      const assigned = await assignProfile(held)
      if (assigned !== held) await pool.claim(assigned, claimant)
      return assigned
    }
    return adoptOrdered(claimant)
  }

  /** Claims an idle pooled number that Telnyx still has; forgets pooled numbers Telnyx no longer has. */
  const reusePooled = async (claimant: string): Promise<PoolNumber | undefined> => {
    for (let i = 0; i < POOL_TRIES; i++) {
      const taken = await pool.take(claimant)
      if (!taken) return undefined
      try {
        await telnyx.call({
          operation: 'retrievePhoneNumber',
          method: 'GET',
          path: `/phone_numbers/${encodeURIComponent(taken.telnyxNumberId)}`,
        })
      } catch (error) {
        if (!isNotFound(error)) throw error // still claimed by us: the retry adopts it
        await pool.remove(taken.phoneNumber, claimant)
        continue
      }
      const assigned = await assignProfile(taken)
      if (assigned !== taken) await pool.claim(assigned, claimant)
      return assigned
    }
    return undefined
  }

  /**
   * Buys a number. The order POST itself is never retried blindly: each attempt first adopts an order
   * an earlier attempt may have placed (its answer lost), and a number sold to someone else since the
   * search (422) or an order that failed leads to a new search.
   */
  const buy = (claimant: string): Promise<PoolNumber> =>
    withRetries(
      async (attempt) => {
        if (attempt > 1) {
          const adopted = await adoptOrdered(claimant)
          if (adopted) return adopted
        }
        const phoneNumber = await searchNumber(telnyx)
        const placed = readOrder(
          await telnyx.once({
            operation: 'createNumberOrder',
            method: 'POST',
            path: '/number_orders',
            body: {
              phone_numbers: [{ phone_number: phoneNumber }],
              messaging_profile_id: options.messagingProfileId,
              customer_reference: claimant,
            },
          }),
          'createNumberOrder',
        )
        if ((await waitForOrder(placed)).status !== 'success') {
          throw new ProviderError({
            code: 'PROVIDER_UNAVAILABLE',
            provider: PROVIDER,
            operation: 'createNumberOrder',
            message: `number order ${placed.id} failed`,
          })
        }
        const adopted = await adoptOrdered(claimant)
        if (!adopted) throw badResponse('createNumberOrder', `order ${placed.id} succeeded without a number`)
        return adopted
      },
      {
        ...telnyx.retry,
        shouldRetry: (error) =>
          error instanceof ProviderError &&
          (error.retryable || (error.operation === 'createNumberOrder' && error.status === 422)),
      },
    )

  return {
    toolId: 'sms',

    async create(input: CreateInput): Promise<ProvisionedResource> {
      const claimant = input.idempotencyKey
      const number = (await adopt(claimant)) ?? (await reusePooled(claimant)) ?? (await buy(claimant))
      return resourceOf(number, claimant)
    },

    /**
     * Adopts without buying: the pool's record of a claim under this key, else a number order whose
     * `customer_reference` is the key (Telnyx's `filter[customer_reference]` on `GET /number_orders`).
     */
    /**
     * Numbers bought by services (their `customer_reference` is a buyer's idempotency key). A number in
     * the pool keeps its first buyer's reference: the reconciler also checks the pool before calling one
     * an orphan.
     */
    inventory() {
      return markedNumbers(telnyx)
    },

    deleteOrphan(resource: MarkedResource) {
      return deleteNumber(telnyx, resource.resourceId)
    },

    async find(input): Promise<ProvisionedResource | undefined> {
      const number = await adopt(input.idempotencyKey)
      return number && resourceOf(number, input.idempotencyKey)
    },

    /**
     * Returns the number to the pool; nothing is deleted at Telnyx. Only the resource that still holds the
     * number (its `poolClaim`) can release it, so a stale repeat after another instance took the number
     * changes nothing ('gone').
     */
    async destroy(resource: ResourceRef): Promise<'destroyed' | 'gone'> {
      if (resource.resourceId.startsWith(USER_PREFIX)) return 'gone'
      const { phoneNumber, poolClaim } = resource.config
      if (typeof phoneNumber !== 'string' || typeof poolClaim !== 'string') {
        throw rejected('releaseNumber', 'the resource has no phoneNumber and poolClaim in its config')
      }
      if (await pool.release(phoneNumber, poolClaim)) return 'destroyed'
      if (await pool.get(phoneNumber)) return 'gone' // idle already, or held by someone else now
      // Never recorded (adopted before the pool knew it) or deleted by the cleanup: ask Telnyx.
      try {
        const number = readNumber(
          await telnyx.call({
            operation: 'retrievePhoneNumber',
            method: 'GET',
            path: `/phone_numbers/${encodeURIComponent(resource.resourceId)}`,
          }),
          'retrievePhoneNumber',
        )
        await pool.put(toPoolNumber(number))
        return 'destroyed'
      } catch (error) {
        if (isNotFound(error)) return 'gone'
        throw error
      }
    },

    /**
     * `user` mode: the caller's own key and number, checked by listing the account's numbers filtered by
     * it (one cheap read). A refused key is PROVIDER_UNAUTHORIZED; a number the account does not own is
     * PROVIDER_REJECTED. The profile is the one given, else the number's own.
     */
    async useUserConfig(
      _instanceId: string,
      userConfig: Record<string, unknown>,
    ): Promise<ProvisionedResource> {
      const { apiKey, phoneNumber, messagingProfileId } = userConfig
      if (typeof apiKey !== 'string' || apiKey.length === 0)
        throw rejected('listPhoneNumbers', 'apiKey is required')
      if (typeof phoneNumber !== 'string' || !E164.test(phoneNumber)) {
        throw rejected('listPhoneNumbers', 'phoneNumber must be an E.164 number')
      }
      if (
        messagingProfileId !== undefined &&
        (typeof messagingProfileId !== 'string' || !messagingProfileId)
      ) {
        throw rejected('listPhoneNumbers', 'messagingProfileId must be a non-empty string')
      }
      const userClient = telnyxClient({ ...options, apiKey })
      const number = await lookupNumber(userClient, phoneNumber)
      if (!number) throw rejected('listPhoneNumbers', 'this Telnyx account does not own the phone number')
      const profile = messagingProfileId ?? number.messaging_profile_id
      if (!profile) {
        throw rejected('listPhoneNumbers', 'the number has no messaging profile; give messagingProfileId')
      }
      return {
        resourceId: `${USER_PREFIX}${number.id}`,
        config: { phoneNumber: number.phone_number, messagingProfileId: profile },
        env: {
          TELNYX_API_KEY: apiKey,
          TELNYX_PHONE_NUMBER: number.phone_number,
          TELNYX_MESSAGING_PROFILE_ID: profile,
        },
      }
    },

    releaseExpiredNumbers: (olderThanMs) => releaseExpiredNumbers(options, olderThanMs),
  }
}

/**
 * Deletes at Telnyx the numbers idle in the pool for more than `olderThanMs` (at most 100 per run), so
 * unused numbers stop costing a monthly fee. Each number is first claimed for deletion (a provision
 * taking it at the same moment wins, and it is skipped); a 404 counts as deleted. Deletions a crash
 * interrupted are finished first. A failed deletion puts the number back, idle since the same moment.
 */
export async function releaseExpiredNumbers(
  options: TelnyxAccess,
  olderThanMs: number,
): Promise<ReleaseReport> {
  const telnyx = telnyxClient(options)
  const pool = options.numberPool
  const report: ReleaseReport = { deleted: [], failed: [] }

  const deleteAtTelnyx = async (entry: PoolEntry, claimant: string, idleSince: Date) => {
    try {
      await deleteNumber(telnyx, entry.telnyxNumberId)
    } catch (error) {
      await pool.release(entry.phoneNumber, claimant, idleSince)
      report.failed.push({ phoneNumber: entry.phoneNumber, code: codeOf(error) })
      return
    }
    await pool.remove(entry.phoneNumber, claimant)
    report.deleted.push(entry.phoneNumber)
  }

  for (const entry of await pool.claimedWithPrefix(RELEASE_PREFIX)) {
    await deleteAtTelnyx(entry, entry.claimedBy as string, new Date())
  }
  const cutoff = new Date(Date.now() - olderThanMs)
  for (const entry of await pool.expired(olderThanMs)) {
    const claimant = `${RELEASE_PREFIX}${entry.phoneNumber}`
    const taken = await pool.take(claimant, { phoneNumber: entry.phoneNumber, releasedBefore: cutoff })
    if (taken) await deleteAtTelnyx(taken, claimant, entry.releasedAt ?? new Date())
  }
  return report
}

// ---- Telnyx calls --------------------------------------------------------------------------------------

interface TelnyxCalls {
  /** A call retried on retryable failures (reads, idempotent writes). */
  call(request: JsonRequest): Promise<unknown>
  /** A call made once (a number order: a blind retry could buy twice). */
  once(request: JsonRequest): Promise<unknown>
  retry: RetryOptions
}

function telnyxClient(options: TelnyxAccess): TelnyxCalls {
  const client: JsonClient = createJsonClient({
    provider: PROVIDER,
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  })
  const retry: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry }
  return {
    retry,
    call: async (request) => (await withRetries(() => client.request<unknown>(request), retry)).body,
    once: async (request) => (await client.request<unknown>(request)).body,
  }
}

/** One US number with SMS for sale (the query the runtime used). */
async function searchNumber(telnyx: TelnyxCalls): Promise<string> {
  const body = (await telnyx.call({
    operation: 'listAvailablePhoneNumbers',
    method: 'GET',
    path: '/available_phone_numbers',
    query: { 'filter[country_code]': 'US', 'filter[features][]': 'sms', 'filter[limit]': 1 },
  })) as { data?: Array<{ phone_number?: unknown }> } | undefined
  if (!Array.isArray(body?.data)) throw badResponse('listAvailablePhoneNumbers', 'data is not a list')
  const phoneNumber = body.data[0]?.phone_number
  if (phoneNumber === undefined) {
    throw rejected('listAvailablePhoneNumbers', 'Telnyx has no US number with SMS for sale')
  }
  if (typeof phoneNumber !== 'string' || !E164.test(phoneNumber)) {
    throw badResponse('listAvailablePhoneNumbers', 'a number that is not E.164')
  }
  return phoneNumber
}

/** The orders placed with `customer_reference` = `claimant`, oldest first. */
async function ordersFor(telnyx: TelnyxCalls, claimant: string): Promise<TelnyxOrder[]> {
  const body = (await telnyx.call({
    operation: 'listNumberOrders',
    method: 'GET',
    path: '/number_orders',
    // One key places a handful of orders at most: one page of the maximum size holds them all.
    query: { 'filter[customer_reference]': claimant, 'page[size]': 250 },
  })) as { data?: unknown[] } | undefined
  if (!Array.isArray(body?.data)) throw badResponse('listNumberOrders', 'data is not a list')
  return body.data
    .map((order) => readOrder({ data: order }, 'listNumberOrders'))
    .sort((a, b) => a.created_at.localeCompare(b.created_at))
}

/**
 * The account's number with this E.164 value, or undefined. `filter[phone_number]` takes digits only
 * (Telnyx returns nothing for non-numerical characters) and matches partially, so the exact one is picked.
 */
async function lookupNumber(telnyx: TelnyxCalls, phoneNumber: string): Promise<TelnyxNumber | undefined> {
  const body = (await telnyx.call({
    operation: 'listPhoneNumbers',
    method: 'GET',
    path: '/phone_numbers',
    query: { 'filter[phone_number]': phoneNumber.replace(/\D/g, '') },
  })) as { data?: unknown[] } | undefined
  if (!Array.isArray(body?.data)) throw badResponse('listPhoneNumbers', 'data is not a list')
  return body.data
    .map((number) => readNumber({ data: number }, 'listPhoneNumbers'))
    .find((number) => number.phone_number === phoneNumber)
}

/** Deletes a number at Telnyx (it stops costing its monthly fee); one Telnyx no longer has is 'gone'. */
async function deleteNumber(telnyx: TelnyxCalls, numberId: string): Promise<'destroyed' | 'gone'> {
  try {
    await telnyx.call({
      operation: 'deletePhoneNumber',
      method: 'DELETE',
      path: `/phone_numbers/${encodeURIComponent(numberId)}`,
    })
    return 'destroyed'
  } catch (error) {
    if (isNotFound(error)) return 'gone'
    throw error
  }
}

/** The account's numbers whose `customer_reference` is an idempotency key services makes; all pages. */
async function markedNumbers(telnyx: TelnyxCalls): Promise<MarkedResource[]> {
  const marked: MarkedResource[] = []
  for (let page = 1; page <= MAX_NUMBER_PAGES; page++) {
    const body = (await telnyx.call({
      operation: 'listPhoneNumbers',
      method: 'GET',
      path: '/phone_numbers',
      query: { 'page[size]': 250, 'page[number]': page },
    })) as { data?: unknown[]; meta?: { total_pages?: unknown } } | undefined
    if (!Array.isArray(body?.data)) throw badResponse('listPhoneNumbers', 'data is not a list')
    for (const item of body.data) {
      const number = readNumber({ data: item }, 'listPhoneNumbers')
      if (!isIdempotencyKey(number.customer_reference)) continue
      marked.push({
        resourceId: number.id,
        config: { phoneNumber: number.phone_number, messagingProfileId: number.messaging_profile_id ?? '' },
        idempotencyKey: number.customer_reference,
      })
    }
    const totalPages = body.meta?.total_pages
    if (body.data.length === 0 || typeof totalPages !== 'number' || page >= totalPages) return marked
  }
  throw badResponse('listPhoneNumbers', `more than ${MAX_NUMBER_PAGES} pages of numbers`)
}

function readOrder(body: unknown, operation: string): TelnyxOrder {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data
  const numbers = data?.phone_numbers as Array<{ phone_number?: unknown }> | undefined
  const phoneNumber = numbers?.[0]?.phone_number
  const status = data?.status
  if (
    typeof data?.id !== 'string' ||
    (status !== 'pending' && status !== 'success' && status !== 'failure') ||
    typeof phoneNumber !== 'string'
  ) {
    throw badResponse(operation, 'a number order without id, status or phone number')
  }
  return {
    id: data.id,
    status,
    phoneNumber,
    created_at: typeof data.created_at === 'string' ? data.created_at : '',
  }
}

function readNumber(body: unknown, operation: string): TelnyxNumber {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data
  if (typeof data?.id !== 'string' || typeof data.phone_number !== 'string') {
    throw badResponse(operation, 'a phone number without id or phone_number')
  }
  const profile = data.messaging_profile_id
  return {
    id: data.id,
    phone_number: data.phone_number,
    messaging_profile_id: typeof profile === 'string' && profile !== '' ? profile : null,
    customer_reference: typeof data.customer_reference === 'string' ? data.customer_reference : null,
  }
}

/** A Telnyx number as the pool records it. No profile is recorded as '': assignProfile then sets one. */
function toPoolNumber(number: TelnyxNumber): PoolNumber {
  return {
    phoneNumber: number.phone_number,
    telnyxNumberId: number.id,
    messagingProfileId: number.messaging_profile_id ?? '',
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof ProviderError && error.code === 'PROVIDER_NOT_FOUND'
}

function codeOf(error: unknown): string {
  return error instanceof ProviderError ? error.code : 'UNKNOWN'
}

function timedOut(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_TIMEOUT', provider: PROVIDER, operation, message })
}

function badResponse(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_BAD_RESPONSE', provider: PROVIDER, operation, message })
}

function rejected(operation: string, message: string) {
  return new ProviderError({ code: 'PROVIDER_REJECTED', provider: PROVIDER, operation, message })
}
