import { and, eq, ne, sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import { type InstanceInfra, type InstanceService, instanceServices, type ToolId } from '../db/schema.js'
import type { ProvisionRequest, ToolResource } from '../generated/schemas.js'
import type { Principal } from '../http/auth.js'
import { ProblemError } from '../http/problem.js'
import { ProviderError } from '../infra/http/provider-error.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { catalogEntry, registryView } from '../plugins/tool-catalog.js'
import type { ProvisionedResource } from '../plugins/tool-plugin.js'
import { deliverLivePush, type LivePushDeps, queueLivePush } from './live-push.js'
import { readyInstance, serviceTargetOf } from './running-instance.js'
import { singleFlight } from './single-flight.js'
import {
  envOf,
  idempotencyKeyFor,
  pluginFor,
  recordResource,
  type ToolResourceDeps,
} from './tool-resources.js'
import { checkUserConfig } from './user-config.js'

export interface ProvisionDeps extends ToolResourceDeps, LivePushDeps {
  railway: RailwayClient
  config: Pick<Config, 'tools' | 'openrouter' | 'agentmail' | 'telnyx' | 'bankr'>
}

export interface ProvisionInput {
  instanceId: string
  toolId: string
  principal: Principal
  body: ProvisionRequest
}

export interface ProvisionOutcome {
  created: boolean
  resource: ToolResource
}

/**
 * A body the schema accepts but this tool cannot take (a mode it lacks, `options` it has no use for):
 * 422, not 400, because the rule depends on the path's `toolId`, which no body schema can express.
 */
const badField = (pointer: string, message: string) =>
  new ProblemError(422, 'UNPROCESSABLE', `body${pointer} ${message}`, {
    errors: [{ in: 'body', pointer, message }],
  })

/**
 * `POST /provision/{instanceId}/{toolId}`. One live resource per tool and instance: a repeat returns it
 * (with changed options applied where the provider allows), concurrent requests in this process share
 * one attempt, and the row with its idempotency key is written before the provider call, so a crash
 * mid-call is adopted by the next attempt instead of making a second resource.
 */
export type Provisioner = ReturnType<typeof createProvisioner>

export function createProvisioner(deps: ProvisionDeps) {
  // Concurrent requests for one tool of one instance share one attempt.
  const attempt = singleFlight<ProvisionOutcome>()

  return async function provision(input: ProvisionInput): Promise<ProvisionOutcome> {
    const toolId = checkRequest(deps, input)
    const outcome = await attempt(`${input.instanceId}:${toolId}`, () => provisionOnce(deps, input, toolId))
    // Only the instance itself gets the variables back, to use them at once; the pool never sees secrets.
    if (input.principal.kind !== 'instance') return outcome
    const row = await liveRow(deps, input.instanceId, toolId)
    return { ...outcome, resource: { ...outcome.resource, env: row ? envOf(deps.secretBox, row) : {} } }
  }
}

/** What can be refused before touching the database: unknown tool, policy, mode and its inputs. */
function checkRequest(deps: ProvisionDeps, { toolId, principal, body }: ProvisionInput): ToolId {
  const entry = catalogEntry(toolId)
  if (!entry) throw new ProblemError(404, 'NOT_FOUND', `there is no tool ${toolId}; GET /registry lists them`)
  if (principal.kind === 'instance' && !deps.config.tools.selfProvisionable.includes(entry.toolId)) {
    throw new ProblemError(
      403,
      'FORBIDDEN',
      `an instance may not provision ${entry.toolId} for itself (SELF_PROVISION_TOOLS); ask the pool`,
    )
  }
  const mode = body.mode ?? 'pool'
  if (!entry.modes.includes(mode)) {
    throw badField('/mode', `must be one of ${entry.modes.join(', ')} for the ${entry.toolId} tool`)
  }
  if (mode === 'user' && !body.userConfig) throw badField('/userConfig', 'is required with mode user')
  if (mode === 'pool' && body.userConfig) throw badField('/userConfig', 'is only accepted with mode user')
  if (body.options && (mode !== 'pool' || entry.toolId !== 'openrouter')) {
    throw badField('/options', 'applies only to the openrouter tool in pool mode')
  }
  if (mode === 'user') checkUserConfig(entry.userConfigSchema, body.userConfig)
  if (mode === 'pool' && !deps.plugins[entry.toolId]) {
    const missing = registryView(deps.config as Config).find((tool) => tool.toolId === entry.toolId)
    throw new ProblemError(
      503,
      'TOOL_NOT_CONFIGURED',
      `the ${entry.toolId} tool is not configured on this server (missing ${missing?.missingSettings.join(', ')})`,
    )
  }
  return entry.toolId
}

async function provisionOnce(
  deps: ProvisionDeps,
  input: ProvisionInput,
  toolId: ToolId,
): Promise<ProvisionOutcome> {
  const instance = await readyInstance(deps.db, input.instanceId, 'have tools provisioned')
  const mode = input.body.mode ?? 'pool'
  const live = await liveRow(deps, input.instanceId, toolId)
  let row: InstanceService
  let created = false
  let envChanged = false
  if (!live) {
    row = await makeResource(deps, instance, toolId, input.body)
    created = true
  } else if (live.mode !== mode) {
    throw new ProblemError(
      409,
      'CONFLICT',
      `${toolId} is already provisioned in ${live.mode} mode (resource ${live.resourceId}); destroy it first`,
    )
  } else if (live.status === 'provisioning') {
    // An earlier attempt stopped mid-call: the same idempotency key adopts what it made.
    row = await makeResource(deps, instance, toolId, input.body, live)
    created = true
  } else if (live.status !== 'active') {
    throw new ProblemError(409, 'CONFLICT', `${toolId} resource ${live.resourceId} is being released`)
  } else {
    ;({ row, envChanged } = await changeResource(deps, live, input.body))
  }

  // Every later deploy has the variables; the running instance gets them now, or the reaper retries.
  const env = envOf(deps.secretBox, row)
  if (created || envChanged) {
    await deps.railway.upsertVariables(serviceTargetOf(instance), env, { skipDeploys: true })
    await queueLivePush(deps, instance.instanceId, env)
  }
  const livePush = await deliverLivePush(deps, instance.instanceId)
  return {
    created,
    resource: {
      toolId,
      resourceId: row.resourceId as string,
      mode: row.mode,
      status: row.status,
      config: row.config as ToolResource['config'],
      livePush,
    },
  }
}

async function liveRow(deps: ToolResourceDeps, instanceId: string, toolId: ToolId) {
  const [row] = await deps.db
    .select()
    .from(instanceServices)
    .where(
      and(
        eq(instanceServices.instanceId, instanceId),
        eq(instanceServices.toolId, toolId),
        ne(instanceServices.status, 'destroyed'),
      ),
    )
  return row
}

/**
 * A new resource (or the resumption of `pending`, whose key the provider may already know). A tool
 * destroyed earlier left its row as history with the plain key, so each later resource gets a numbered
 * one: the provider must not hand back the released resource.
 */
async function makeResource(
  deps: ProvisionDeps,
  instance: InstanceInfra,
  toolId: ToolId,
  body: ProvisionRequest,
  pending?: InstanceService,
): Promise<InstanceService> {
  const mode = body.mode ?? 'pool'
  const idempotencyKey =
    pending?.idempotencyKey ?? (await nextIdempotencyKey(deps, instance.instanceId, toolId))
  if (!pending) {
    const inserted = await deps.db
      .insert(instanceServices)
      .values({ instanceId: instance.instanceId, toolId, mode, status: 'provisioning', idempotencyKey })
      .onConflictDoNothing()
      .returning({ id: instanceServices.id })
    // Another replica's request won the race for the one live row: it provisions, this one reports it.
    if (inserted.length === 0) {
      throw new ProblemError(
        409,
        'CONFLICT',
        `${toolId} is being provisioned by another request; repeat this one`,
      )
    }
  }
  let resource: ProvisionedResource
  try {
    resource =
      mode === 'pool'
        ? await pluginFor(deps.plugins, toolId).create({
            instanceId: instance.instanceId,
            idempotencyKey,
            ...(body.options ? { options: body.options } : {}),
          })
        : await useUserConfig(deps, instance.instanceId, toolId, body.userConfig as Record<string, unknown>)
  } catch (error) {
    // A user resource made nothing at a provider: forget the row so a corrected request starts afresh.
    // A pool row stays `provisioning`: the provider may have made it, and the next attempt adopts it.
    if (mode === 'user')
      await deps.db.delete(instanceServices).where(eq(instanceServices.idempotencyKey, idempotencyKey))
    throw error
  }
  const row = await recordResource(deps, idempotencyKey, resource)
  if (row) return row
  // The instance's destroy released the row while the provider was making the resource: release it too.
  if (mode === 'pool') await pluginFor(deps.plugins, toolId).destroy(resource)
  throw new ProblemError(
    409,
    'CONFLICT',
    `instance ${instance.instanceId} was destroyed during the provision`,
  )
}

/**
 * Applies changed options (OpenRouter limits) or changed user credentials to the live resource, and says
 * whether the instance's variables changed with it (new user credentials must reach the agent).
 */
async function changeResource(
  deps: ProvisionDeps,
  live: InstanceService,
  body: ProvisionRequest,
): Promise<{ row: InstanceService; envChanged: boolean }> {
  const plugin = pluginFor(deps.plugins, live.toolId)
  if (live.mode === 'pool' && body.options && plugin.update) {
    const resourceRef = {
      resourceId: live.resourceId as string,
      config: live.config as ToolResource['config'],
    }
    const updated = await plugin.update(resourceRef, body.options)
    // The key itself is unchanged (its plaintext is never readable again): only its config is.
    const [row] = await deps.db
      .update(instanceServices)
      .set({ config: updated.config })
      .where(eq(instanceServices.id, live.id))
      .returning()
    return { row: row ?? live, envChanged: false }
  }
  if (live.mode === 'user' && body.userConfig) {
    const resource = await useUserConfig(deps, live.instanceId, live.toolId, body.userConfig)
    const before = envOf(deps.secretBox, live)
    if (resource.resourceId === live.resourceId && sameEnv(before, resource.env)) {
      return { row: live, envChanged: false }
    }
    // The caller's own resource: nothing to release at the provider, only the row to point elsewhere.
    const row = await recordResource(deps, live.idempotencyKey, resource)
    return { row: row ?? live, envChanged: true }
  }
  return { row: live, envChanged: false }
}

const sameEnv = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([key, value]) => b[key] === value)

async function useUserConfig(
  deps: ProvisionDeps,
  instanceId: string,
  toolId: ToolId,
  userConfig: Record<string, unknown>,
): Promise<ProvisionedResource> {
  const plugin = pluginFor(deps.plugins, toolId)
  if (!plugin.useUserConfig) throw badField('/mode', `the ${toolId} tool has no user mode`)
  try {
    return await plugin.useUserConfig(instanceId, userConfig)
  } catch (error) {
    if (
      error instanceof ProviderError &&
      (error.code === 'PROVIDER_UNAUTHORIZED' || error.code === 'PROVIDER_REJECTED')
    ) {
      throw new ProblemError(
        422,
        'UNPROCESSABLE',
        `${toolId} refused the supplied credentials (${error.code})`,
        {
          cause: error,
        },
      )
    }
    throw error
  }
}

async function nextIdempotencyKey(deps: ToolResourceDeps, instanceId: string, toolId: ToolId) {
  const [{ count } = { count: 0 }] = await deps.db
    .select({ count: sql<number>`count(*)::int` })
    .from(instanceServices)
    .where(and(eq(instanceServices.instanceId, instanceId), eq(instanceServices.toolId, toolId)))
  const base = idempotencyKeyFor(instanceId, toolId)
  return count === 0 ? base : `${base}:${count + 1}`
}
