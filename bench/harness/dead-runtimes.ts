import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './teardown.js'

async function listen(teardown: Teardown, server: Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host)
  await once(server, 'listening')
  teardown.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as AddressInfo).port
}

/**
 * A runtime that accepts connections and never answers, as a wedged process behind Railway's edge does.
 * One server stands for all of them: each hung instance gets its own loopback address (127.1.x.y), so
 * every one is its own origin with its own connection, as on Railway.
 */
export async function hungRuntimes(teardown: Teardown, count: number): Promise<string[]> {
  const port = await listen(
    teardown,
    createServer(() => {}),
    '0.0.0.0',
  )
  return Array.from({ length: count }, (_, i) => `http://${loopback(1, i)}:${port}`)
}

/**
 * Many live runtimes for the memory scenario, where 10,000 emulated runtimes (one server each) would run
 * the machine out of file descriptors: one server answering `{ready:true}` on every loopback address.
 */
export async function healthyRuntimes(teardown: Teardown, count: number): Promise<string[]> {
  const port = await listen(
    teardown,
    createServer((request, response) => {
      request.resume()
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}')
    }),
    '0.0.0.0',
  )
  return Array.from({ length: count }, (_, i) => `http://${loopback(2, i)}:${port}`)
}

/** 127.<net>.x.y: Linux routes all of 127/8 to the loopback interface. */
function loopback(net: number, i: number): string {
  return `127.${net}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`
}
