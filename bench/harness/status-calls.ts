import { type ServicesClient, type StatusBatch, statusOf } from '../../pool-client/src/index.js'

/** `statusOf` (batches of 1,000, in parallel) timed; throws on a problem answer. */
export async function timedStatus(client: ServicesClient, ids: readonly string[]) {
  const started = performance.now()
  const batch: StatusBatch = await statusOf(client, ids)
  return { ms: performance.now() - started, batch }
}

/** A deterministic shuffle (LCG), so every run asks for the same batches. */
export function sample(ids: readonly string[], size: number, seed: number): string[] {
  const copy = [...ids]
  let state = seed >>> 0 || 1
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    const j = state % (i + 1)
    ;[copy[i], copy[j]] = [copy[j] as string, copy[i] as string]
  }
  return copy.slice(0, size)
}
