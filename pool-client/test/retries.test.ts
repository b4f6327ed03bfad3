import t from 'tap'
import { createServicesClient, instanceEvents, statusOf } from '../src/index.js'

const BASE = 'http://services.test'
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  })
const problem = (status: number, code: string) => ({ type: 'about:blank', title: code, status, code })

/** A fetch that answers from a script, one answer per call, and records what it was asked. */
function scripted(answers: Array<Response | Error | 'hang'>) {
  const calls: Array<{ method: string; path: string; body: string; auth: string | null }> = []
  const fetch = async (request: Request) => {
    calls.push({
      method: request.method,
      path: new URL(request.url).pathname,
      body: await request.text(),
      auth: request.headers.get('authorization'),
    })
    const answer = answers[Math.min(calls.length, answers.length) - 1]
    if (answer === 'hang') {
      // A real socket would keep the process alive while it waits (AbortSignal.timeout's timer does not).
      const socket = setTimeout(() => undefined, 10_000)
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener('abort', () => {
          clearTimeout(socket)
          reject(request.signal.reason)
        }),
      )
    }
    if (answer instanceof Error) throw answer
    return (answer as Response).clone()
  }
  return { fetch, calls }
}

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }

t.test('a 429 is retried after Retry-After, with the body sent again', async (t) => {
  const { fetch, calls } = scripted([
    json(429, problem(429, 'RATE_LIMITED'), { 'retry-after': '0' }),
    json(200, { instances: [], notFound: ['a'] }),
  ])
  const client = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch, retry: fast })
  const { data } = await client.POST('/status/batch', { body: { instanceIds: ['a'] } })
  t.same(data?.notFound, ['a'])
  t.equal(calls.length, 2)
  t.same(
    calls.map((c) => c.body),
    [calls[0]?.body, calls[0]?.body],
    'the same body both times',
  )
  t.equal(calls[1]?.auth, 'Bearer pk')
})

t.test('5xx and network failures: retried for idempotent operations only', async (t) => {
  const unavailable = json(503, problem(503, 'PROVIDER_UNAVAILABLE'))
  const get = scripted([unavailable, unavailable, unavailable])
  const client = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch: get.fetch, retry: fast })
  const { error } = await client.GET('/registry')
  t.equal(error?.code, 'PROVIDER_UNAVAILABLE', 'the last answer, typed')
  t.equal(get.calls.length, 3, 'every attempt used')

  const redeploy = scripted([unavailable, json(202, {})])
  const once = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch: redeploy.fetch, retry: fast })
  await once.POST('/redeploy/{instanceId}', { params: { path: { instanceId: 'a' } }, body: {} })
  t.equal(redeploy.calls.length, 1, 'a redeploy is never repeated blindly')

  const reset = scripted([new TypeError('fetch failed'), json(200, { tools: [] })])
  const again = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch: reset.fetch, retry: fast })
  t.equal((await again.GET('/registry')).response.status, 200)
  t.equal(reset.calls.length, 2)

  const rotate = scripted([new TypeError('fetch failed')])
  const noRetry = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch: rotate.fetch, retry: fast })
  await t.rejects(
    noRetry.POST('/instances/{instanceId}/rotate-token', { params: { path: { instanceId: 'a' } } }),
  )
  t.equal(rotate.calls.length, 1)
})

t.test('retry: false sends once; each attempt has its timeout', async (t) => {
  const busy = scripted([json(429, problem(429, 'RATE_LIMITED'), { 'retry-after': '0' })])
  const off = createServicesClient(
    { baseUrl: BASE, instanceToken: 'ist_x' },
    { fetch: busy.fetch, retry: false },
  )
  t.equal((await off.GET('/registry')).response.status, 429)
  t.equal(busy.calls.length, 1)
  t.equal(busy.calls[0]?.auth, 'Bearer ist_x', 'the instance token flavour')

  const hang = scripted(['hang', json(200, { tools: [] })])
  const timed = createServicesClient(
    { baseUrl: BASE, apiKey: 'pk' },
    { fetch: hang.fetch, retry: fast, timeoutMs: 50 },
  )
  t.equal((await timed.GET('/registry')).response.status, 200, 'the hung attempt was cut and retried')
  t.equal(hang.calls.length, 2)
})

t.test('statusOf splits ids into batches of 1,000 and merges the answers', async (t) => {
  const seen: number[] = []
  const fetch = async (request: Request) => {
    const { instanceIds } = (await request.json()) as { instanceIds: string[] }
    seen.push(instanceIds.length)
    return json(200, { instances: [], notFound: instanceIds })
  }
  const client = createServicesClient({ baseUrl: BASE, apiKey: 'pk' }, { fetch })
  const ids = Array.from({ length: 2_500 }, (_, i) => `agent-${i}`)
  const batch = await statusOf(client, [...ids, 'agent-0'])
  t.same(seen, [1_000, 1_000, 500])
  t.same(batch.notFound, ids, 'every id once, in order')
})

t.test('instanceEvents yields steps, then the end, from a server-sent event stream', async (t) => {
  const step = {
    operation: 'create',
    name: 'project',
    state: 'done',
    attempts: 1,
    startedAt: null,
    finishedAt: null,
    error: null,
  }
  const text = `event: step\ndata: ${JSON.stringify(step)}\n\n: comment\n\nevent: end\ndata: {"instanceId":"a"}\n\nevent: step\ndata: {}\n\n`
  const bytes = new TextEncoder().encode(text)
  const fetch = async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          // Split mid-event, as a network would.
          controller.enqueue(bytes.slice(0, 20))
          controller.enqueue(bytes.slice(20))
          controller.close()
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  const events = []
  for await (const event of instanceEvents(BASE, 'a', 'Bearer pk', { fetch })) events.push(event)
  t.same(
    events,
    [
      { event: 'step', data: step },
      { event: 'end', data: { instanceId: 'a' } },
    ],
    'stops at end',
  )
})
