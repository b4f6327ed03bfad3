import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const cache = join(root, 'node_modules/.cache/packed-client')
/** The client's runtime dependency chain. */
const DEPENDENCIES = ['openapi-fetch', 'openapi-typescript-helpers']

export interface PackedClient {
  /** The client's tarball, exactly what `npm publish` would upload. */
  tarball: string
  /** Tarballs of its runtime dependency chain, for an install without a registry. */
  dependencies: string[]
}

let packing: Promise<PackedClient> | undefined

/**
 * `npm pack` of pool-client (its prepack builds dist/), shared by the packaging and end-to-end tests.
 * Cached under node_modules/.cache by a hash of everything that goes into the tarball, so the suite packs
 * once; packing holds a lock because two test processes building pool-client/dist at the same moment
 * could pack each other's half-written files.
 */
export function packClient(): Promise<PackedClient> {
  packing ??= cached()
  return packing
}

async function cached(): Promise<PackedClient> {
  const dir = join(cache, inputsHash())
  const manifest = join(dir, 'packed.json')
  if (!existsSync(manifest)) {
    await withLock(join(cache, 'lock'), async () => {
      if (existsSync(manifest)) return // another process packed it while this one waited
      for (const old of existsSync(cache) ? readdirSync(cache) : []) {
        if (old !== 'lock') rmSync(join(cache, old), { recursive: true, force: true })
      }
      const staging = `${dir}.tmp`
      mkdirSync(staging, { recursive: true })
      const packed = await pack(staging)
      writeFileSync(join(staging, 'packed.json'), JSON.stringify(packed))
      renameSync(staging, dir)
    })
  }
  const packed = JSON.parse(readFileSync(manifest, 'utf8')) as PackedClient
  return {
    tarball: join(dir, packed.tarball),
    dependencies: packed.dependencies.map((file) => join(dir, file)),
  }
}

/** Packs into `dir`; answers file names relative to it. */
async function pack(dir: string): Promise<PackedClient> {
  const packed = async (args: string[], cwd = root) => {
    const { stdout } = await run('npm', ['pack', ...args, '--pack-destination', dir, '--silent'], { cwd })
    return stdout.trim().split('\n').at(-1) as string
  }
  const tarball = await packed([], join(root, 'pool-client'))
  // Offline means no registry at all: the runtime dependency chain comes packed from this checkout's
  // node_modules (npm ci caches tarballs, not the registry documents a plain install asks for).
  const dependencies = []
  for (const name of DEPENDENCIES) dependencies.push(await packed([join(root, 'node_modules', name)]))
  return { tarball, dependencies }
}

/** Every file the tarball is made from: sources, build settings, docs, and the dependencies' versions. */
function inputsHash(): string {
  const files = [
    ...listFiles(join(root, 'pool-client/src')),
    ...['package.json', 'tsconfig.build.json', 'README.md', 'CHANGELOG.md'].map((f) =>
      join(root, 'pool-client', f),
    ),
    join(root, 'tsconfig.base.json'),
    ...DEPENDENCIES.map((name) => join(root, 'node_modules', name, 'package.json')),
  ]
  const hash = createHash('sha256')
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(file)).update('\0')
  return hash.digest('hex').slice(0, 16)
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
}

/** A directory as a lock between processes (mkdir is atomic); a holder that died leaves one to take over. */
async function withLock(lock: string, work: () => Promise<void>): Promise<void> {
  mkdirSync(cache, { recursive: true })
  for (const deadline = Date.now() + 120_000; ; ) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() > deadline) throw new Error(`${lock} held for over 2 minutes`)
      if (abandoned(lock)) rmSync(lock, { recursive: true, force: true })
      else await sleep(200)
    }
  }
  try {
    writeFileSync(join(lock, 'pid'), String(process.pid))
    await work()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

function abandoned(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
    process.kill(pid, 0) // throws when no such process
    return false
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return false
    // No pid file yet: its holder is between mkdir and writing it, unless that was long ago.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return lockAge(lock) > 30_000
    return true
  }
}

function lockAge(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs
  } catch {
    return 0
  }
}

/** A blank ESM project at `project` (created) with the packed client installed offline, as the pool would. */
export async function installPackedClient(project: string): Promise<void> {
  const { tarball, dependencies } = await packClient()
  mkdirSync(project, { recursive: true })
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'pool', private: true, type: 'module' }),
  )
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...dependencies, tarball], {
    cwd: project,
  })
}
