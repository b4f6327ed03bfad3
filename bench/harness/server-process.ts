import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { spawnNode } from '../../services/test/helpers/server-process.js'

const SOURCE = fileURLToPath(new URL('../../services/src/server.ts', import.meta.url))
const BUILT = fileURLToPath(new URL('../../services/dist/server.js', import.meta.url))

/** `dist`: the compiled server, as the Docker image runs it; `tsx`: the sources, no build needed. */
export type ServerEntry = 'dist' | 'tsx'

export interface BenchServer {
  readonly url: string
  readonly pid: number
  /** Resident set size of the server process now, in bytes (Linux /proc). */
  rss(): Promise<number>
  output(): string
  /** SIGTERM (the graceful stop, which also writes a `--cpu-prof` profile), then waits for the exit. */
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/**
 * The server in its own process, as a deployment runs it: the load generator and the emulators must not
 * share its event loop, and its RSS must be its own. Logs at `warn` unless told otherwise, so a load run
 * measures the server rather than the pipe its request log would fill. Resolves once `/healthz` answers.
 */
export async function startBenchServer(
  env: Record<string, string>,
  { entry = 'tsx' as ServerEntry, nodeArgs = [] as string[], timeoutMs = 60_000 } = {},
): Promise<BenchServer> {
  const port = await freePort()
  const script = entry === 'dist' ? [BUILT] : ['--import=tsx', SOURCE]
  const { child, output, exited } = spawnNode([...nodeArgs, ...script], {
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...env,
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited before answering:\n${output()}`)
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the server did not answer /healthz within ${timeoutMs} ms:\n${output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const pid = child.pid as number
  return {
    url,
    pid,
    async rss() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
      return kb ? Number(kb) * 1024 : Number.NaN
    },
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    },
  }
}
