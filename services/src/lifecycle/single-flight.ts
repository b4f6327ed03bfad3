/**
 * Identical requests arriving while one is running share its promise instead of repeating its provider
 * calls (a release, a redeploy): one effect and one Railway request for all of them, in this process.
 * Once it settles the next call runs afresh. Across replicas the operations stay safe on their own
 * (a second release finds the resource gone), only not shared.
 */
export function singleFlight<T>(): (key: string, work: () => Promise<T>) => Promise<T> {
  const running = new Map<string, Promise<T>>()
  return (key, work) => {
    const current = running.get(key)
    if (current) return current
    const started = work().finally(() => running.delete(key))
    running.set(key, started)
    return started
  }
}
