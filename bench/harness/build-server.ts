import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const PROJECT = fileURLToPath(new URL('../../services/tsconfig.build.json', import.meta.url))

/** `npm run build`: compiles services/src into services/dist, so the bench measures what ships. */
export async function buildServer(): Promise<void> {
  const child = spawn(process.execPath, [TSC, '-p', PROJECT], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`the server build failed:\n${output.slice(-4000)}`)
}
