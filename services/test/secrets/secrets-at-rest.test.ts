import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { instanceInfra } from '../../src/db/schema.js'
import { poolAuth } from '../helpers/build.js'
import { request } from '../helpers/contract.js'
import type { TestPostgresHandle } from '../helpers/database.js'
import { SECRET_VARIABLES } from '../helpers/secret-variables.js'
import { startSystem } from '../helpers/system.js'

const run = promisify(execFile)

/** The variables of an instance that are secrets: every one must be sealed or hashed at rest. */

t.test(
  'every secret issued is absent in plaintext from a full database dump and from the logs',
  async (t) => {
    const lines: string[] = []
    const system = await startSystem(t, {
      emulators: { railway: { deploy: { stepMs: 10 }, runtime: { warmupMs: 0 } } },
      env: { LOG_LEVEL: 'trace' },
      logStream: { write: (line) => lines.push(line) },
    })
    const created = await request(t, system.app, {
      method: 'POST',
      url: '/create-instance',
      headers: poolAuth(),
      payload: { instanceId: 'agent-secrets', tools: ['email', 'sms', 'crypto'] },
    })
    t.equal(created.statusCode, 201, created.body)
    const [row] = await system.database.db
      .select()
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, 'agent-secrets'))
    const serviceId = row?.railwayServiceId as string
    const own = {
      authorization: `Bearer ${system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN}`,
    }

    // A user-mode resource (the caller's own credentials) and a self-provisioned one, live push included.
    await request(t, system.app, {
      method: 'DELETE',
      url: `/destroy/agent-secrets/sms/${await resourceOf('sms')}`,
      headers: poolAuth(),
    })
    const userSms = await request(t, system.app, {
      method: 'POST',
      url: '/provision/agent-secrets/sms',
      headers: poolAuth(),
      payload: {
        mode: 'user',
        userConfig: { apiKey: system.emulators.telnyx.apiKey, phoneNumber: await boughtNumber() },
      },
    })
    t.equal(userSms.statusCode, 201, userSms.body)
    await request(t, system.app, { method: 'GET', url: '/instances/agent-secrets', headers: own })
    // A rotation: both the old token and the new one (pushed live, queued sealed) must stay secret.
    const oldToken = system.emulators.railway.runtimeOf(serviceId)?.env.INSTANCE_SERVICES_TOKEN as string
    const rotated = await request(t, system.app, {
      method: 'POST',
      url: '/instances/agent-secrets/rotate-token',
      headers: poolAuth(),
    })
    t.equal(rotated.statusCode, 200, rotated.body)

    const env = system.emulators.railway.runtimeOf(serviceId)?.env ?? {}
    const secrets = new Map<string, string>()
    for (const name of SECRET_VARIABLES) {
      t.ok(env[name], `${name} was issued to the instance`)
      if (env[name]) secrets.set(name, env[name])
    }
    secrets.set('INSTANCE_SERVICES_TOKEN (before rotation)', oldToken)
    t.not(oldToken, env.INSTANCE_SERVICES_TOKEN, 'the instance holds the rotated token')
    for (const [name, value] of Object.entries(system.emulators.env)) {
      if (/TOKEN|KEY/.test(name) && value.length >= 16) secrets.set(name, value)
    }

    const dump = (await run('pg_dump', ['--data-only', (system.database as TestPostgresHandle).url])).stdout
    t.ok(dump.includes('agent-secrets'), 'the dump holds the instance')
    const logs = lines.join('\n')
    t.ok(logs.length > 0, 'logs were captured')
    for (const [name, value] of secrets) {
      t.notOk(dump.includes(value), `${name}: no plaintext in the database dump`)
      t.notOk(logs.includes(value), `${name}: no plaintext in the logs`)
    }
    t.comment(`${secrets.size} secrets searched in a ${dump.length}-byte dump and ${lines.length} log lines`)

    async function resourceOf(toolId: string) {
      const view = await request(t, system.app, {
        method: 'GET',
        url: '/instances/agent-secrets',
        headers: poolAuth(),
      })
      const resources = view.json().tools as Array<{ toolId: string; resourceId: string }>
      return encodeURIComponent(resources.find((r) => r.toolId === toolId)?.resourceId ?? '')
    }

    /** A number the "user" owns at Telnyx: any number the emulator knows under that key. */
    async function boughtNumber() {
      const numbers = system.emulators.telnyx.ledger.all<{ phone_number: string }>('number')
      return numbers[0]?.phone_number ?? ''
    }
  },
)
