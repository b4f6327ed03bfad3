/**
 * The error the promise rejects with, when it is an instance of `type`; any other error is rethrown, and
 * a promise that resolves fails the test.
 */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: any constructor of E, whatever its parameters
  type: abstract new (...args: any[]) => E,
): Promise<E> {
  try {
    await promise
  } catch (error) {
    if (error instanceof type) return error
    throw error
  }
  throw new Error(`expected a ${type.name}, but the promise resolved`)
}
