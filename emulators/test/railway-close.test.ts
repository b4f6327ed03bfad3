import { request } from 'node:http'
import t from 'tap'
import { startRailwayEmulator } from '../src/railway/index.js'
import { connectionError, DOCS, IMAGE } from './railway-client.js'

// node:http without an agent (Connection: close), not fetch: undici keeps its own timers for pooled
// sockets, which would blur the count of the emulator's timers.
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response JSON
function post(url: string, token: string, query: string, variables: object): Promise<{ data: any }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query, variables })
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve(JSON.parse(text)))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
}

t.test('close() stops deployments and runtimes and leaves no timers behind', async (t) => {
  const before = timers()
  const railway = await startRailwayEmulator({ deploy: { stepMs: 60_000 } })
  t.teardown(() => railway.close())
  const { data: p } = await post(railway.url, railway.token, DOCS.projectCreate, {
    input: { name: 'convos-agent-close', workspaceId: railway.workspaceId },
  })
  const environmentId = p.projectCreate.environments.edges[0].node.id
  const { data: s } = await post(railway.url, railway.token, DOCS.serviceCreate, {
    input: { projectId: p.projectCreate.id, environmentId, source: { image: IMAGE } },
  })
  const { data: d } = await post(railway.url, railway.token, DOCS.volumeAndDomain, {
    volume: {
      projectId: p.projectCreate.id,
      serviceId: s.serviceCreate.id,
      environmentId,
      mountPath: '/data',
    },
    domain: { serviceId: s.serviceCreate.id, environmentId },
  })
  t.ok(timers() > before, 'a deployment step is pending')
  await railway.close()
  t.ok(timers() <= before, `no timer left (${timers()} now, ${before} before)`)
  t.equal(
    await connectionError(`http://${d.serviceDomainCreate.domain}`),
    'ECONNREFUSED',
    'the runtime is closed too',
  )
})
