/**
 * Cleanup in reverse order of setup, as tap's `t.teardown` does for the test helpers this bench reuses
 * (createTestDatabase takes anything with `teardown`).
 */
export class Teardown {
  readonly #steps: Array<() => unknown> = []

  teardown(fn: () => unknown) {
    this.#steps.push(fn)
  }

  /** Runs every step, last registered first; a failing step does not stop the others. */
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step()
      } catch (error) {
        process.stderr.write(`bench teardown: ${(error as Error).message}\n`)
      }
    }
  }
}

/** Runs `fn` with a fresh Teardown and always cleans up after it. */
export async function withTeardown<T>(fn: (teardown: Teardown) => Promise<T>): Promise<T> {
  const teardown = new Teardown()
  try {
    return await fn(teardown)
  } finally {
    await teardown.run()
  }
}
