import { AgentRuntime } from './agent-runtime.js'

export {
  AgentRuntime,
  type AgentRuntimeOptions,
  type Provision,
  type RuntimeState,
  type RuntimeView,
} from './agent-runtime.js'

export interface RuntimeEmulatorOptions {
  port?: number
  /** The process env of the app; POOL_API_KEY, when set, is the Bearer token its routes require. */
  env?: Record<string, string>
  warmupMs?: number
}

export interface RunningRuntimeEmulator {
  url: string
  runtime: AgentRuntime
  close(): Promise<void>
}

/**
 * A runtime on its own, already running (no Railway in front): for tests of services → runtime calls
 * (configure, health) that do not need a deployment. The Railway emulator builds its runtimes itself.
 */
export async function startRuntimeEmulator(
  options: RuntimeEmulatorOptions = {},
): Promise<RunningRuntimeEmulator> {
  const runtime = new AgentRuntime(options.warmupMs === undefined ? {} : { warmupMs: options.warmupMs })
  const port = await runtime.listen(options.port ?? 0)
  await runtime.start(options.env ?? {})
  return { url: `http://127.0.0.1:${port}`, runtime, close: () => runtime.stop() }
}
