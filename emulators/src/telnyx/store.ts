import { randomUUID } from 'node:crypto'
import type { Ledger } from '../kit/ledger.js'
import { createRandom } from '../kit/random.js'
import type { InventoryNumber } from './inventory.js'

export type TelnyxKinds = 'number' | 'order' | 'messagingProfile'

/** A phone number the account owns, as `GET /phone_numbers` shows it (PhoneNumberDetailed). */
export interface PhoneNumberRecord {
  record_type: 'phone_number'
  id: string
  phone_number: string
  status: 'active' | 'deleted'
  country_iso_alpha2: 'US'
  phone_number_type: 'local'
  messaging_profile_id: string | null
  messaging_profile_name: string | null
  connection_id: string | null
  connection_name: string | null
  billing_group_id: string | null
  customer_reference: string | null
  emergency_address_id: string | null
  emergency_enabled: boolean
  emergency_status: 'disabled'
  external_pin: string | null
  tags: string[]
  deletion_lock_enabled: boolean
  call_forwarding_enabled: boolean
  call_recording_enabled: boolean
  caller_id_name_enabled: boolean
  cnam_listing_enabled: boolean
  t38_fax_gateway_enabled: boolean
  hd_voice_enabled: boolean
  inbound_call_screening: 'disabled'
  source_type: 'number_order'
  activated_at: string
  purchased_at: string
  created_at: string
  updated_at: string
}

export interface OrderPhoneNumber {
  record_type: 'number_order_phone_number'
  id: string
  phone_number: string
  status: 'pending' | 'success' | 'failure'
  requirements_met: boolean
  requirements_status: 'approved'
  regulatory_requirements: []
  country_code: 'US'
  phone_number_type: 'local'
}

/** A number order (NumberOrderWithPhoneNumbers); optional strings are left out rather than null. */
export interface NumberOrder {
  record_type: 'number_order'
  id: string
  status: 'pending' | 'success' | 'failure'
  phone_numbers: OrderPhoneNumber[]
  phone_numbers_count: number
  requirements_met: boolean
  sub_number_orders_ids: string[]
  messaging_profile_id?: string
  connection_id?: string
  billing_group_id?: string
  customer_reference?: string
  created_at: string
  updated_at: string
}

export interface MessagingProfile {
  record_type: 'messaging_profile'
  id: string
  name: string
  enabled: boolean
  webhook_url: string | null
  webhook_failover_url: string | null
  webhook_api_version: '1' | '2' | '2010-04-01'
  whitelisted_destinations: string[]
  number_pool_settings: null
  url_shortener_settings: null
  alpha_sender: string | null
  daily_spend_limit_enabled: boolean
  mms_fall_back_to_sms: boolean
  mms_transcoding: boolean
  mobile_only: boolean
  smart_encoding: boolean
  v1_secret: string
  created_at: string
  updated_at: string
}

export interface TelnyxStoreOptions {
  inventory: InventoryNumber[]
  /** How long an order stays `pending` (Telnyx does not say; "seconds" in practice [I]). */
  orderSettleMs: number
  /** How long after activation `/phone_numbers/{id}/messaging` still answers 404. */
  messagingPropagationMs: number
  /** Whether an order's `messaging_profile_id` is assigned to the numbers it buys. */
  applyOrderMessagingProfile: boolean
  seed: number
}

/**
 * The account's state: messaging profiles, number orders and the numbers they bought. Orders settle on a
 * timer (and, should a timer be late, on the next read), so the ledger always shows what Telnyx would.
 */
export class TelnyxStore {
  readonly #ledger: Ledger<TelnyxKinds>
  readonly #options: TelnyxStoreOptions
  readonly #random: () => number
  readonly #settleAt = new Map<string, number>()
  readonly #timers = new Set<NodeJS.Timeout>()
  /** Numbers in pending orders: not for sale, not owned yet. */
  readonly #reserved = new Set<string>()
  /** Numeric id → when the number became active (for the messaging propagation delay). */
  readonly #activeSince = new Map<string, number>()
  /** Numeric id → messaging product (not a PhoneNumberDetailed field; shown by the messaging routes). */
  readonly #messagingProduct = new Map<string, string>()
  #failNext = 0

  constructor(ledger: Ledger<TelnyxKinds>, options: TelnyxStoreOptions) {
    this.#ledger = ledger
    this.#options = options
    this.#random = createRandom(options.seed)
  }

  /** The next `count` orders end in `failure` (Telnyx could not provision the number). */
  failNextOrders(count: number) {
    this.#failNext += count
  }

  // ---- inventory -------------------------------------------------------------------------------------

  /** Numbers for sale: in the inventory, not owned and not in a pending order. */
  available(): InventoryNumber[] {
    const owned = new Set(this.numbers().map((number) => number.phone_number))
    return this.#options.inventory.filter(
      (entry) => !owned.has(entry.phoneNumber) && !this.#reserved.has(entry.phoneNumber),
    )
  }

  // ---- orders ----------------------------------------------------------------------------------------

  createOrder(input: {
    phoneNumbers: string[]
    messagingProfileId?: string
    connectionId?: string
    billingGroupId?: string
    customerReference?: string
  }): NumberOrder {
    const now = new Date().toISOString()
    const order: NumberOrder = {
      record_type: 'number_order',
      id: randomUUID(),
      status: 'pending',
      phone_numbers: input.phoneNumbers.map((phoneNumber) => ({
        record_type: 'number_order_phone_number',
        id: randomUUID(),
        phone_number: phoneNumber,
        status: 'pending',
        requirements_met: true,
        requirements_status: 'approved',
        regulatory_requirements: [],
        country_code: 'US',
        phone_number_type: 'local',
      })),
      phone_numbers_count: input.phoneNumbers.length,
      requirements_met: true,
      sub_number_orders_ids: [randomUUID()],
      ...(input.messagingProfileId ? { messaging_profile_id: input.messagingProfileId } : {}),
      ...(input.connectionId ? { connection_id: input.connectionId } : {}),
      ...(input.billingGroupId ? { billing_group_id: input.billingGroupId } : {}),
      ...(input.customerReference !== undefined ? { customer_reference: input.customerReference } : {}),
      created_at: now,
      updated_at: now,
    }
    for (const phoneNumber of input.phoneNumbers) this.#reserved.add(phoneNumber)
    this.#ledger.put('order', order.id, order)
    this.#settleAt.set(order.id, Date.now() + this.#options.orderSettleMs)
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#settle(order)
    }, this.#options.orderSettleMs)
    timer.unref()
    this.#timers.add(timer)
    return order
  }

  getOrder(id: string): NumberOrder | undefined {
    const order = this.#ledger.get<NumberOrder>('order', id)
    if (order) this.#settleIfDue(order)
    return order
  }

  /** Every order, newest first. */
  orders(): NumberOrder[] {
    const all = this.#ledger.all<NumberOrder>('order')
    for (const order of all) this.#settleIfDue(order)
    return all.reverse()
  }

  #settleIfDue(order: NumberOrder) {
    const at = this.#settleAt.get(order.id)
    if (at !== undefined && Date.now() >= at) this.#settle(order)
  }

  #settle(order: NumberOrder) {
    if (!this.#settleAt.delete(order.id)) return
    // A reset (`/__emulator/reset`) forgot the order: nothing to settle.
    if (this.#ledger.get('order', order.id) !== order) return
    const failed = this.#failNext > 0
    if (failed) this.#failNext -= 1
    const now = new Date().toISOString()
    for (const entry of order.phone_numbers) {
      this.#reserved.delete(entry.phone_number)
      entry.status = failed ? 'failure' : 'success'
      if (!failed) this.#activate(entry.phone_number, order, now)
    }
    order.status = failed ? 'failure' : 'success'
    order.updated_at = now
  }

  #activate(phoneNumber: string, order: NumberOrder, now: string) {
    const profileId = this.#options.applyOrderMessagingProfile ? order.messaging_profile_id : undefined
    const profile = profileId ? this.getProfile(profileId) : undefined
    const number: PhoneNumberRecord = {
      record_type: 'phone_number',
      id: this.#numericId(),
      phone_number: phoneNumber,
      status: 'active',
      country_iso_alpha2: 'US',
      phone_number_type: 'local',
      // Passing messaging_profile_id in the order assigns it to the number (providers.md: "should") [I].
      messaging_profile_id: profile?.id ?? null,
      messaging_profile_name: profile?.name ?? null,
      connection_id: order.connection_id ?? null,
      connection_name: null,
      billing_group_id: order.billing_group_id ?? null,
      // The order's reference carried over to the number it bought [I].
      customer_reference: order.customer_reference ?? null,
      emergency_address_id: null,
      emergency_enabled: false,
      emergency_status: 'disabled',
      external_pin: null,
      tags: [],
      deletion_lock_enabled: false,
      call_forwarding_enabled: true,
      call_recording_enabled: false,
      caller_id_name_enabled: false,
      cnam_listing_enabled: false,
      t38_fax_gateway_enabled: false,
      hd_voice_enabled: false,
      inbound_call_screening: 'disabled',
      source_type: 'number_order',
      activated_at: now,
      purchased_at: order.created_at,
      created_at: now,
      updated_at: now,
    }
    this.#ledger.put('number', number.id, number)
    this.#activeSince.set(number.id, Date.now())
  }

  /** A 19-digit numeric string like Telnyx's phone number ids, unique in this account. */
  #numericId(): string {
    for (;;) {
      const tail = String(Math.floor(this.#random() * 1e15)).padStart(15, '0')
      const id = `1293${tail}`
      if (!this.#ledger.get('number', id)) return id
    }
  }

  // ---- numbers ---------------------------------------------------------------------------------------

  /** Owned numbers, newest first (Telnyx's default sort is created_at descending). */
  numbers(): PhoneNumberRecord[] {
    for (const order of this.#ledger.all<NumberOrder>('order')) this.#settleIfDue(order)
    return this.#ledger.all<PhoneNumberRecord>('number').reverse()
  }

  getNumber(id: string): PhoneNumberRecord | undefined {
    return this.numbers().find((number) => number.id === id)
  }

  /** By numeric id, or by E.164 number (accepted by the messaging routes; see routes.ts). */
  findNumber(idOrE164: string): PhoneNumberRecord | undefined {
    return this.numbers().find((number) => number.id === idOrE164 || number.phone_number === idOrE164)
  }

  /** Whether the messaging settings of a just-bought number are still propagating (answer 404). */
  messagingPropagating(number: PhoneNumberRecord): boolean {
    const since = this.#activeSince.get(number.id) ?? 0
    return Date.now() - since < this.#options.messagingPropagationMs
  }

  messagingProductOf(number: PhoneNumberRecord): string {
    return this.#messagingProduct.get(number.id) ?? 'P2P'
  }

  setMessagingProduct(number: PhoneNumberRecord, product: string) {
    this.#messagingProduct.set(number.id, product)
  }

  setMessagingProfile(number: PhoneNumberRecord, profile: MessagingProfile | null) {
    number.messaging_profile_id = profile?.id ?? null
    number.messaging_profile_name = profile?.name ?? null
    number.updated_at = new Date().toISOString()
  }

  /** Releases the number back to Telnyx's inventory; it is no longer the account's. */
  deleteNumber(number: PhoneNumberRecord): PhoneNumberRecord {
    this.#ledger.delete('number', number.id)
    this.#activeSince.delete(number.id)
    this.#messagingProduct.delete(number.id)
    return { ...number, status: 'deleted', updated_at: new Date().toISOString() }
  }

  // ---- messaging profiles ----------------------------------------------------------------------------

  createProfile(input: {
    name: string
    whitelistedDestinations: string[]
    enabled?: boolean
    webhookUrl?: string | null
    webhookFailoverUrl?: string | null
    webhookApiVersion?: MessagingProfile['webhook_api_version']
  }): MessagingProfile {
    const now = new Date().toISOString()
    const profile: MessagingProfile = {
      record_type: 'messaging_profile',
      id: randomUUID(),
      name: input.name,
      enabled: input.enabled ?? true,
      webhook_url: input.webhookUrl ?? null,
      webhook_failover_url: input.webhookFailoverUrl ?? null,
      webhook_api_version: input.webhookApiVersion ?? '2',
      whitelisted_destinations: input.whitelistedDestinations,
      number_pool_settings: null,
      url_shortener_settings: null,
      alpha_sender: null,
      daily_spend_limit_enabled: false,
      mms_fall_back_to_sms: false,
      mms_transcoding: false,
      mobile_only: false,
      smart_encoding: false,
      v1_secret: randomUUID().replaceAll('-', '').slice(0, 24),
      created_at: now,
      updated_at: now,
    }
    this.#ledger.put('messagingProfile', profile.id, profile)
    return profile
  }

  getProfile(id: string): MessagingProfile | undefined {
    return this.#ledger.get<MessagingProfile>('messagingProfile', id)
  }

  /** Profiles, oldest first. */
  profiles(): MessagingProfile[] {
    return this.#ledger.all<MessagingProfile>('messagingProfile')
  }

  deleteProfile(profile: MessagingProfile) {
    this.#ledger.delete('messagingProfile', profile.id)
    for (const number of this.numbers()) {
      if (number.messaging_profile_id === profile.id) this.setMessagingProfile(number, null)
    }
  }

  close() {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }
}
