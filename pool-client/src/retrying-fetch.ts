/** How the client retries; `false` turns retries off. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  attempts?: number
  /** First pause, doubled each attempt, with full jitter (default 250 ms). */
  baseDelayMs?: number
  /** Longest pause, `Retry-After` included (default 10 s). */
  maxDelayMs?: number
}

export type Fetch = (input: Request) => Promise<Response>

/**
 * Operations that are not safe to repeat after a lost answer: a second redeploy is a second deployment,
 * a second rotation a second token. Every other operation of the API is idempotent on its natural key.
 */
const NOT_IDEMPOTENT = [/^POST \/redeploy\//, /^POST \/instances\/[^/]+\/rotate-token$/]

const isIdempotent = (request: Request) => {
  const line = `${request.method} ${new URL(request.url).pathname}`
  return !NOT_IDEMPOTENT.some((pattern) => pattern.test(line))
}

/** `Retry-After` in ms (delta-seconds or an HTTP date), if the answer has one. */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after')
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value) * 1_000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

const sleep = (ms: number, signal: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

/**
 * A fetch that gives each attempt `timeoutMs` and retries what is safe to retry: a 429 always (the
 * server did nothing), honouring `Retry-After`; a 502/503/504 or a network failure only for idempotent
 * operations, with jittered exponential backoff. The caller's own abort signal stops it at once.
 */
export function retryingFetch(
  fetch: Fetch,
  options: { retry: RetryOptions | false; timeoutMs: number },
): Fetch {
  const attempts = options.retry === false ? 1 : Math.max(1, options.retry.attempts ?? 4)
  const base = options.retry === false ? 0 : (options.retry.baseDelayMs ?? 250)
  const max = options.retry === false ? 0 : (options.retry.maxDelayMs ?? 10_000)

  return async (request) => {
    const idempotent = isIdempotent(request)
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts
      const timeout = AbortSignal.timeout(options.timeoutMs)
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout
      let response: Response
      try {
        response = await fetch(new Request(request.clone(), { signal }))
      } catch (error) {
        if (last || !idempotent || request.signal?.aborted) throw error
        await sleep(Math.random() * Math.min(max, base * 2 ** (attempt - 1)), request.signal)
        continue
      }
      const retryable = response.status === 429 || (idempotent && [502, 503, 504].includes(response.status))
      if (last || !retryable) return response
      const backoff = Math.random() * Math.min(max, base * 2 ** (attempt - 1))
      // Not awaited: cancelling a tee'd body waits for its other branch.
      void response.body?.cancel().catch(() => undefined)
      await sleep(Math.min(max, retryAfterMs(response) ?? backoff), request.signal)
    }
  }
}
