import { eq, isNotNull, or } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { instanceInfra, instanceServices } from '../db/schema.js'
import { secretContexts } from './contexts.js'
import type { SecretBox } from './secret-box.js'

export interface ResealReport {
  /** Sealed values found, and how many of those were under an older key and sealed again. */
  checked: number
  resealed: number
}

/**
 * Seals again, under the current (first) key of `SERVICES_ENCRYPTION_KEY`, every value sealed under an
 * older one, so the old key can then be removed. Each value is rewritten only if it has not changed since
 * it was read (a concurrent write already uses the current key). Safe to run while the server serves.
 */
export async function resealAll(db: Database, box: SecretBox): Promise<ResealReport> {
  const report: ResealReport = { checked: 0, resealed: 0 }
  const again = (sealed: string | null, context: string): string | undefined => {
    if (!sealed) return undefined
    report.checked++
    if (!box.needsReseal(sealed)) return undefined
    report.resealed++
    return box.seal(box.open(sealed, context), context)
  }

  const instances = await db
    .select({
      instanceId: instanceInfra.instanceId,
      runtimeCredential: instanceInfra.runtimeCredential,
      pendingEnv: instanceInfra.pendingEnv,
    })
    .from(instanceInfra)
    .where(or(isNotNull(instanceInfra.runtimeCredential), isNotNull(instanceInfra.pendingEnv)))
  for (const row of instances) {
    const runtimeCredential = again(row.runtimeCredential, secretContexts.runtimeCredential(row.instanceId))
    if (runtimeCredential) {
      await db
        .update(instanceInfra)
        .set({ runtimeCredential })
        .where(eq(instanceInfra.runtimeCredential, row.runtimeCredential as string))
    }
    const pendingEnv = again(row.pendingEnv, secretContexts.pendingEnv(row.instanceId))
    if (pendingEnv) {
      await db
        .update(instanceInfra)
        .set({ pendingEnv })
        .where(eq(instanceInfra.pendingEnv, row.pendingEnv as string))
    }
  }

  const tools = await db
    .select({ idempotencyKey: instanceServices.idempotencyKey, secret: instanceServices.secret })
    .from(instanceServices)
    .where(isNotNull(instanceServices.secret))
  for (const row of tools) {
    const secret = again(row.secret, secretContexts.toolSecret(row.idempotencyKey))
    if (secret) {
      await db
        .update(instanceServices)
        .set({ secret })
        .where(eq(instanceServices.secret, row.secret as string))
    }
  }
  return report
}
