import { Agent, type Dispatcher } from 'undici'
import { Semaphore } from '../infra/railway/semaphore.js'
import { singleFlight } from './single-flight.js'

export interface HealthResult {
  /** The runtime said `{ready: true}`. */
  ready: boolean
  /** The runtime itself answered 200 with a JSON object (not an edge error page, not a timeout). */
  answered: boolean
  /** From sending the ping to the end of its answer; null when the runtime did not answer. */
  latencyMs: number | null
  checkedAt: Date
}

export interface HealthChecker {
  /**
   * Pings `${url}/pool/health` with `Authorization: Bearer <credential>` (the runtime checks its
   * POOL_API_KEY on every route, health included). Never throws: whatever goes wrong is `answered: false`.
   */
  check(url: string, credential?: string): Promise<HealthResult>
  /** Aborts pings in flight (they resolve unanswered) and closes the connections it owns. */
  close(): Promise<void>
}

export interface HealthCheckerOptions {
  /** The most one ping may take, connect to last byte (a hung instance costs at most this). */
  timeoutMs: number
  /** Pings in flight at once, over all instances; the rest wait their turn. */
  concurrency: number
  /** Instead of the checker's own Agent (tests); the caller closes it. */
  dispatcher?: Dispatcher
}

// Between two ticks of the pool's loop the connections stay open, so a ping is one round trip, not a handshake.
const KEEP_ALIVE_MS = 30_000

/**
 * Health pings of running instances (the pool's tick loop and the creation engine). One shared undici
 * Agent with keep-alive; at most `concurrency` pings in flight; each ping is cut at `timeoutMs` after it is
 * sent, waiting for a free slot does not count, so a busy batch never reports a healthy instance as dead.
 * Pings of the same URL at the same time share one request.
 */
export function createHealthChecker(options: HealthCheckerOptions): HealthChecker {
  const { timeoutMs } = options
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        // One kept-alive socket per instance: pings of one URL never overlap (they are shared), and without
        // the cap a ping sent just as the previous answer ends would open a second socket.
        connections: 1,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MS,
        connect: { timeout: timeoutMs },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent)
  const slots = new Semaphore(options.concurrency)
  const sharedPing = singleFlight<HealthResult>()
  // The abort handle of each ping in flight, so `close` can end them. A plain timer per ping, cleared when
  // it ends, rather than AbortSignal.any over one long-lived signal that every ping would register with.
  const running = new Set<AbortController>()
  let closed = false

  const unanswered = (): HealthResult => ({
    ready: false,
    answered: false,
    latencyMs: null,
    checkedAt: new Date(),
  })

  async function ping(url: string, credential: string | undefined): Promise<HealthResult> {
    if (closed) return unanswered()
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    running.add(abort)
    const { signal } = abort
    const sentAt = performance.now()
    try {
      const target = new URL(`${url.replace(/\/+$/, '')}/pool/health`)
      const response = await dispatcher.request({
        origin: target.origin,
        path: target.pathname,
        method: 'GET',
        headers: {
          accept: 'application/json',
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      if (response.statusCode !== 200) {
        // An edge page (404 before the first deploy, 502 after a crash): the runtime did not answer.
        await response.body.dump()
        return unanswered()
      }
      const body: unknown = await response.body.json()
      if (typeof body !== 'object' || body === null) return unanswered()
      return {
        ready: (body as { ready?: unknown }).ready === true,
        answered: true,
        latencyMs: Math.max(0, Math.round(performance.now() - sentAt)),
        checkedAt: new Date(),
      }
    } catch {
      // Not a URL, refused, reset, timed out, not JSON: all mean the same to the caller.
      return unanswered()
    } finally {
      clearTimeout(timer)
      running.delete(abort)
    }
  }

  return {
    check(url, credential) {
      return sharedPing(`${url} ${credential ?? ''}`, () =>
        slots.run(() => ping(url, credential)).catch(unanswered),
      )
    },

    async close() {
      closed = true
      for (const abort of running) abort.abort()
      await ownAgent?.destroy()
    },
  }
}
