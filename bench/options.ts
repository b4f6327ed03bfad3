import type { ServerEntry } from './harness/server-process.js'

/** Sizes of each scenario: the numbers, or small ones that keep the quick mode to seconds. */
export interface BenchSizes {
  /** Creations one after another for P1 (each is one sample). */
  sequentialCreations: number
  /** Creations requested at once for P3. */
  burstCreations: number
  /** Instances of the fleet behind P2, P4 and P5. */
  fleet: number
  /** P4: status batches timed, and ids per batch. */
  latencyBatches: number
  latencyBatchSize: number
  /** Sweeps of the fleet timed for P4 on a warm server. */
  sweeps: number
  /** Full health sweeps for P4: each the first sweep of a freshly started server. */
  fullSweeps: number
  /** P5: seconds of load per target, and ids in the cached status batch. */
  loadSeconds: number
  loadBatchSize: number
  /** P6: instance rows in the database. */
  memoryInstances: number
}

export interface BenchOptions {
  quick: boolean
  /** Added by every emulator to every provider request. */
  latencyMs: number
  healthTimeoutMs: number
  sizes: BenchSizes
  /** Where to write the report; undefined: print only. */
  output: string | undefined
  /** How the server process runs: the compiled build (built first) or the sources through tsx. */
  server: ServerEntry
  /** Runs the server of P5 under `--cpu-prof` and summarises the hot spots. */
  profile: boolean
  /** Progress lines go here (stderr by default). */
  log: (line: string) => void
}

const FULL: BenchSizes = {
  sequentialCreations: 5,
  burstCreations: 200,
  fleet: 1_000,
  latencyBatches: 40,
  latencyBatchSize: 100,
  sweeps: 5,
  fullSweeps: 3,
  loadSeconds: 10,
  loadBatchSize: 100,
  memoryInstances: 10_000,
}

const QUICK: BenchSizes = {
  sequentialCreations: 2,
  burstCreations: 12,
  fleet: 40,
  latencyBatches: 4,
  latencyBatchSize: 10,
  sweeps: 2,
  fullSweeps: 1,
  loadSeconds: 1,
  loadBatchSize: 10,
  memoryInstances: 200,
}

function flag(argv: readonly string[], name: string): string | true | undefined {
  for (const arg of argv) {
    if (arg === `--${name}`) return true
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3)
  }
  return undefined
}

function positiveNumber(value: string | true | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value === true || !Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0`)
  return n
}

/**
 * Flags win over the environment: `--quick` / BENCH_QUICK=1, `--latency=MS` / BENCH_LATENCY_MS (default
 * 150), `--health-timeout=MS` / BENCH_HEALTH_TIMEOUT_MS (default 1500), `--out=FILE` (default
 * BENCHMARKS.md for a full run, none for a quick one), `--no-write`, `--profile` / BENCH_PROFILE=1,
 * `--server=dist|tsx` / BENCH_SERVER (default: dist for a full run, measured as deployed; tsx for a quick
 * one, which then needs no build).
 */
export function parseOptions(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): BenchOptions {
  const quick = flag(argv, 'quick') !== undefined || env.BENCH_QUICK === '1'
  const latencyMs =
    positiveNumber(flag(argv, 'latency'), '--latency') ??
    positiveNumber(env.BENCH_LATENCY_MS, 'BENCH_LATENCY_MS') ??
    150
  const healthTimeoutMs =
    positiveNumber(flag(argv, 'health-timeout'), '--health-timeout') ??
    positiveNumber(env.BENCH_HEALTH_TIMEOUT_MS, 'BENCH_HEALTH_TIMEOUT_MS') ??
    1_500
  const out = flag(argv, 'out')
  const output =
    flag(argv, 'no-write') !== undefined
      ? undefined
      : typeof out === 'string'
        ? out
        : quick
          ? undefined
          : 'BENCHMARKS.md'
  const server = flag(argv, 'server') ?? env.BENCH_SERVER ?? (quick ? 'tsx' : 'dist')
  if (server !== 'dist' && server !== 'tsx') throw new Error('--server must be dist or tsx')
  return {
    quick,
    server,
    latencyMs,
    healthTimeoutMs,
    sizes: quick ? QUICK : FULL,
    output,
    profile: flag(argv, 'profile') !== undefined || env.BENCH_PROFILE === '1',
    log: (line) => process.stderr.write(`${line}\n`),
  }
}
