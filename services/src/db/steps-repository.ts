import { and, asc, eq, sql } from 'drizzle-orm'
import type { Database } from './open-database.js'
import { type InstanceStep, instanceSteps, type Operation } from './schema.js'

export type StepsRepository = ReturnType<typeof createStepsRepository>

/** Fields of the instance row a step writes together with its own state, in one transaction. */
export type StepWrite = (tx: Database) => Promise<unknown>

/**
 * The durable step log. `begin` is written BEFORE a step's external call (so a crash leaves `running`
 * behind and the resume knows the call may have happened), `finish` right after it, in the same
 * transaction as whatever the call produced (the provider's ids).
 */
export function createStepsRepository(db: Database) {
  const where = (instanceId: string, operation: Operation, name: string) =>
    and(
      eq(instanceSteps.instanceId, instanceId),
      eq(instanceSteps.operation, operation),
      eq(instanceSteps.name, name),
    )

  return {
    /** Creates the pending steps of an operation; steps already there (a resume) are kept as they are. */
    async plan(instanceId: string, operation: Operation, names: readonly string[]): Promise<void> {
      if (names.length === 0) return
      await db
        .insert(instanceSteps)
        .values(names.map((name, position) => ({ instanceId, operation, name, position })))
        .onConflictDoNothing()
    },

    async list(instanceId: string, operation?: Operation): Promise<InstanceStep[]> {
      return db
        .select()
        .from(instanceSteps)
        .where(
          operation
            ? and(eq(instanceSteps.instanceId, instanceId), eq(instanceSteps.operation, operation))
            : eq(instanceSteps.instanceId, instanceId),
        )
        .orderBy(asc(instanceSteps.operation), asc(instanceSteps.position))
    },

    /** Marks the step running with one more attempt; returns it as it was before (to tell a resume). */
    async begin(instanceId: string, operation: Operation, name: string): Promise<InstanceStep> {
      const [before] = await db
        .select()
        .from(instanceSteps)
        .where(where(instanceId, operation, name))
      if (!before) throw new Error(`step ${operation}/${name} of ${instanceId} was never planned`)
      await db
        .update(instanceSteps)
        .set({
          state: 'running',
          attempts: sql`${instanceSteps.attempts} + 1`,
          startedAt: before.startedAt ?? new Date(),
          finishedAt: null,
          errorCode: null,
          errorMessage: null,
        })
        .where(where(instanceId, operation, name))
      return before
    },

    /** Marks the step done, in one transaction with `write` (the ids the step's call returned). */
    async finish(instanceId: string, operation: Operation, name: string, write?: StepWrite): Promise<void> {
      await db.transaction(async (tx) => {
        if (write) await write(tx as unknown as Database)
        await tx
          .update(instanceSteps)
          .set({ state: 'done', finishedAt: new Date(), errorCode: null, errorMessage: null })
          .where(where(instanceId, operation, name))
      })
    },

    /** Records a failed attempt; `state` is `failed` for good, or stays `running` while it will be retried. */
    async fail(
      instanceId: string,
      operation: Operation,
      name: string,
      error: { code: string; message: string },
      state: 'failed' | 'running' = 'failed',
    ): Promise<void> {
      await db
        .update(instanceSteps)
        .set({
          state,
          errorCode: error.code,
          errorMessage: error.message,
          ...(state === 'failed' ? { finishedAt: new Date() } : {}),
        })
        .where(where(instanceId, operation, name))
    },

    /** After a failed creation was undone: every step that had done something is now `compensated`. */
    async markCompensated(instanceId: string): Promise<void> {
      await db
        .update(instanceSteps)
        .set({ state: 'compensated' })
        .where(
          and(
            eq(instanceSteps.instanceId, instanceId),
            eq(instanceSteps.operation, 'create'),
            sql`${instanceSteps.state} in ('done', 'running')`,
          ),
        )
    },
  }
}
