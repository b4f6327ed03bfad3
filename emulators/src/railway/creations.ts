/**
 * Counts "creations" in flight: from `projectCreate` until that project's service has a domain, or the
 * project is deleted. The peak shows whether services keeps to its limit of concurrent creations.
 */
export class CreationTracker {
  readonly #inFlight = new Set<string>()
  #peak = 0

  begin(projectId: string) {
    this.#inFlight.add(projectId)
    this.#peak = Math.max(this.#peak, this.#inFlight.size)
  }

  end(projectId: string) {
    this.#inFlight.delete(projectId)
  }

  get inFlight(): number {
    return this.#inFlight.size
  }

  get peak(): number {
    return this.#peak
  }
}
