import { eq } from 'drizzle-orm'
import fc from 'fast-check'
import t from 'tap'
import { createInstancesRepository } from '../../src/db/instances-repository.js'
import { instanceInfra } from '../../src/db/schema.js'
import { routes } from '../../src/generated/routes.js'
import { encodeCursor } from '../../src/lifecycle/instance-cursor.js'
import { poolAuth } from '../helpers/build.js'
import { contractViolations } from '../helpers/contract.js'
import { startSystem } from '../helpers/system.js'
import { type FuzzRequest, type RouteShape, requestArbitrary } from './request-arbitrary.js'

/**
 * Requests per operation: a short run in `make test`, `FUZZ_RUNS=1000 npm run test:fuzz` for the long one.
 * `FUZZ_SEED` replays a failure (fast-check prints the seed and the shrunk case).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 40)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined
const BODY_LIMIT = 65_536

/** 5xx answers the contract documents for a healthy system under load: a dependency asked us to wait. */
const DOCUMENTED_5XX = new Set(['NOT_READY', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT'])

/** Destroying comes last: before it, generated requests reach the ready instance's real rows. */
const ORDER = Object.keys(routes).sort(
  (a, b) => Number(a === 'destroyInstance') - Number(b === 'destroyInstance'),
) as Array<keyof typeof routes>

t.test(
  'every operation × generated valid and mutated requests: no 5xx, every answer as the spec says',
  async (t) => {
    const system = await startSystem(t, {
      emulators: { railway: { deploy: { stepMs: 5 }, runtime: { warmupMs: 0 } } },
      env: {
        BODY_LIMIT_BYTES: String(BODY_LIMIT),
        CREATE_WAIT_MS: '0',
        CONFIGURE_WAIT_MS: '200',
        INSTANCE_RATE_LIMIT_PER_MINUTE: '100000',
      },
    })
    const created = await system.app.inject({
      method: 'POST',
      url: '/create-instance',
      headers: { ...poolAuth(), prefer: 'wait' },
      payload: { instanceId: 'agent-fuzz', tools: ['email'] },
    })
    for (let i = 0; i < 200; i++) {
      const [row] = await system.database.db
        .select()
        .from(instanceInfra)
        .where(eq(instanceInfra.instanceId, 'agent-fuzz'))
      if (row?.lifecycle === 'ready') break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    t.ok([201, 202].includes(created.statusCode), 'a ready instance for the requests to reach')
    const knownIds = {
      instanceId: ['agent-fuzz'],
      toolId: ['email', 'sms', 'crypto', 'openrouter', 'wallet'],
    }

    // A real page boundary of GET /instances, made the way the server makes its `nextCursor`.
    const firstPage = await createInstancesRepository(system.database.db).page({ limit: 1 })
    const issued = {
      cursor: firstPage.map(({ row, createdAtExact }) =>
        encodeCursor({ createdAt: createdAtExact, instanceId: row.instanceId }),
      ),
    }

    const tally = { requests: 0, valid: 0, byStatus: new Map<number, number>() }
    for (const operationId of ORDER) {
      const route = routes[operationId] as unknown as RouteShape
      const property = fc.asyncProperty(
        requestArbitrary(route, poolAuth(), knownIds, BODY_LIMIT, issued),
        async (request) => {
          const response = await system.app.inject({
            method: request.method as 'GET',
            url: request.url,
            headers: request.headers,
            ...(request.payload !== undefined ? { payload: request.payload } : {}),
          })
          tally.requests++
          if (request.valid) tally.valid++
          tally.byStatus.set(response.statusCode, (tally.byStatus.get(response.statusCode) ?? 0) + 1)
          const code = safeCode(response.body)
          const failure = judge(
            request,
            response.statusCode,
            code,
            contractViolations(request.method, request.url, response),
          )
          if (failure)
            throw new Error(
              `${operationId} (${request.mutation}) ${request.method} ${request.url.slice(0, 120)}: ${failure}`,
            )
        },
      )
      await fc.assert(property, {
        numRuns: RUNS,
        includeErrorInReport: true,
        ...(SEED !== undefined ? { seed: SEED } : {}),
      })
    }
    const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`)
    t.comment(
      `${tally.requests} requests (${tally.valid} valid) over ${ORDER.length} operations: ${statuses.join(' ')}`,
    )
    t.ok(tally.requests >= RUNS * ORDER.length, `at least ${RUNS} requests per operation`)
  },
)

/** Why a response is wrong, or undefined when it is right. */
function judge(request: FuzzRequest, status: number, code: string | undefined, violations: string[]) {
  if (status >= 500 && !(code && DOCUMENTED_5XX.has(code))) return `answered ${status} ${code}`
  if (violations.length > 0) return `not as the spec says: ${violations.join('; ')}`
  if (request.valid && [400, 413, 415].includes(status))
    return `a valid request was refused: ${status} ${code}`
  return undefined
}

function safeCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code
  } catch {
    return undefined
  }
}
