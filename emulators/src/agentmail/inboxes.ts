import { randomBytes, randomUUID } from 'node:crypto'
import type { Ledger } from '../kit/ledger.js'
import type { CreateInboxInput, Metadata, UpdateInboxInput } from './validate.js'

export type AgentMailKinds = 'inbox'

/** AgentMail's Inbox (Fern definition): `inbox_id` is the address itself; `email` repeats it. */
export interface Inbox {
  pod_id: string
  inbox_id: string
  email: string
  display_name?: string
  client_id?: string
  metadata?: Metadata
  updated_at: string
  created_at: string
}

/** The outcome of a create, in AgentMail's terms. */
export type CreateOutcome =
  | { kind: 'created' | 'existing'; inbox: Inbox }
  | { kind: 'taken' | 'limit' | 'domain'; message: string }

export interface Page {
  inboxes: Inbox[]
  nextPageToken: string | undefined
}

/**
 * The inboxes of every organisation, kept in the ledger (kind `inbox`). An organisation is an API key with
 * its own pod: a key sees only its pod's inboxes (others are `not_found`), while addresses are unique
 * across all of them. Insertion order is creation order; the list is newest first by default.
 */
export class InboxStore {
  readonly #ledger: Ledger<AgentMailKinds>
  readonly #domains: Set<string>
  readonly #cap: number
  // Creation sequence per inbox: the page token's position survives deletes between pages.
  readonly #sequence = new Map<string, number>()
  #next = 0

  constructor(ledger: Ledger<AgentMailKinds>, options: { domains: string[]; inboxCap: number }) {
    this.#ledger = ledger
    this.#domains = new Set(options.domains.map((domain) => domain.toLowerCase()))
    this.#cap = options.inboxCap
  }

  create(podId: string, input: CreateInboxInput): CreateOutcome {
    // client_id idempotency: the first call creates, every repeat returns the original and creates nothing.
    // An inbox deleted since frees its client_id (AgentMail does not say; open question 5) [I].
    if (input.client_id !== undefined) {
      const existing = this.#inPod(podId).find((inbox) => inbox.client_id === input.client_id)
      if (existing) return { kind: 'existing', inbox: existing }
    }
    const domain = (input.domain ?? 'agentmail.to').toLowerCase()
    if (!this.#domains.has(domain)) return { kind: 'domain', message: `Domain ${domain} is not verified` }
    const address = `${input.username ?? randomUsername()}@${domain}`
    if (this.get(address)) return { kind: 'taken', message: `Inbox ${address} is already taken` }
    if (this.#inPod(podId).length >= this.#cap) {
      return { kind: 'limit', message: `Inbox limit of ${this.#cap} reached for this plan` }
    }
    const now = new Date().toISOString()
    const inbox: Inbox = {
      pod_id: podId,
      inbox_id: address,
      email: address,
      ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
      ...(input.client_id !== undefined ? { client_id: input.client_id } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
      updated_at: now,
      created_at: now,
    }
    this.#ledger.put('inbox', address, inbox)
    this.#sequence.set(address, this.#next++)
    return { kind: 'created', inbox }
  }

  get(inboxId: string): Inbox | undefined {
    return this.#ledger.get<Inbox>('inbox', inboxId.toLowerCase())
  }

  /** The inbox if it belongs to this pod: AgentMail answers `not_found` for resources outside your scope. */
  getInPod(podId: string, inboxId: string): Inbox | undefined {
    const inbox = this.get(inboxId)
    return inbox?.pod_id === podId ? inbox : undefined
  }

  update(inbox: Inbox, input: UpdateInboxInput): Inbox {
    const next: Inbox = { ...inbox, updated_at: new Date().toISOString() }
    if (input.display_name !== undefined) next.display_name = input.display_name
    if (input.metadata === null) delete next.metadata
    else if (input.metadata !== undefined) {
      const merged: Metadata = { ...next.metadata }
      for (const [key, value] of Object.entries(input.metadata)) {
        if (value === null) delete merged[key]
        else merged[key] = value
      }
      next.metadata = merged
    }
    this.#ledger.put('inbox', inbox.inbox_id, next)
    return next
  }

  delete(inbox: Inbox) {
    this.#ledger.delete('inbox', inbox.inbox_id)
  }

  /** One page of the pod's inboxes, newest first unless `ascending`; the token is opaque to callers. */
  list(
    podId: string,
    query: { limit: number; ascending: boolean; pageToken: string | undefined },
  ): Page | undefined {
    let after: number | undefined
    if (query.pageToken !== undefined) {
      after = decodeToken(query.pageToken)
      if (after === undefined) return undefined
    }
    const ordered = this.#inPod(podId)
      .map((inbox) => ({ inbox, seq: this.#sequence.get(inbox.inbox_id) ?? -1 }))
      .sort((a, b) => (query.ascending ? a.seq - b.seq : b.seq - a.seq))
    const rest =
      after === undefined
        ? ordered
        : ordered.filter(({ seq }) => (query.ascending ? seq > after : seq < after))
    const page = rest.slice(0, query.limit)
    const last = page.at(-1)
    return {
      inboxes: page.map(({ inbox }) => inbox),
      nextPageToken: rest.length > page.length && last ? encodeToken(last.seq) : undefined,
    }
  }

  #inPod(podId: string): Inbox[] {
    return this.#ledger.all<Inbox>('inbox').filter((inbox) => inbox.pod_id === podId)
  }
}

export function newPodId(): string {
  return randomUUID()
}

/** AgentMail picks a username when none is given. */
function randomUsername(): string {
  return `agent-${randomBytes(6).toString('hex')}`
}

function encodeToken(sequence: number): string {
  return Buffer.from(JSON.stringify({ s: sequence })).toString('base64url')
}

function decodeToken(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown }
    return typeof parsed.s === 'number' && Number.isInteger(parsed.s) ? parsed.s : undefined
  } catch {
    return undefined
  }
}
