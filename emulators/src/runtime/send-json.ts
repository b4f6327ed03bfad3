import type { ServerResponse } from 'node:http'

/** Answers with a JSON body and an explicit length, as the runtime's Node server does. */
export function sendJson(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}
