import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

const BIOME = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome')

/**
 * Formats the written report with the repository's Biome (it formats Markdown: tables padded), so a
 * fresh BENCHMARKS.md passes `biome check .` as committed. A failure only leaves it unformatted.
 */
export async function formatMarkdown(file: string): Promise<boolean> {
  const child = spawn(process.execPath, [BIOME, 'format', '--write', file], { stdio: 'ignore' })
  return new Promise((resolve) => child.on('close', (code) => resolve(code === 0)))
}
