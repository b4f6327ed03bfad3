import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { handlePoolRequest, type PoolServer } from './pool-routes.js'
import { sendJson } from './send-json.js'

/**
 * What a deployed service answers at its domain:
 * - `edge`: no deployment has succeeded yet, so Railway's edge answers 404 "Application not found";
 * - `running`: the app (the runtime's pool-server.js) answers;
 * - `crashed`: the last deployment crashed, the edge answers 502 "Application failed to respond";
 * - `killed`: the process died (`killRuntime`): connections are refused until a deployment succeeds again.
 */
export type RuntimeState = 'edge' | 'running' | 'crashed' | 'killed'

export interface Provision {
  agentName: string
  instructions: string
  joinUrl: string | null
  inviteUrl: string | null
  conversationId: string
  joined: boolean
  at: string
}

/** What tests read about one runtime: where it listens and everything it has received. */
export interface RuntimeView {
  /** `http://127.0.0.1:PORT` of its first domain (undefined before any domain exists). */
  url: string | undefined
  urls: string[]
  state: RuntimeState
  ready: boolean
  /** The process env: the deployment's variables plus what restart-gateway merged in since. */
  env: Record<string, string>
  provisions: Provision[]
  /** How many times `POST /pool/restart-gateway` was accepted, and the env each one merged. */
  restarts: number
  restartEnvs: Record<string, string>[]
  /** How many times a deployment (re)started the app. */
  starts: number
}

export interface AgentRuntimeOptions {
  /** The app answers `{ready:false}` this long after it starts or its gateway restarts (default 500 ms). */
  warmupMs?: number
}

/**
 * One service's runtime: real HTTP servers on 127.0.0.1 (one per domain) that answer like Railway's edge
 * until a deployment succeeds, then like the agent runtime's pool-server.js (providers.md §6).
 */
export class AgentRuntime implements PoolServer {
  readonly #warmupMs: number
  #state: RuntimeState = 'edge'
  #env: Record<string, string> = {}
  #readyAt = Number.POSITIVE_INFINITY
  #starts = 0
  readonly #provisions: Provision[] = []
  readonly #restartEnvs: Record<string, string>[] = []
  readonly #ports: number[] = []
  #servers: Server[] = []
  #closing: Promise<unknown> = Promise.resolve()

  constructor(options: AgentRuntimeOptions = {}) {
    this.#warmupMs = options.warmupMs ?? 500
  }

  /** Binds one more domain: a fresh HTTP server on 127.0.0.1. Returns its port. */
  async listen(port = 0): Promise<number> {
    const dead = this.#state === 'killed'
    const server = await this.#bind(port, !dead)
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('runtime server has no port')
    this.#ports.push(address.port)
    // A dead runtime only reserves the port; the next successful deployment binds it again.
    if (dead) await closeServer(server)
    return address.port
  }

  /** A deployment succeeded: the app (re)starts with `env`, warms up, and listens again if it had died. */
  async start(env: Record<string, string>): Promise<void> {
    const wasKilled = this.#state === 'killed'
    this.#env = { ...env }
    this.#state = 'running'
    this.#starts += 1
    this.#readyAt = Date.now() + this.#warmupMs
    if (!wasKilled) return
    // A kill still closing its servers holds the ports.
    await this.#closing
    const bound = await Promise.allSettled(this.#ports.map((port) => this.#bind(port, false)))
    this.#servers = bound.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  }

  /** The latest deployment crashed: the edge answers 502 while the servers stay reachable. */
  crash() {
    if (this.#state !== 'killed') this.#state = 'crashed'
  }

  /** The process died: connections are refused (servers closed) until `start` runs again. */
  async kill(): Promise<void> {
    this.#state = 'killed'
    const servers = this.#servers
    this.#servers = []
    this.#closing = Promise.all(servers.map(closeServer))
    await this.#closing
  }

  /** For good: the service or its project was deleted, or the emulator closes. */
  async stop(): Promise<void> {
    await this.kill()
    this.#ports.length = 0
  }

  get state(): RuntimeState {
    return this.#state
  }

  get ready(): boolean {
    return this.#state === 'running' && Date.now() >= this.#readyAt
  }

  get env(): Record<string, string> {
    return this.#env
  }

  view(): RuntimeView {
    const urls = this.#ports.map((port) => `http://127.0.0.1:${port}`)
    return {
      url: urls[0],
      urls,
      state: this.#state,
      ready: this.ready,
      env: { ...this.#env },
      provisions: [...this.#provisions],
      restarts: this.#restartEnvs.length,
      restartEnvs: this.#restartEnvs.map((env) => ({ ...env })),
      starts: this.#starts,
    }
  }

  restartGateway(env: Record<string, string>) {
    Object.assign(this.#env, env)
    this.#restartEnvs.push({ ...env })
    this.#readyAt = Date.now() + this.#warmupMs
  }

  provision(request: { agentName: string; instructions: string; joinUrl: string | null }): Provision {
    const joined = request.joinUrl !== null
    const provision: Provision = {
      ...request,
      joined,
      // Joining keeps the caller's invite; a new conversation gets its own invite link.
      inviteUrl: joined
        ? request.joinUrl
        : `https://convos.org/v2?i=${randomBytes(12).toString('base64url')}`,
      conversationId: randomBytes(16).toString('hex'),
      at: new Date().toISOString(),
    }
    this.#provisions.push(provision)
    return provision
  }

  #bind(port: number, track = true): Promise<Server> {
    const server = createServer((request, response) => this.#handle(request, response))
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        if (track) this.#servers.push(server)
        resolve(server)
      })
    })
  }

  #handle(request: IncomingMessage, response: ServerResponse) {
    if (this.#state === 'killed') {
      request.socket.destroy()
      return
    }
    if (this.#state !== 'running') {
      const code = this.#state === 'edge' ? 404 : 502
      const message = this.#state === 'edge' ? 'Application not found' : 'Application failed to respond'
      sendJson(response, code, { status: 'error', code, message, request_id: randomUUID() })
      return
    }
    handlePoolRequest(this, request, response).catch(() => {
      if (!response.headersSent) sendJson(response, 500, { error: 'Internal error' })
      else response.destroy()
    })
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    // Keep-alive sockets would otherwise keep answering after the "crash".
    server.closeAllConnections()
  })
}
