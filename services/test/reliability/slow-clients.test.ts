import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { build, POOL_KEY } from '../helpers/build.js'

/**
 * Slow and many clients: 1,000 connections trickling their headers (slowloris) and 20 trickling a body
 * do not stop the server answering others, and each is answered 408 and disconnected after its deadline
 * (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS) instead of holding its socket for as long as it likes.
 */
const SLOW_HEADERS = 1_000
const SLOW_BODIES = 20

interface SlowClient {
  /** The status line the server sent, if any. */
  answer: string | undefined
  /** Whether that answer was problem+json, like every other error of the contract. */
  problem: boolean
  closed: Promise<void>
}

function slowClient(port: number, opening: string, drip: string): SlowClient {
  const client: SlowClient = { answer: undefined, problem: false, closed: Promise.resolve() }
  let timer: NodeJS.Timeout | undefined
  // The drip starts once the opening is written: a byte before it would make the request invalid HTTP.
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write(opening)
    timer = setInterval(() => socket.writable && socket.write(drip), 250)
  })
  socket.on('data', (data) => {
    if (client.answer !== undefined) return
    client.answer = String(data).split('\r\n')[0]
    client.problem = /content-type: application\/problem\+json/i.test(String(data))
  })
  socket.on('error', () => {})
  client.closed = new Promise((resolve) =>
    socket.on('close', () => {
      clearInterval(timer)
      resolve()
    }),
  )
  return client
}

t.test(
  '1,000 slowloris connections and 20 slow bodies: others are served, the slow ones cut off',
  async (t) => {
    const { app } = await build(t, { env: { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as net.AddressInfo

    const slow = [
      ...Array.from({ length: SLOW_HEADERS }, () =>
        slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: services\r\n', 'X'),
      ),
      ...Array.from({ length: SLOW_BODIES }, () =>
        slowClient(
          port,
          `POST /status/batch HTTP/1.1\r\nHost: services\r\nAuthorization: Bearer ${POOL_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
          ' ',
        ),
      ),
    ]
    await sleep(300)

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status)),
    )
    t.same([...new Set(answers)], [200], 'fifty ordinary requests answered while the slow ones hang on')

    const cutOff = Promise.all(slow.map((client) => client.closed)).then(() => true)
    // Deadlines are 1 s and 2 s, checked every second: 15 s only bounds a hang, it measures nothing.
    const allClosed = await Promise.race([cutOff, sleep(15_000).then(() => false)])
    t.ok(allClosed, 'every slow connection was closed by the server')
    const lines = (clients: SlowClient[]) => [...new Set(clients.map((client) => client.answer))]
    t.same(lines(slow.slice(0, SLOW_HEADERS)), ['HTTP/1.1 408 Request Timeout'], 'slow headers: 408 first')
    t.same(lines(slow.slice(SLOW_HEADERS)), ['HTTP/1.1 408 Request Timeout'], 'slow bodies: 408 first')
    t.ok(
      slow.every((client) => client.problem),
      'as problem+json',
    )
    t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'and the server is still fine')
  },
)
