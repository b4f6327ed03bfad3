import { createRandom } from './random.js'

/**
 * One fault rule. `operation` scopes it (a REST operation name such as `createKey`, or a GraphQL field
 * such as `projectCreate`); without it the rule applies to every request. Rates are probabilities 0..1.
 */
export interface FaultRule {
  operation?: string
  /** Answer with `errorStatus` (default 500) instead of doing the work. */
  errorRate?: number
  errorStatus?: number
  /** Never answer (the client's timeout decides). */
  hangRate?: number
  /** Destroy the connection without an answer. */
  resetRate?: number
  /** Answer 429 with this Retry-After (seconds) to every matching request while the rule is active. */
  rateLimitStorm?: { retryAfterSeconds: number }
  /** Extra latency added to each matching request, in ms. */
  latencyMs?: number
  /** Do the work, THEN fail the answer (error or reset): the client cannot tell whether it happened. */
  failAfterWork?: boolean
  /** Remove the rule after it has fired this many times. */
  times?: number
}

export type FaultAction =
  | { kind: 'error'; status: number; afterWork: boolean }
  | { kind: 'hang' }
  | { kind: 'reset'; afterWork: boolean }
  | { kind: 'rateLimit'; retryAfterSeconds: number }

interface ActiveRule extends FaultRule {
  fired: number
}

/** The fault knobs of one emulator: set at start and at run time, scoped to an operation or global. */
export class Faults {
  #rules: ActiveRule[] = []
  #random: () => number

  constructor(rules: FaultRule[] = [], seed?: number) {
    this.#random = createRandom(seed)
    this.set(rules)
  }

  set(rules: FaultRule[]) {
    this.#rules = rules.map((rule) => ({ ...rule, fired: 0 }))
  }

  add(rule: FaultRule) {
    this.#rules.push({ ...rule, fired: 0 })
  }

  list(): FaultRule[] {
    return this.#rules.map(({ fired: _fired, ...rule }) => rule)
  }

  clear() {
    this.#rules = []
  }

  /** Total extra latency for a request to `operation`. */
  latencyFor(operation: string): number {
    return this.#matching(operation).reduce((sum, rule) => sum + (rule.latencyMs ?? 0), 0)
  }

  /** Decides, once per request, whether a fault fires for `operation` and which. */
  pick(operation: string): FaultAction | undefined {
    for (const rule of this.#matching(operation)) {
      const action = this.#roll(rule)
      if (!action) continue
      rule.fired += 1
      if (rule.times !== undefined && rule.fired >= rule.times)
        this.#rules = this.#rules.filter((r) => r !== rule)
      return action
    }
    return undefined
  }

  #matching(operation: string) {
    return this.#rules.filter((rule) => rule.operation === undefined || rule.operation === operation)
  }

  #roll(rule: ActiveRule): FaultAction | undefined {
    const afterWork = rule.failAfterWork ?? false
    if (rule.rateLimitStorm)
      return { kind: 'rateLimit', retryAfterSeconds: rule.rateLimitStorm.retryAfterSeconds }
    if (rule.resetRate && this.#random() < rule.resetRate) return { kind: 'reset', afterWork }
    if (rule.hangRate && this.#random() < rule.hangRate) return { kind: 'hang' }
    if (rule.errorRate && this.#random() < rule.errorRate) {
      return { kind: 'error', status: rule.errorStatus ?? 500, afterWork }
    }
    return undefined
  }
}
