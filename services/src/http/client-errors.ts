import type { Socket } from 'node:net'
import { problemBody } from './problem.js'

/**
 * Fastify's `clientErrorHandler`: what a connection hears when Node gives up on it before any route does
 * (headers or body not received by HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS, bytes that are not HTTP).
 * A problem+json answer like every other error, then the socket is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket) {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
  const problem = timedOut
    ? problemBody(408, 'REQUEST_TIMEOUT', 'the request was not received in time; the connection is closed')
    : problemBody(400, 'BAD_REQUEST', 'the request is not valid HTTP; the connection is closed')
  const body = JSON.stringify(problem)
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nConnection: close\r\n` +
      `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  socket.destroySoon()
}
