import { Agent, type Dispatcher } from 'undici'
import type { TeardownHost } from './database.js'

/** A request as it left the client: the path and query apart, the JSON body parsed. */
export interface Sent {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: Record<string, string>
  authorization: string | undefined
}

/**
 * An undici dispatcher that records every request sent through it in `sent`, in order. The agent is
 * closed in the test's teardown, then whatever is given in `closeAfter` (the emulator the test talks to).
 */
export function recordingDispatcher(
  test: TeardownHost,
  closeAfter?: { close(): Promise<unknown> },
): { dispatcher: Dispatcher; sent: Sent[] } {
  const agent = new Agent()
  const sent: Sent[] = []
  const dispatcher = agent.compose((dispatch) => (opts: Dispatcher.DispatchOptions, handler) => {
    const [path = '', query = ''] = opts.path.split('?')
    const headers = (opts.headers ?? {}) as Record<string, string>
    sent.push({
      method: opts.method,
      path,
      query: new URLSearchParams(query),
      body: typeof opts.body === 'string' ? JSON.parse(opts.body) : undefined,
      headers,
      authorization: headers.authorization,
    })
    return dispatch(opts, handler)
  })
  test.teardown(async () => {
    await agent.close()
    await closeAfter?.close()
  })
  return { dispatcher, sent }
}
