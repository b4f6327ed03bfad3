import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

/** What V8 samples when no JavaScript runs: reported apart, as a share of all samples. */
const NOT_JS = new Set(['(idle)', '(program)', '(garbage collector)'])

export interface Profile {
  /** Share of all samples the process sat idle (waiting on sockets). */
  idle: number
  gc: number
  /** Self time per function, as a share of the busy (non-idle) samples. */
  functions: HotSpot[]
  /** Self time per package (or `services/src/...` folder, or `node:` internals), share of busy samples. */
  areas: HotSpot[]
}

export interface HotSpot {
  /** Share of all samples spent in this function itself (self time). */
  share: number
  name: string
  where: string
}

/**
 * The self time in the `.cpuprofile` files of `dir` (written by `--cpu-prof`), by function and by area,
 * with locations shortened to the repository or the package.
 */
export async function readProfile(dir: string, top = 12): Promise<Profile> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
  const byFunction = new Map<string, { hits: number; name: string; where: string }>()
  const byArea = new Map<string, number>()
  let total = 0
  let idle = 0
  let gc = 0
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as { nodes: ProfileNode[] }
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0
      if (hits === 0) continue
      total += hits
      const { functionName, url, lineNumber } = node.callFrame
      const name = functionName || '(anonymous)'
      if (name === '(idle)') idle += hits
      if (name === '(garbage collector)') gc += hits
      if (name === '(idle)') continue
      const where = url ? `${shorten(url)}:${lineNumber + 1}` : ''
      const key = `${name} ${where}`
      const entry = byFunction.get(key) ?? { hits: 0, name, where }
      entry.hits += hits
      byFunction.set(key, entry)
      const area = NOT_JS.has(name) ? name : url ? areaOf(url) : '(native)'
      byArea.set(area, (byArea.get(area) ?? 0) + hits)
    }
  }
  const busy = Math.max(1, total - idle)
  return {
    idle: total ? idle / total : 0,
    gc: total ? gc / total : 0,
    functions: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((e) => ({ share: e.hits / busy, name: e.name, where: e.where })),
    areas: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ share: hits / busy, name, where: '' })),
  }
}

/** `fastify`, `drizzle-orm`, `@scope/pkg`, `node:internal/http`, or the services/src folder. */
function areaOf(url: string): string {
  const path = shorten(url)
  if (path.startsWith('node:')) return path.split('/').slice(0, 3).join('/')
  if (!url.includes('/node_modules/')) return path.split('/').slice(0, 3).join('/')
  const parts = path.split('/')
  return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('/node_modules/')
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length)
  return path.startsWith('/') ? relative(process.cwd(), path) : path
}
