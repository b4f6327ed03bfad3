import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  headers: IncomingMessage['headers']
  body: { query: string; variables: Record<string, unknown>; operationName?: string }
}

/** What the server does with one request: answer (status, headers, body) or misbehave on purpose. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown; raw?: string }
  | { hang: true }
  | { destroy: true }

type Tap = { teardown(fn: () => unknown): void }

/**
 * A scripted HTTP server on 127.0.0.1: each request gets the reply `answer` returns for it. Real sockets,
 * so timeouts, resets and refused connections are the real thing. Closed in the test's teardown.
 */
export async function startScriptedServer(
  t: Tap,
  answer: (request: ReceivedRequest, index: number) => Reply,
) {
  const received: ReceivedRequest[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = {
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
      }
      received.push(request)
      const reply = answer(request, received.length - 1)
      if ('hang' in reply) return
      if ('destroy' in reply) {
        req.socket.destroy()
        return
      }
      const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body))
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/graphql/v2`, received }
}
