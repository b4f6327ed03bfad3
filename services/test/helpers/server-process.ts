import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
// Enough of the log to explain a start that failed, without keeping every line of a long run.
const KEPT_OUTPUT = 64 * 1024

export interface ServerProcess {
  readonly child: ChildProcess
  /** `http://127.0.0.1:PORT`, from the "Server listening at" line. */
  readonly url: string
  /** The last lines the process printed (stdout and stderr). */
  output(): string
  /** SIGKILL, as a crash or an OOM kill would stop it: no shutdown hook runs. Resolves once it is gone. */
  kill(): Promise<void>
}

/**
 * Node running `args` with only `env` (plus PATH), its output kept (the last 64 KiB of stdout and stderr)
 * to explain a failure. Shared by the child-process tests and the benchmarks' server.
 */
export function spawnNode(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let kept = ''
  const keep = (chunk: Buffer) => {
    kept = (kept + chunk.toString()).slice(-KEPT_OUTPUT)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output: () => kept, exited: once(child, 'exit') }
}

/**
 * Starts `server.ts` as a container runs it, with only `env` (plus PATH), and resolves once it listens.
 * The server logs at `info` so the listen line appears; pass `LOG_LEVEL` to override.
 */
export async function startServerProcess(
  env: Record<string, string>,
  { timeoutMs = 60_000 } = {},
): Promise<ServerProcess> {
  const { child, output, exited } = spawnNode(['--import=tsx', SERVER], { LOG_LEVEL: 'info', ...env })

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the server did not listen within ${timeoutMs} ms:\n${output()}`))
    }, timeoutMs)
    const onData = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())
      if (!match?.[1]) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(match[1])
    }
    child.stdout?.on('data', onData)
    void exited.then(([code, signal]) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${output()}`))
    })
  })

  return {
    child,
    url,
    output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
