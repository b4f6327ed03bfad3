import { AgentRuntime } from '../runtime/agent-runtime.js'

/**
 * The runtime of each service (by service id; a project here has one environment, so one instance per
 * service). A runtime exists from the first successful deployment or domain, whichever comes first.
 */
export class RuntimeRegistry {
  readonly #runtimes = new Map<string, AgentRuntime>()

  constructor(private readonly warmupMs: number) {}

  get(serviceId: string): AgentRuntime | undefined {
    return this.#runtimes.get(serviceId)
  }

  ensure(serviceId: string): AgentRuntime {
    let runtime = this.#runtimes.get(serviceId)
    if (!runtime) {
      runtime = new AgentRuntime({ warmupMs: this.warmupMs })
      this.#runtimes.set(serviceId, runtime)
    }
    return runtime
  }

  /** The service is gone: its servers close and connections are refused. */
  async remove(serviceId: string): Promise<void> {
    const runtime = this.#runtimes.get(serviceId)
    this.#runtimes.delete(serviceId)
    await runtime?.stop()
  }

  async closeAll(): Promise<void> {
    const runtimes = [...this.#runtimes.values()]
    this.#runtimes.clear()
    await Promise.all(runtimes.map((runtime) => runtime.stop()))
  }
}
