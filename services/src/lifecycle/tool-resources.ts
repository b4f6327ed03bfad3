import { and, eq, inArray, ne } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { type InstanceService, instanceServices, type ToolId } from '../db/schema.js'
import { ProblemError } from '../http/problem.js'
import type { ToolPlugins } from '../plugins/index.js'
import type { ProvisionedResource, ToolPlugin } from '../plugins/tool-plugin.js'
import { secretContexts } from '../secrets/contexts.js'
import type { SecretBox } from '../secrets/secret-box.js'

export interface ToolResourceDeps {
  db: Database
  plugins: ToolPlugins
  secretBox: SecretBox
}

/** Deterministic per (instance, tool): the provider-side idempotency key / name of the resource. */
export const idempotencyKeyFor = (instanceId: string, toolId: ToolId) => `${instanceId}:${toolId}`

const secretContext = secretContexts.toolSecret

export function pluginFor(plugins: ToolPlugins, toolId: ToolId): ToolPlugin {
  const plugin = plugins[toolId]
  if (!plugin) {
    throw new ProblemError(503, 'TOOL_NOT_CONFIGURED', `the ${toolId} tool is not configured on this server`)
  }
  return plugin
}

/** The live (not destroyed) resource rows of an instance. */
export async function liveToolRows(db: Database, instanceId: string): Promise<InstanceService[]> {
  return db
    .select()
    .from(instanceServices)
    .where(and(eq(instanceServices.instanceId, instanceId), ne(instanceServices.status, 'destroyed')))
}

/**
 * Provisions one pool-mode tool durably: the row (with its idempotency key) is written before the
 * provider call, the resource id, non-secret config and sealed env right after it. Run again after a
 * crash, the plugin's `create` with the same key returns the resource the first attempt made.
 */
export async function provisionPoolTool(
  deps: ToolResourceDeps,
  instanceId: string,
  toolId: ToolId,
): Promise<InstanceService> {
  const plugin = pluginFor(deps.plugins, toolId)
  const idempotencyKey = idempotencyKeyFor(instanceId, toolId)
  await deps.db
    .insert(instanceServices)
    .values({ instanceId, toolId, mode: 'pool', status: 'provisioning', idempotencyKey })
    .onConflictDoNothing()
  const resource = await plugin.create({ instanceId, idempotencyKey })
  const row = await recordResource(deps, idempotencyKey, resource)
  if (!row) throw new Error(`tool resource ${idempotencyKey} was released while it was provisioned`)
  return row
}

/**
 * Records what the provider made: resource id, non-secret config and the sealed env, all at once.
 * Undefined when the row is no longer being provisioned (a destroy released it meanwhile): the caller
 * then owns a resource nobody tracks and must release it.
 */
export async function recordResource(
  deps: ToolResourceDeps,
  idempotencyKey: string,
  resource: ProvisionedResource,
): Promise<InstanceService | undefined> {
  const [row] = await deps.db
    .update(instanceServices)
    .set({
      status: 'active',
      resourceId: resource.resourceId,
      config: resource.config,
      secret: deps.secretBox.seal(JSON.stringify(resource.env), secretContext(idempotencyKey)),
      envKeys: Object.keys(resource.env).sort(),
      errorCode: null,
      errorMessage: null,
    })
    .where(
      and(
        eq(instanceServices.idempotencyKey, idempotencyKey),
        inArray(instanceServices.status, ['provisioning', 'active']),
      ),
    )
    .returning()
  return row
}

/** The variables a resource gives its instance (decrypted). */
export function envOf(secretBox: SecretBox, row: InstanceService): Record<string, string> {
  if (!row.secret) return {}
  return JSON.parse(secretBox.open(row.secret, secretContext(row.idempotencyKey))) as Record<string, string>
}

/**
 * Releases one resource at its provider and forgets it only once the provider confirms it is gone. A row
 * a crash left `provisioning` (no resource id yet) is looked up by its idempotency key first: the
 * provider may have made it. A `user` resource belongs to the caller's own account: services only
 * forgets it (and its sealed credentials), never deletes it.
 */
export async function releaseToolRow(deps: ToolResourceDeps, row: InstanceService): Promise<void> {
  await deps.db.update(instanceServices).set({ status: 'releasing' }).where(eq(instanceServices.id, row.id))
  if (row.mode === 'pool') await releaseAtProvider(deps, row)
  await deps.db
    .update(instanceServices)
    .set({ status: 'destroyed', destroyedAt: new Date(), secret: null, errorCode: null, errorMessage: null })
    .where(eq(instanceServices.id, row.id))
}

async function releaseAtProvider(deps: ToolResourceDeps, row: InstanceService) {
  const plugin = pluginFor(deps.plugins, row.toolId)
  let resource = row.resourceId ? { resourceId: row.resourceId, config: row.config } : undefined
  if (!resource) {
    const found = await plugin.find({ instanceId: row.instanceId, idempotencyKey: row.idempotencyKey })
    if (found) resource = { resourceId: found.resourceId, config: found.config }
  }
  if (resource) await plugin.destroy(resource as Parameters<ToolPlugin['destroy']>[0])
}

/** Keeps a failed release visible on its row (the reaper retries it). */
export async function recordReleaseFailure(
  db: Database,
  row: InstanceService,
  error: { code: string; message: string },
): Promise<void> {
  await db
    .update(instanceServices)
    .set({ status: 'releasing', errorCode: error.code, errorMessage: error.message })
    .where(eq(instanceServices.id, row.id))
}
