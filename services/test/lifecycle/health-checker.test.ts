import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createHealthChecker, type HealthChecker } from '../../src/lifecycle/health-checker.js'
import { refusedUrl } from './status-fixtures.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** A real HTTP server on a free loopback port, closed (connections and all) when the test ends. */
async function serve(t: Test, handler: Handler) {
  const seen = {
    requests: 0,
    connections: 0,
    inFlight: 0,
    peak: 0,
    paths: [] as string[],
    auth: [] as string[],
  }
  const server: Server = createServer((request, response) => {
    seen.requests += 1
    seen.paths.push(request.url ?? '')
    seen.auth.push(request.headers.authorization ?? '')
    seen.inFlight += 1
    seen.peak = Math.max(seen.peak, seen.inFlight)
    response.on('close', () => {
      seen.inFlight -= 1
    })
    handler(request, response)
  })
  server.on('connection', () => {
    seen.connections += 1
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const json = (status: number, body: unknown) => (_: IncomingMessage, response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

function checker(t: Test, options: { timeoutMs?: number; concurrency?: number } = {}): HealthChecker {
  const health = createHealthChecker({
    timeoutMs: options.timeoutMs ?? 1_000,
    concurrency: options.concurrency ?? 8,
  })
  t.teardown(() => health.close())
  return health
}

t.test('a runtime that answers: ready or not, with its latency', async (t) => {
  const ready = await serve(t, json(200, { ready: true }))
  const warming = await serve(t, json(200, { ready: false }))
  const health = checker(t)

  const up = await health.check(ready.url)
  t.match(up, { ready: true, answered: true })
  t.ok(Number.isInteger(up.latencyMs) && (up.latencyMs as number) >= 0, 'latency in whole ms')
  t.ok(up.checkedAt instanceof Date)
  t.same(ready.seen.paths, ['/pool/health'], 'GET /pool/health at the instance URL')

  t.match(await health.check(`${warming.url}/`), { ready: false, answered: true }, 'trailing slash is fine')
  t.same(warming.seen.paths, ['/pool/health'])
})

t.test('the credential goes as a Bearer token; none without one', async (t) => {
  const runtime = await serve(t, json(200, { ready: true }))
  const health = checker(t)
  await health.check(runtime.url, 'rt_secret')
  await health.check(runtime.url)
  t.same(runtime.seen.auth, ['Bearer rt_secret', ''])
})

t.test('anything but the runtime answering 200 JSON is unanswered, and never throws', async (t) => {
  const unauthorized = await serve(t, json(401, { error: 'Unauthorized' }))
  const edge = await serve(t, json(502, { status: 'error', message: 'Application failed to respond' }))
  const notJson = await serve(t, (_, response) => response.end('<html>hello</html>'))
  const scalar = await serve(t, json(200, true))
  const health = checker(t)
  const urls = [unauthorized.url, edge.url, notJson.url, scalar.url, await refusedUrl(), 'not a url', '']
  for (const url of urls) {
    const result = await health.check(url)
    t.match(result, { ready: false, answered: false, latencyMs: null }, `unanswered: ${url || '(empty)'}`)
  }
})

t.test('a hung instance costs at most the timeout', async (t) => {
  const hung = await serve(t, () => {})
  const health = checker(t, { timeoutMs: 300 })
  const started = performance.now()
  const result = await health.check(hung.url)
  const elapsed = performance.now() - started
  t.match(result, { ready: false, answered: false, latencyMs: null })
  t.equal(hung.seen.requests, 1, 'the request reached the server')
  t.ok(elapsed >= 250, `cut by the timeout, not earlier (${Math.round(elapsed)} ms)`)
  t.ok(elapsed < 1_500, 'and not much later')
})

t.test('a hung body is cut by the timeout too', async (t) => {
  const dribble = await serve(t, (_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.write('{"ready":')
  })
  const health = checker(t, { timeoutMs: 300 })
  t.match(await health.check(dribble.url), { answered: false, ready: false })
})

t.test('at most `concurrency` pings in flight; waiting for a slot is not timed out', async (t) => {
  const load = { inFlight: 0, peak: 0 }
  const slow: Handler = (request, response) => {
    load.inFlight += 1
    load.peak = Math.max(load.peak, load.inFlight)
    setTimeout(() => {
      load.inFlight -= 1
      json(200, { ready: true })(request, response)
    }, 100)
  }
  const runtimes = await Promise.all(Array.from({ length: 15 }, () => serve(t, slow)))
  // Fifteen pings of 100 ms through 3 slots take 500 ms, longer than the 400 ms timeout of each ping.
  const health = checker(t, { concurrency: 3, timeoutMs: 400 })
  const results = await Promise.all(runtimes.map((runtime) => health.check(runtime.url)))
  t.ok(
    runtimes.every((runtime) => runtime.seen.requests === 1),
    'each instance pinged once',
  )
  t.equal(load.peak, 3, 'three at once, never more')
  t.ok(
    results.every((r) => r.answered && r.ready),
    'every ping answered: time spent waiting for a slot does not count',
  )
})

t.test('simultaneous pings of one URL share one request; later ones ask again', async (t) => {
  const runtime = await serve(t, (request, response) => {
    setTimeout(() => json(200, { ready: true })(request, response), 50)
  })
  const health = checker(t)
  const results = await Promise.all(Array.from({ length: 5 }, () => health.check(runtime.url)))
  t.equal(runtime.seen.requests, 1, 'one request for five callers')
  t.ok(results.every((r) => r.ready))
  await health.check(runtime.url)
  t.equal(runtime.seen.requests, 2, 'a ping after that one is fresh')
  t.equal(runtime.seen.connections, 1, 'over the same kept-alive connection')
})

t.test('close: pings in flight end unanswered at once, later ones too', async (t) => {
  const hung = await serve(t, () => {})
  const health = createHealthChecker({ timeoutMs: 30_000, concurrency: 2 })
  const pending = health.check(hung.url)
  await new Promise((resolve) => setTimeout(resolve, 50))
  await health.close()
  t.match(await pending, { answered: false })
  t.match(await health.check(hung.url), { answered: false })
})
