import { and, eq, isNotNull } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { instanceInfra } from '../db/schema.js'
import type { RuntimeClient } from '../infra/runtime/runtime-client.js'
import { secretContexts } from '../secrets/contexts.js'
import type { SecretBox } from '../secrets/secret-box.js'
import type { LifecycleLogger } from './context.js'
import { runtimeCredentialOf } from './instance-env.js'

export interface LivePushDeps {
  db: Database
  secretBox: SecretBox
  runtime: RuntimeClient
  log: LifecycleLogger
}

export type LivePush = 'delivered' | 'pending'

const pendingContext = secretContexts.pendingEnv

/**
 * Variables the running instance must receive (a tool's keys, a rotated token; `""` clears one). They
 * are merged into the instance's sealed `pending_env` first, so a push that fails, or a process that dies
 * before it, loses nothing: `deliverLivePush` and the reaper send it until the runtime accepts it.
 */
export async function queueLivePush(deps: LivePushDeps, instanceId: string, env: Record<string, string>) {
  if (Object.keys(env).length === 0) return
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ pendingEnv: instanceInfra.pendingEnv })
      .from(instanceInfra)
      .where(eq(instanceInfra.instanceId, instanceId))
      .for('update')
    if (!row) return
    const merged = { ...openPending(deps.secretBox, instanceId, row.pendingEnv), ...env }
    await tx
      .update(instanceInfra)
      .set({ pendingEnv: deps.secretBox.seal(JSON.stringify(merged), pendingContext(instanceId)) })
      .where(eq(instanceInfra.instanceId, instanceId))
  })
}

/**
 * Sends the pending variables to the instance's `POST /pool/restart-gateway`. `pending` when the instance
 * is not ready, has no URL, or does not accept them now (they stay queued). Only the ciphertext that was
 * sent is cleared: what was queued while the push was in flight is sent by the call that queued it.
 */
export async function deliverLivePush(deps: LivePushDeps, instanceId: string): Promise<LivePush> {
  const [row] = await deps.db.select().from(instanceInfra).where(eq(instanceInfra.instanceId, instanceId))
  if (!row?.pendingEnv) return 'delivered'
  if (row.lifecycle !== 'ready' || !row.url) return 'pending'
  try {
    const env = openPending(deps.secretBox, instanceId, row.pendingEnv)
    await deps.runtime.restartGateway(row.url, runtimeCredentialOf(deps.secretBox, row), env)
  } catch (err) {
    deps.log.warn({ err, instanceId }, 'live push to the instance failed; it is retried')
    return 'pending'
  }
  await deps.db
    .update(instanceInfra)
    .set({ pendingEnv: null })
    .where(and(eq(instanceInfra.instanceId, instanceId), eq(instanceInfra.pendingEnv, row.pendingEnv)))
  return 'delivered'
}

/** The reaper's job: every ready instance with variables still to deliver gets another push. */
export async function deliverPendingPushes(deps: LivePushDeps): Promise<void> {
  const rows = await deps.db
    .select({ instanceId: instanceInfra.instanceId })
    .from(instanceInfra)
    .where(and(eq(instanceInfra.lifecycle, 'ready'), isNotNull(instanceInfra.pendingEnv)))
    .limit(500)
  for (const { instanceId } of rows) await deliverLivePush(deps, instanceId)
}

function openPending(box: SecretBox, instanceId: string, sealed: string | null): Record<string, string> {
  return sealed ? (JSON.parse(box.open(sealed, pendingContext(instanceId))) as Record<string, string>) : {}
}
