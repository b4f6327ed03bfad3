import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { installPackedClient } from '../../../pool-client/test/packed-client.js'
import type { TeardownHost } from '../../../services/test/helpers/database.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../../..')
const example = resolve(import.meta.dirname, '..')

/**
 * A blank project outside the repo with the packed client installed offline and the reference pool copied
 * in (src/ and the driver), typechecked against the package's own .d.ts: what the pool team will have.
 * Removed when `t` ends.
 */
export async function poolProject(t: TeardownHost): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'example-pool-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await installPackedClient(dir)
  cpSync(join(example, 'src'), join(dir, 'src'), { recursive: true })
  cpSync(join(example, 'test/pool-driver.ts'), join(dir, 'test/pool-driver.ts'))
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        lib: ['ES2022', 'DOM'],
        // Node's types from the repo (the pool has its own); no paths: the client is the installed one.
        typeRoots: [join(root, 'node_modules/@types')],
        types: ['node'],
        skipLibCheck: true,
        noEmit: true,
      },
      include: ['src', 'test'],
    }),
  )
  await run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir })
  return dir
}

export interface PoolProcess {
  /** Runs one driver operation (see pool-driver.ts) and answers its result; a failure rejects. */
  call<T = unknown>(op: string, args?: object): Promise<T>
  /** What the driver wrote to stderr so far, for failure messages. */
  stderr(): string
}

/** Starts the driver in `project` with tsx (from the repo; tsx reads the project's own tsconfig). */
export function startPoolProcess(t: TeardownHost, project: string, env: Record<string, string>): PoolProcess {
  const child: ChildProcess = spawn(join(root, 'node_modules/.bin/tsx'), ['test/pool-driver.ts'], {
    cwd: project,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr?.on('data', (chunk) => {
    errors += String(chunk)
  })
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string }
    const caller = waiting.get(answer.id)
    waiting.delete(answer.id)
    if (answer.ok) caller?.resolve(answer.result)
    else caller?.reject(new Error(answer.error))
  })
  child.on('exit', (code, signal) => {
    for (const caller of waiting.values()) {
      caller.reject(new Error(`pool driver exited (${code ?? signal}): ${errors}`))
    }
    waiting.clear()
  })
  // Closing stdin ends the driver's read loop; a driver stuck in a call is killed.
  t.teardown(async () => {
    child.stdin?.end()
    const exited = new Promise((done) => child.once('exit', done))
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    if (child.exitCode === null && child.signalCode === null) await exited
    clearTimeout(timer)
  })

  let next = 0
  return {
    call<T>(op: string, args: object = {}) {
      const id = ++next
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.stdin?.write(`${JSON.stringify({ id, op, args })}\n`)
      })
    },
    stderr: () => errors,
  }
}
