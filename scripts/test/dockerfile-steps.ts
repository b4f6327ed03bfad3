import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

/** One build stage of the Dockerfile: its base image, and the folder that stands in for its WORKDIR. */
export interface Stage {
  name: string
  from: string
  dir: string
  env: Record<string, string>
  user?: string
  cmd?: string[]
}

export interface DockerfileRun {
  stages: Stage[]
  /** Instructions that name the image, not the filesystem: checked, not executed. */
  instructions: Map<string, string[]>
  /** RUN lines that work outside WORKDIR (e.g. creating /data for the non-root user): not executed here. */
  skipped: string[]
}

/** The Dockerfile as instructions, continuation lines joined, comments and the syntax line dropped. */
export function parseDockerfile(text: string): Array<[keyword: string, args: string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/)
      return [keyword.toUpperCase(), rest.join(' ')] as [string, string]
    })
}

/**
 * Performs what `docker build` would, without a Docker engine: each stage is a fresh folder under `root`
 * standing in for its WORKDIR; COPY copies from the build context (the repo, minus what .dockerignore
 * keeps out is not needed: every COPY here names its files) or from an earlier stage, and RUN runs the
 * command in that folder with the stage's ENV. The base image is this machine's Node, which the test
 * checks has the image's major version.
 */
export function runDockerfile(context: string, root: string): DockerfileRun {
  const stages: Stage[] = []
  const instructions = new Map<string, string[]>()
  const skipped: string[] = []
  let stage: Stage | undefined
  for (const [keyword, args] of parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'))) {
    instructions.set(keyword, [...(instructions.get(keyword) ?? []), args])
    if (keyword === 'FROM') {
      const [from = '', , name] = args.split(/\s+/)
      stage = {
        name: name ?? `stage-${stages.length}`,
        from,
        dir: join(root, `stage-${stages.length}`),
        env: {},
      }
      mkdirSync(stage.dir, { recursive: true })
      stages.push(stage)
      continue
    }
    if (!stage) throw new Error(`${keyword} before FROM`)
    const current: Stage = stage
    if (keyword === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [key, value = ''] = pair.split('=')
        if (key) current.env[key] = value
      }
    } else if (keyword === 'COPY') copy(context, stages, current, args)
    else if (keyword === 'RUN') {
      // Only what happens inside WORKDIR is reproduced; system folders of the image are not this machine's.
      if (/(^|\s)\/(?!app\b)/.test(args)) skipped.push(args)
      else
        execFileSync('sh', ['-c', args], {
          cwd: current.dir,
          env: { ...process.env, ...current.env },
          stdio: 'pipe',
        })
    } else if (keyword === 'USER') current.user = args
    else if (keyword === 'CMD') current.cmd = JSON.parse(args) as string[]
  }
  return { stages, instructions, skipped }
}

function copy(context: string, stages: Stage[], stage: Stage, args: string) {
  const parts = args.split(/\s+/)
  const fromStage = parts[0]?.startsWith('--from=') ? parts.shift()?.slice('--from='.length) : undefined
  const dest = parts.pop() as string
  const base = fromStage ? stages.find((s) => s.name === fromStage)?.dir : context
  if (!base) throw new Error(`COPY --from=${fromStage}: no such stage`)
  const ignored = fromStage ? () => false : dockerignore(context)
  for (const src of parts) {
    // `dest/` (or several sources) means "into that folder"; otherwise dest is the copy's own name.
    const into = dest.endsWith('/') || parts.length > 1
    const target = join(stage.dir, dest, into ? basename(src) : '')
    const from = join(base, fromStage ? src.replace(/^\/app\//, '') : src)
    cpSync(from, target, { recursive: true, filter: (path) => !ignored(path) })
  }
}

/** .dockerignore as the build context sees it (plain names, `*.ext` and names under any folder). */
function dockerignore(context: string): (path: string) => boolean {
  const names = readFileSync(join(context, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim().replace(/^\*\*\//, ''))
    .filter((line) => line && !line.startsWith('#'))
  return (path) =>
    names.some((name) => (name.startsWith('*.') ? path.endsWith(name.slice(1)) : basename(path) === name))
}
