/** One request an emulator received, for tests that count calls (e.g. Railway requests per creation). */
export interface RecordedRequest {
  at: number
  method: string
  path: string
  operation: string
  status: number
  /** The credential's last 4 characters only, to tell tokens apart without keeping them. */
  credential?: string
}

/**
 * The live resources of an emulator, by kind, plus the requests it received. Tests compare it with the
 * services database to prove nothing leaked and nothing was created twice.
 */
export class Ledger<Kinds extends string> {
  readonly #resources = new Map<Kinds, Map<string, unknown>>()
  readonly #requests: RecordedRequest[] = []
  readonly #created = new Map<Kinds, number>()

  put(kind: Kinds, id: string, resource: unknown) {
    let byId = this.#resources.get(kind)
    if (!byId) {
      byId = new Map()
      this.#resources.set(kind, byId)
    }
    if (!byId.has(id)) this.#created.set(kind, (this.#created.get(kind) ?? 0) + 1)
    byId.set(id, resource)
  }

  get<T>(kind: Kinds, id: string): T | undefined {
    return this.#resources.get(kind)?.get(id) as T | undefined
  }

  delete(kind: Kinds, id: string): boolean {
    return this.#resources.get(kind)?.delete(id) ?? false
  }

  all<T>(kind: Kinds): T[] {
    return [...(this.#resources.get(kind)?.values() ?? [])] as T[]
  }

  record(request: RecordedRequest) {
    this.#requests.push(request)
  }

  requests(): readonly RecordedRequest[] {
    return this.#requests
  }

  reset() {
    this.#resources.clear()
    this.#requests.length = 0
    this.#created.clear()
  }

  /** What `GET /__emulator/ledger` shows: live resources by kind, how many were ever created, request count. */
  snapshot() {
    return {
      live: Object.fromEntries([...this.#resources].map(([kind, byId]) => [kind, [...byId.values()]])),
      created: Object.fromEntries(this.#created),
      requestCount: this.#requests.length,
    }
  }
}
