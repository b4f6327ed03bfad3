/**
 * Runs an expensive check at most once per TTL and shares the answer: readiness probes arrive every few
 * seconds, and each Railway query spends the shared hourly budget. A failure is remembered for a shorter
 * time than a success so recovery shows quickly.
 */
export function cachedCheck(
  check: () => Promise<unknown>,
  ttl: { okMs: number; failedMs: number },
  now: () => number = Date.now,
): () => Promise<void> {
  let last: { at: number; error: unknown | undefined } | undefined
  let inFlight: Promise<void> | undefined
  return () => {
    if (last && now() - last.at < (last.error ? ttl.failedMs : ttl.okMs)) {
      return last.error ? Promise.reject(last.error) : Promise.resolve()
    }
    inFlight ??= check()
      .then(
        () => {
          last = { at: now(), error: undefined }
        },
        (error: unknown) => {
          last = { at: now(), error }
          throw error
        },
      )
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
}
