import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

export interface LoadResult {
  /** Mean requests per second over the run. */
  perSecond: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
  total: number
}

export interface LoadOptions {
  url: string
  seconds: number
  connections: number
  /** Requests per second over all connections (autocannon's `-R`); unset: as fast as it can. */
  rate?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
}

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js')

/**
 * Runs autocannon in its own process (the load generator must not share the server's event loop, nor the
 * harness's) and reads its JSON summary.
 */
export async function loadTest(options: LoadOptions): Promise<LoadResult> {
  const args = [AUTOCANNON, '-j', '-c', String(options.connections), '-d', String(options.seconds)]
  if (options.rate) args.push('-R', String(options.rate))
  if (options.method) args.push('-m', options.method)
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`)
  if (options.body) args.push('-b', options.body)
  args.push(options.url)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-2000)}`)
  const json = JSON.parse(stdout) as {
    requests: { average: number; total: number }
    latency: { p50: number; p99: number }
    non2xx: number
    errors: number
    timeouts: number
  }
  return {
    perSecond: json.requests.average,
    p50Ms: json.latency.p50,
    p99Ms: json.latency.p99,
    non2xx: json.non2xx,
    errors: json.errors + json.timeouts,
    total: json.requests.total,
  }
}
