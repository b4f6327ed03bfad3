/**
 * `npm run generate`        — regenerate the code derived from openapi/openapi.yaml
 * `npm run generate:check`  — write nothing; exit 1 naming every generated file that is stale or missing
 *
 * Options (mainly for tests): `--root <dir>` uses <dir> instead of the repository root.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import { parse } from 'yaml'
import { GENERATED_HEADER, generateTypeBox, type OpenApiDocument } from './openapi-to-typebox.js'

export const SPEC_PATH = 'openapi/openapi.yaml'
export const SCHEMAS_PATH = 'services/src/generated/schemas.ts'
export const ROUTES_PATH = 'services/src/generated/routes.ts'
export const CLIENT_PATH = 'pool-client/src/generated/openapi.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface GeneratedFile {
  /** path relative to the root, with forward slashes */
  path: string
  content: string
}

export async function readSpec(root: string): Promise<OpenApiDocument> {
  const text = await readFile(join(root, SPEC_PATH), 'utf8')
  const spec: unknown = parse(text)
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new Error(`${SPEC_PATH} does not contain an OpenAPI document`)
  }
  return spec as OpenApiDocument
}

/** Everything `npm run generate` writes, computed in memory. */
export async function renderFiles(spec: OpenApiDocument, root: string): Promise<GeneratedFile[]> {
  const { schemas, routes } = generateTypeBox(spec)
  const ast = await openapiTS(structuredClone(spec) as Parameters<typeof openapiTS>[0], {
    cwd: pathToFileURL(join(root, dirname(SPEC_PATH), '/')),
    silent: true,
  })
  const client = `${GENERATED_HEADER}\n\n${astToString(ast)}`
  return [
    { path: SCHEMAS_PATH, content: schemas },
    { path: ROUTES_PATH, content: routes },
    { path: CLIENT_PATH, content: client.endsWith('\n') ? client : `${client}\n` },
  ]
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export interface StaleFile {
  path: string
  reason: 'missing' | 'stale'
}

/** The generated files whose content on disk differs from `files`. Writes nothing. */
export async function findStale(root: string, files: GeneratedFile[]): Promise<StaleFile[]> {
  const stale: StaleFile[] = []
  for (const file of files) {
    const current = await readIfExists(join(root, file.path))
    if (current === undefined) stale.push({ path: file.path, reason: 'missing' })
    else if (current !== file.content) stale.push({ path: file.path, reason: 'stale' })
  }
  return stale
}

/** Writes the files whose content changed; returns the paths written. */
export async function writeFiles(root: string, files: GeneratedFile[]): Promise<string[]> {
  const written: string[] = []
  for (const file of files) {
    const target = join(root, file.path)
    if ((await readIfExists(target)) === file.content) continue
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, file.content)
    written.push(file.path)
  }
  return written
}

interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}

/** The CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let check = false
  let root = REPO_ROOT
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--check') check = true
    else if (arg === '--root' && argv[i + 1] !== undefined) root = resolve(argv[++i] as string)
    else {
      io.err(`usage: tsx scripts/generate.ts [--check] [--root <dir>] (unexpected argument ${arg})`)
      return 2
    }
  }

  let files: GeneratedFile[]
  try {
    files = await renderFiles(await readSpec(root), root)
  } catch (err) {
    io.err(`generate: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }

  if (check) {
    const stale = await findStale(root, files)
    for (const s of stale) io.err(`${s.reason}: ${s.path}`)
    if (stale.length > 0) {
      io.err(`generated code is out of date with ${SPEC_PATH}; run npm run generate`)
      return 1
    }
    io.out('generated code is up to date')
    return 0
  }

  const written = await writeFiles(root, files)
  for (const file of files) io.out(`${written.includes(file.path) ? 'wrote' : 'unchanged'} ${file.path}`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
