import type { FastifyInstance, FastifyReply } from 'fastify'
import { BadRequest, telnyxErrors } from './errors.js'
import type { InventoryNumber } from './inventory.js'
import { type DeepObject, deepObject, stringAt } from './query.js'
import type { MessagingProfile, PhoneNumberRecord, TelnyxStore } from './store.js'

export const BASE_PATH = '/v2'
/** Telnyx documents page[size] 1..250, default 20. */
const DEFAULT_PAGE_SIZE = 20
const MAX_PAGE_SIZE = 250
/** The default and maximum of `filter[limit]` for number search are not published [I]. */
export const DEFAULT_SEARCH_LIMIT = 50
export const MAX_SEARCH_LIMIT = 100

const FEATURES = ['sms', 'mms', 'voice', 'fax', 'emergency', 'hd_voice', 'international_sms', 'local_calling']
/** What every emulated inventory number offers. */
const NUMBER_FEATURES = ['sms', 'mms', 'voice', 'fax', 'emergency']
const E164 = /^\+[1-9][0-9]{6,14}$/
const COUNTRY = /^[A-Z]{2}$/

type Query = { Querystring: Record<string, string | string[] | undefined> }
type IdParams = { Params: { id: string } }

/** Telnyx's v2 routes for number search and ordering, messaging profiles and phone numbers. */
export function registerRoutes(app: FastifyInstance, store: TelnyxStore) {
  const fail = (reply: FastifyReply, status: number, code: string, title: string, detail: string) =>
    reply.code(status).send(telnyxErrors(code, title, detail))
  const notFound = (reply: FastifyReply, what: string) =>
    fail(reply, 404, '10005', 'Resource not found', `The requested ${what} could not be found.`)

  app.get<Query>(
    `${BASE_PATH}/available_phone_numbers`,
    { config: { operation: 'ListAvailablePhoneNumbers' } },
    async (request) => {
      const filter = deepObject(request.query, 'filter')
      const limit = integerParam(filter.limit, 'filter[limit]', DEFAULT_SEARCH_LIMIT, 1, MAX_SEARCH_LIMIT)
      const matches = store.available().filter(searchFilter(filter))
      return {
        data: matches.slice(0, limit).map(availableNumber),
        meta: { total_results: matches.length, best_effort_results: 0 },
      }
    },
  )

  app.post<{ Body: unknown }>(
    `${BASE_PATH}/number_orders`,
    { config: { operation: 'CreateNumberOrder' } },
    async (request) => {
      const body = objectBody(request.body)
      const phoneNumbers = body.phone_numbers
      if (!Array.isArray(phoneNumbers) || phoneNumbers.length === 0) {
        throw new BadRequest(422, 'At least one phone number is required.', { pointer: '/phone_numbers' })
      }
      const wanted = phoneNumbers.map((entry, i) => {
        const phoneNumber = (entry as { phone_number?: unknown } | null)?.phone_number
        const pointer = `/phone_numbers/${i}/phone_number`
        if (typeof phoneNumber !== 'string' || !E164.test(phoneNumber)) {
          throw new BadRequest(422, 'The phone number must be in +E.164 format.', { pointer })
        }
        return phoneNumber
      })
      const forSale = new Set(store.available().map((entry) => entry.phoneNumber))
      wanted.forEach((phoneNumber, i) => {
        if (!forSale.has(phoneNumber) || wanted.indexOf(phoneNumber) !== i) {
          // Someone bought it since the search (or it is listed twice) [I: code and wording not published].
          throw new BadRequest(422, `The phone number ${phoneNumber} is not available for purchase.`, {
            pointer: `/phone_numbers/${i}/phone_number`,
          })
        }
      })
      const messagingProfileId = optionalString(body, 'messaging_profile_id')
      if (messagingProfileId && !store.getProfile(messagingProfileId)) {
        throw new BadRequest(422, 'The messaging profile does not exist.', {
          pointer: '/messaging_profile_id',
        })
      }
      const connectionId = optionalString(body, 'connection_id')
      const billingGroupId = optionalString(body, 'billing_group_id')
      const customerReference = optionalString(body, 'customer_reference')
      const order = store.createOrder({
        phoneNumbers: wanted,
        ...(messagingProfileId ? { messagingProfileId } : {}),
        ...(connectionId ? { connectionId } : {}),
        ...(billingGroupId ? { billingGroupId } : {}),
        ...(customerReference !== undefined ? { customerReference } : {}),
      })
      return { data: order }
    },
  )

  app.get<Query>(
    `${BASE_PATH}/number_orders`,
    { config: { operation: 'ListNumberOrders' } },
    async (request) => {
      const filter = deepObject(request.query, 'filter')
      const status = stringAt(filter, 'status')
      const reference = stringAt(filter, 'customer_reference')
      const requirementsMet = stringAt(filter, 'requirements_met')
      const orders = store
        .orders()
        .filter(
          (order) =>
            (status === undefined || order.status === status) &&
            (reference === undefined || order.customer_reference === reference) &&
            (requirementsMet === undefined || String(order.requirements_met) === requirementsMet),
        )
      return paginate(orders, deepObject(request.query, 'page'))
    },
  )

  app.get<{ Params: { number_order_id: string } }>(
    `${BASE_PATH}/number_orders/:number_order_id`,
    { config: { operation: 'RetrieveNumberOrder' } },
    async (request, reply) => {
      const order = store.getOrder(request.params.number_order_id)
      if (!order) return notFound(reply, 'number order')
      return { data: order }
    },
  )

  app.get<Query>(
    `${BASE_PATH}/messaging_profiles`,
    { config: { operation: 'ListMessagingProfiles' } },
    async (request) => {
      const filter = deepObject(request.query, 'filter')
      const name = filter.name
      const eq = typeof name === 'string' ? name : stringAt((name ?? {}) as DeepObject, 'eq')
      const contains =
        typeof name === 'object' && !Array.isArray(name) ? stringAt(name, 'contains') : undefined
      const profiles = store
        .profiles()
        .filter(
          (profile) =>
            (eq === undefined || profile.name === eq) &&
            (contains === undefined || profile.name.includes(contains)),
        )
      return paginate(profiles, deepObject(request.query, 'page'))
    },
  )

  app.post<{ Body: unknown }>(
    `${BASE_PATH}/messaging_profiles`,
    { config: { operation: 'CreateMessagingProfile' } },
    async (request) => {
      const body = objectBody(request.body)
      if (typeof body.name !== 'string' || body.name.trim() === '') {
        throw new BadRequest(422, 'The name is required.', { pointer: '/name' })
      }
      const destinations = body.whitelisted_destinations
      const allowAll = Array.isArray(destinations) && destinations.length === 1 && destinations[0] === '*'
      if (
        !Array.isArray(destinations) ||
        (!allowAll && !destinations.every((code) => typeof code === 'string' && COUNTRY.test(code)))
      ) {
        throw new BadRequest(422, 'whitelisted_destinations must be a list of ISO 3166-1 alpha-2 codes.', {
          pointer: '/whitelisted_destinations',
        })
      }
      const version = body.webhook_api_version
      if (version !== undefined && version !== '1' && version !== '2' && version !== '2010-04-01') {
        throw new BadRequest(422, 'webhook_api_version must be 1, 2 or 2010-04-01.', {
          pointer: '/webhook_api_version',
        })
      }
      const profile = store.createProfile({
        name: body.name,
        whitelistedDestinations: destinations as string[],
        ...(typeof body.enabled === 'boolean' ? { enabled: body.enabled } : {}),
        ...(typeof body.webhook_url === 'string' ? { webhookUrl: body.webhook_url } : {}),
        ...(typeof body.webhook_failover_url === 'string'
          ? { webhookFailoverUrl: body.webhook_failover_url }
          : {}),
        ...(version ? { webhookApiVersion: version } : {}),
      })
      return { data: profile }
    },
  )

  app.get<IdParams>(
    `${BASE_PATH}/messaging_profiles/:id`,
    { config: { operation: 'RetrieveMessagingProfile' } },
    async (request, reply) => {
      const profile = store.getProfile(request.params.id)
      if (!profile) return notFound(reply, 'messaging profile')
      return { data: profile }
    },
  )

  app.delete<IdParams>(
    `${BASE_PATH}/messaging_profiles/:id`,
    { config: { operation: 'DeleteMessagingProfile' } },
    async (request, reply) => {
      const profile = store.getProfile(request.params.id)
      if (!profile) return notFound(reply, 'messaging profile')
      store.deleteProfile(profile)
      return { data: profile }
    },
  )

  app.get<Query>(
    `${BASE_PATH}/phone_numbers`,
    { config: { operation: 'ListPhoneNumbers' } },
    async (request) => {
      const filter = deepObject(request.query, 'filter')
      const digits = stringAt(filter, 'phone_number')
      if (digits !== undefined && digits.replace(/\D/g, '').length < 3) {
        throw new BadRequest(400, 'filter[phone_number] requires at least three digits.', {
          parameter: 'filter[phone_number]',
        })
      }
      const status = stringAt(filter, 'status')
      const reference = stringAt(filter, 'customer_reference')
      const country = stringAt(filter, 'country_iso_alpha2')
      const numbers = store.numbers().filter(
        (number) =>
          // "Non-numerical characters will result in no values being returned" (so no `+`).
          (digits === undefined || (/^\d+$/.test(digits) && number.phone_number.includes(digits))) &&
          (status === undefined || number.status === status) &&
          (reference === undefined || number.customer_reference === reference) &&
          (country === undefined || number.country_iso_alpha2 === country),
      )
      return paginate(numbers, deepObject(request.query, 'page'))
    },
  )

  // `{id}` is the numeric id (`IntId` in the document); an E.164 number is not found here.
  app.get<IdParams>(
    `${BASE_PATH}/phone_numbers/:id`,
    { config: { operation: 'RetrievePhoneNumber' } },
    async (request, reply) => {
      const number = store.getNumber(request.params.id)
      if (!number) return notFound(reply, 'phone number')
      return { data: number }
    },
  )

  app.delete<IdParams>(
    `${BASE_PATH}/phone_numbers/:id`,
    { config: { operation: 'DeletePhoneNumber' } },
    async (request, reply) => {
      const number = store.getNumber(request.params.id)
      if (!number) return notFound(reply, 'phone number')
      if (number.deletion_lock_enabled) {
        return fail(reply, 422, '10015', 'Invalid value', 'The phone number has deletion lock enabled.')
      }
      return { data: deletedNumber(store.deleteNumber(number)) }
    },
  )

  // The messaging routes describe `{id}` only as "the phone number to update". The numeric id works; the
  // old runtime sent a URL-encoded E.164 number here in production, so that is accepted too (decision).
  app.get<IdParams>(
    `${BASE_PATH}/phone_numbers/:id/messaging`,
    { config: { operation: 'GetPhoneNumberMessagingSettings' } },
    async (request, reply) => {
      const number = store.findNumber(request.params.id)
      if (!number || store.messagingPropagating(number)) return notFound(reply, 'phone number')
      return { data: messagingSettings(store, number) }
    },
  )

  app.patch<IdParams & { Body: unknown }>(
    `${BASE_PATH}/phone_numbers/:id/messaging`,
    { config: { operation: 'UpdatePhoneNumberMessagingSettings' } },
    async (request, reply) => {
      const number = store.findNumber(request.params.id)
      // A just-bought number is not known to the messaging service yet: 404 until it propagates.
      if (!number || store.messagingPropagating(number)) return notFound(reply, 'phone number')
      const body = objectBody(request.body)
      const profileId = body.messaging_profile_id
      let profile: MessagingProfile | null | undefined
      if (profileId === '') profile = null
      else if (typeof profileId === 'string') {
        profile = store.getProfile(profileId)
        if (!profile) {
          throw new BadRequest(422, 'The messaging profile does not exist.', {
            pointer: '/messaging_profile_id',
          })
        }
      } else if (profileId !== undefined && profileId !== null) {
        throw new BadRequest(422, 'messaging_profile_id must be a string.', {
          pointer: '/messaging_profile_id',
        })
      }
      const product = body.messaging_product
      if (product !== undefined && product !== null && typeof product !== 'string') {
        throw new BadRequest(422, 'messaging_product must be a string.', { pointer: '/messaging_product' })
      }
      const tags = body.tags
      if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))) {
        throw new BadRequest(422, 'tags must be a list of strings.', { pointer: '/tags' })
      }
      if (profile !== undefined) store.setMessagingProfile(number, profile)
      if (typeof product === 'string') store.setMessagingProduct(number, product)
      if (tags) number.tags = tags as string[]
      return { data: messagingSettings(store, number) }
    },
  )
}

function objectBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest(400, 'The request body must be a JSON object.', { pointer: '/' })
  }
  return body as Record<string, unknown>
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new BadRequest(422, `${key} must be a string.`, { pointer: `/${key}` })
  return value
}

function integerParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new BadRequest(400, `${name} must be an integer from ${min} to ${max}.`, { parameter: name })
  }
  return number
}

/** `page[number]` / `page[size]` paging with Telnyx's `meta`. */
function paginate<T>(items: T[], page: DeepObject) {
  const size = integerParam(page.size, 'page[size]', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
  const number = integerParam(page.number, 'page[number]', 1, 1, Number.MAX_SAFE_INTEGER)
  return {
    data: items.slice((number - 1) * size, number * size),
    meta: {
      page_number: number,
      page_size: size,
      total_pages: Math.max(1, Math.ceil(items.length / size)),
      total_results: items.length,
    },
  }
}

/** The search's filters as one predicate; filters the emulator cannot honour match nothing. */
function searchFilter(filter: DeepObject): (entry: InventoryNumber) => boolean {
  const features = filter.features === undefined ? [] : [filter.features].flat()
  for (const feature of features) {
    if (typeof feature !== 'string' || !FEATURES.includes(feature)) {
      throw new BadRequest(400, `Unknown feature '${String(feature)}'.`, { parameter: 'filter[features]' })
    }
  }
  const type = stringAt(filter, 'phone_number_type')
  if (type !== undefined && !['local', 'toll_free', 'mobile', 'national', 'shared_cost'].includes(type)) {
    throw new BadRequest(400, `Unknown phone_number_type '${type}'.`, {
      parameter: 'filter[phone_number_type]',
    })
  }
  const country = stringAt(filter, 'country_code')
  const locality = stringAt(filter, 'locality') ?? stringAt(filter, 'rate_center')
  const area = stringAt(filter, 'administrative_area')
  const pattern = (filter.phone_number ?? {}) as DeepObject
  const startsWith = stringAt(pattern, 'starts_with')
  const endsWith = stringAt(pattern, 'ends_with')
  const contains = stringAt(pattern, 'contains')
  return (entry) => {
    const national = entry.phoneNumber.slice(2)
    return (
      (country === undefined || country.toUpperCase() === 'US') &&
      (type === undefined || type === 'local') &&
      features.every((feature) => NUMBER_FEATURES.includes(feature as string)) &&
      (locality === undefined || entry.locality === locality.toUpperCase()) &&
      (area === undefined || entry.administrativeArea === area.toUpperCase()) &&
      (startsWith === undefined || national.startsWith(startsWith)) &&
      (endsWith === undefined || national.endsWith(endsWith)) &&
      (contains === undefined || national.includes(contains))
    )
  }
}

function availableNumber(entry: InventoryNumber) {
  return {
    record_type: 'available_phone_number',
    phone_number: entry.phoneNumber,
    vanity_format: '',
    best_effort: false,
    quickship: true,
    reservable: true,
    region_information: [
      { region_type: 'rate_center', region_name: entry.locality },
      { region_type: 'state', region_name: entry.administrativeArea },
      { region_type: 'country_code', region_name: 'US' },
    ],
    cost_information: { upfront_cost: '1.00', monthly_cost: '1.00', currency: 'USD' },
    features: NUMBER_FEATURES.map((name) => ({ name })),
  }
}

function messagingSettings(store: TelnyxStore, number: PhoneNumberRecord) {
  const product = store.messagingProductOf(number)
  return {
    record_type: 'messaging_settings',
    id: number.id,
    phone_number: number.phone_number,
    messaging_profile_id: number.messaging_profile_id,
    messaging_product: product,
    traffic_type: product,
    country_code: number.country_iso_alpha2,
    type: 'long-code',
    eligible_messaging_products: ['A2P', 'P2P'],
    features: {
      sms: { domestic_two_way: true, international_inbound: true, international_outbound: true },
      mms: { domestic_two_way: true, international_inbound: false, international_outbound: false },
    },
    health: { message_count: 0, inbound_outbound_ratio: 0, success_ratio: 1, spam_ratio: 0 },
    tags: number.tags,
    created_at: number.created_at,
    updated_at: number.updated_at,
  }
}

/** PhoneNumberDeletedDetailed declares its ids as plain strings: unset ones are left out, not null. */
function deletedNumber(number: PhoneNumberRecord) {
  return Object.fromEntries(
    Object.entries(number).filter(([key, value]) => value !== null || key === 'activated_at'),
  )
}
