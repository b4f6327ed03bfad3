import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from './send-json.js'

/** What the pool routes need from the running app. */
export interface PoolServer {
  readonly ready: boolean
  readonly env: Record<string, string>
  restartGateway(env: Record<string, string>): void
  provision(request: { agentName: string; instructions: string; joinUrl: string | null }): {
    inviteUrl: string | null
    conversationId: string
    joined: boolean
  }
}

const MAX_BODY_BYTES = 1_048_576

/**
 * The routes of the runtime's pool-server.js. Like the real one, it matches `req.url` exactly (a query
 * string falls through), checks `Bearer POOL_API_KEY` only when that variable is set, and sends anything
 * else to the gateway proxy, which the emulator does not run: 502 "Gateway unavailable".
 */
export async function handlePoolRequest(app: PoolServer, request: IncomingMessage, response: ServerResponse) {
  const route = `${request.method} ${request.url}`
  if (
    route !== 'GET /pool/health' &&
    route !== 'POST /pool/provision' &&
    route !== 'POST /pool/restart-gateway'
  ) {
    request.resume()
    sendJson(response, 502, { error: 'Gateway unavailable' })
    return
  }
  if (!authorized(app, request)) {
    request.resume()
    sendJson(response, 401, { error: 'Unauthorized' })
    return
  }
  if (route === 'GET /pool/health') {
    request.resume()
    sendJson(response, 200, { ready: app.ready })
    return
  }
  const body = await readJson(request)
  if (route === 'POST /pool/restart-gateway') return restartGateway(app, body, response)
  return provision(app, body, response)
}

function authorized(app: PoolServer, request: IncomingMessage): boolean {
  const key = app.env.POOL_API_KEY
  if (!key) return true
  return request.headers.authorization === `Bearer ${key}`
}

function restartGateway(app: PoolServer, body: JsonBody, response: ServerResponse) {
  if (!body.ok || !isObject(body.value)) return sendJson(response, 400, { error: 'Invalid JSON body' })
  const env = body.value.env ?? {}
  if (!isObject(env)) return sendJson(response, 400, { error: 'Invalid JSON body' })
  app.restartGateway(Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)])))
  sendJson(response, 200, { ok: true })
}

function provision(app: PoolServer, body: JsonBody, response: ServerResponse) {
  if (!app.ready) return sendJson(response, 503, { error: 'Gateway not ready yet' })
  if (!body.ok || !isObject(body.value)) return sendJson(response, 400, { error: 'Invalid JSON body' })
  const { agentName, instructions, joinUrl } = body.value
  if (!nonEmpty(agentName) || !nonEmpty(instructions)) {
    return sendJson(response, 400, { error: 'agentName and instructions are required' })
  }
  const result = app.provision({ agentName, instructions, joinUrl: nonEmpty(joinUrl) ? joinUrl : null })
  sendJson(response, 200, {
    ok: true,
    inviteUrl: result.inviteUrl,
    conversationId: result.conversationId,
    joined: result.joined,
  })
}

type JsonBody = { ok: true; value: unknown } | { ok: false }

async function readJson(request: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return { ok: false }
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  // pool-server.js parses `body || '{}'`: an empty body is an empty object.
  if (text.trim() === '') return { ok: true, value: {} }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== ''
}
