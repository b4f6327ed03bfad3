import { and, eq, sql } from 'drizzle-orm'
import { generateToken, hashToken } from '../auth/tokens.js'
import { instanceInfra } from '../db/schema.js'
import type { RotateTokenResult } from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { deliverLivePush, type LivePushDeps, queueLivePush } from './live-push.js'
import { readyInstance, serviceTargetOf } from './running-instance.js'

export interface RotateTokenDeps extends LivePushDeps {
  railway: RailwayClient
}

/**
 * `POST /instances/{instanceId}/rotate-token`. The new hash and the sealed new token (queued for the live
 * push) are committed together: the old token stops working at once, and the new one cannot be lost,
 * since only its hash is kept otherwise and the push is retried from the queue until the runtime has it.
 * Railway gets it inside the same transaction, under a per-instance advisory lock: rotations of one
 * instance (on any replica) run one at a time, so Railway always ends with the token whose hash is
 * stored, and a refused Railway write rolls the rotation back (the old token stays valid). The token
 * itself is never returned.
 */
export async function rotateInstanceToken(
  deps: RotateTokenDeps,
  instanceId: string,
): Promise<RotateTokenResult> {
  const row = await readyInstance(deps.db, instanceId, 'have its token rotated')
  const target = serviceTargetOf(row)
  const token = generateToken('ist_')
  const env = { INSTANCE_SERVICES_TOKEN: token }
  const rotatedAt = new Date().toISOString()

  const rotated = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`rotate-token:${instanceId}`}))`)
    const updated = await tx
      .update(instanceInfra)
      .set({ tokenHash: hashToken(token) })
      .where(and(eq(instanceInfra.instanceId, instanceId), eq(instanceInfra.lifecycle, 'ready')))
      .returning({ instanceId: instanceInfra.instanceId })
    if (updated.length === 0) return false
    await queueLivePush({ ...deps, db: tx }, instanceId, env)
    await deps.railway.upsertVariables(target, env, { skipDeploys: true })
    return true
  })
  if (!rotated) {
    throw new ProblemError(409, 'CONFLICT', `instance ${instanceId} stopped being ready during the rotation`)
  }

  const livePush = await deliverLivePush(deps, instanceId)
  return { instanceId, rotatedAt, livePush }
}
