import type { Client } from 'openapi-fetch'
import type { components, paths } from './generated/openapi.js'

type Instance = components['schemas']['Instance']
type StatusBatch = components['schemas']['StatusBatch']
type Problem = components['schemas']['Problem']

/** A problem answer, thrown by the helpers (which have no `{data, error}` pair to return it in). */
export class ServicesProblemError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(`${problem.code}: ${problem.detail ?? problem.title}`)
    this.name = 'ServicesProblemError'
    this.problem = problem
  }
  get code(): string {
    return this.problem.code
  }
}

/** The most ids `POST /status/batch` takes at once. */
export const STATUS_BATCH_LIMIT = 1_000

/**
 * Polls the instance view until the instance is `ready` (returned), with backoff from 250 ms to 5 s.
 * Throws a ServicesProblemError when the creation failed (code `CREATION_FAILED`, the cause in `detail`)
 * or the instance is gone, and an Error when `timeoutMs` passes first.
 */
export async function waitUntilReady(
  client: Client<paths>,
  instanceId: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Instance> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000)
  for (let pause = 250; ; pause = Math.min(5_000, pause * 2)) {
    const { data, error } = await client.GET('/instances/{instanceId}', {
      params: { path: { instanceId } },
      ...(options.signal ? { signal: options.signal } : {}),
    })
    if (error) throw new ServicesProblemError(error)
    if (data.lifecycle === 'ready') return data
    if (data.lifecycle !== 'creating') {
      throw new ServicesProblemError({
        type: 'about:blank',
        title: 'Not ready',
        status: 409,
        code: data.lifecycle === 'failed' ? 'CREATION_FAILED' : 'CONFLICT',
        detail: `instance ${instanceId} is ${data.lifecycle}${data.error ? `: ${data.error.message}` : ''}`,
      })
    }
    if (Date.now() + pause > deadline) throw new Error(`instance ${instanceId} was not ready in time`)
    await new Promise((resolve) => setTimeout(resolve, pause))
  }
}

/** Status of any number of instances: batches of 1,000 sent together, answers merged in order. */
export async function statusOf(client: Client<paths>, instanceIds: readonly string[]): Promise<StatusBatch> {
  const unique = [...new Set(instanceIds)]
  const batches: string[][] = []
  for (let i = 0; i < unique.length; i += STATUS_BATCH_LIMIT)
    batches.push(unique.slice(i, i + STATUS_BATCH_LIMIT))
  const answers = await Promise.all(
    batches.map(async (batch) => {
      const { data, error } = await client.POST('/status/batch', { body: { instanceIds: batch } })
      if (error) throw new ServicesProblemError(error)
      return data
    }),
  )
  return {
    instances: answers.flatMap((answer) => answer.instances),
    notFound: answers.flatMap((answer) => answer.notFound),
  }
}

/** One server-sent event of `GET /instances/{id}/events`: a step as it changes, then the final instance. */
export type InstanceEvent =
  | { event: 'step'; data: components['schemas']['Step'] }
  | { event: 'end'; data: Instance }

/**
 * The steps of the creation or destroy in flight as they happen, ending with `end` (at once when nothing
 * is in flight). `fetchEvents` is a plain fetch with the credential (the stream is not JSON).
 */
export async function* instanceEvents(
  baseUrl: string,
  instanceId: string,
  authorization: string,
  options: { fetch?: (input: Request) => Promise<Response>; signal?: AbortSignal } = {},
): AsyncGenerator<InstanceEvent> {
  const url = `${baseUrl.replace(/\/+$/, '')}/instances/${encodeURIComponent(instanceId)}/events`
  const request = new Request(url, {
    headers: { authorization, accept: 'text/event-stream' },
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const response = await (options.fetch ?? fetch)(request)
  if (!response.ok || !response.body) {
    throw new ServicesProblemError((await response.json()) as Problem)
  }
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = parseEvent(block)
      if (event) yield event
      if (event?.event === 'end') return
    }
  }
}

function parseEvent(block: string): InstanceEvent | undefined {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
  }
  if ((event !== 'step' && event !== 'end') || data.length === 0) return undefined
  return { event, data: JSON.parse(data.join('\n')) } as InstanceEvent
}
