/** At most `max` holders at once; the others wait in arrival order. */
export class Semaphore {
  readonly max: number
  #running = 0
  readonly #waiting: (() => void)[] = []

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a semaphore needs max ≥ 1, not ${max}`)
    this.max = max
  }

  get running(): number {
    return this.#running
  }

  get waiting(): number {
    return this.#waiting.length
  }

  /** Runs `fn` once a slot is free and frees the slot when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#running += 1
    try {
      return await fn()
    } finally {
      // The slot passes straight to the next waiter, so a newcomer can never overtake the queue.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running -= 1
    }
  }
}
