import { and, asc, eq, inArray, isNotNull, isNull, like, lt, type SQL } from 'drizzle-orm'
import type { Database } from './open-database.js'
import { type PhoneNumberPoolRow, phoneNumberPool } from './schema.js'

/** A number services owns at Telnyx, as the pool records it. */
export interface PoolNumber {
  /** E.164. */
  phoneNumber: string
  /** Telnyx's numeric-string phone number id. */
  telnyxNumberId: string
  messagingProfileId: string
}

export interface PooledNumberRow extends PoolNumber {
  claimedBy: string | null
  releasedAt: Date | null
}

export interface TakeFilter {
  /** Only this number. */
  phoneNumber?: string
  /** Only numbers idle since before this moment. */
  releasedBefore?: Date
}

export type NumberPoolRepository = ReturnType<typeof createNumberPoolRepository>

/**
 * The pool of Telnyx numbers: which are held (and by whom) and which are idle. Every hand-over is one
 * conditional statement, so two provisions, or a provision and the cleanup job, never hold the same number.
 */
export function createNumberPoolRepository(db: Database) {
  return {
    /**
     * Claims one idle number for `claimant`, the longest-idle first, or returns undefined when none is idle.
     * `FOR UPDATE SKIP LOCKED` makes concurrent takes pick different rows instead of waiting on each other;
     * the unique `claimed_by` makes a claimant that already holds a number fail instead of taking a second.
     */
    async take(claimant: string, filter: TakeFilter = {}): Promise<PooledNumberRow | undefined> {
      const conditions: SQL[] = [isNotNull(phoneNumberPool.releasedAt)]
      if (filter.phoneNumber) conditions.push(eq(phoneNumberPool.phoneNumber, filter.phoneNumber))
      if (filter.releasedBefore) conditions.push(lt(phoneNumberPool.releasedAt, filter.releasedBefore))
      const oldestIdle = db
        .select({ phoneNumber: phoneNumberPool.phoneNumber })
        .from(phoneNumberPool)
        .where(and(...conditions))
        .orderBy(asc(phoneNumberPool.releasedAt), asc(phoneNumberPool.phoneNumber))
        .limit(1)
        .for('update', { skipLocked: true })
      const [row] = await db
        .update(phoneNumberPool)
        .set({ claimedBy: claimant, releasedAt: null })
        // The idle condition is repeated: under READ COMMITTED the row is re-checked after the lock.
        .where(and(inArray(phoneNumberPool.phoneNumber, oldestIdle), isNotNull(phoneNumberPool.releasedAt)))
        .returning()
      return row && toRow(row)
    },

    /** The number `claimant` holds, if any: a retried provision finds the number it already took. */
    async claimedBy(claimant: string): Promise<PooledNumberRow | undefined> {
      const [row] = await db
        .select()
        .from(phoneNumberPool)
        .where(eq(phoneNumberPool.claimedBy, claimant))
        .limit(1)
      return row && toRow(row)
    },

    async get(phoneNumber: string): Promise<PooledNumberRow | undefined> {
      const [row] = await db
        .select()
        .from(phoneNumberPool)
        .where(eq(phoneNumberPool.phoneNumber, phoneNumber))
        .limit(1)
      return row && toRow(row)
    },

    /**
     * Records `number` as held by `claimant` (a number just bought, or an update of the one it holds: its
     * Telnyx id and messaging profile). Returns false, changing nothing, when the number is recorded as
     * idle or held by someone else.
     */
    async claim(number: PoolNumber, claimant: string): Promise<boolean> {
      const rows = await db
        .insert(phoneNumberPool)
        .values({ ...number, claimedBy: claimant, releasedAt: null })
        .onConflictDoUpdate({
          target: phoneNumberPool.phoneNumber,
          set: {
            telnyxNumberId: number.telnyxNumberId,
            messagingProfileId: number.messagingProfileId,
            updatedAt: new Date(),
          },
          setWhere: eq(phoneNumberPool.claimedBy, claimant),
        })
        .returning({ phoneNumber: phoneNumberPool.phoneNumber })
      return rows.length > 0
    },

    /**
     * Returns a held number to the pool, but only if `claimant` still holds it: a stale second release
     * (after someone else took the number) changes nothing. `releasedAt` defaults to now.
     */
    async release(phoneNumber: string, claimant: string, releasedAt = new Date()): Promise<boolean> {
      const rows = await db
        .update(phoneNumberPool)
        .set({ claimedBy: null, releasedAt })
        .where(and(eq(phoneNumberPool.phoneNumber, phoneNumber), eq(phoneNumberPool.claimedBy, claimant)))
        .returning({ phoneNumber: phoneNumberPool.phoneNumber })
      return rows.length > 0
    },

    /**
     * Adds a number the pool has no record of as idle (one adopted after a crash, before it was recorded).
     * Returns false when the number is already recorded, held or idle: that record wins.
     */
    async put(number: PoolNumber): Promise<boolean> {
      const rows = await db
        .insert(phoneNumberPool)
        .values({ ...number, claimedBy: null, releasedAt: new Date() })
        .onConflictDoNothing({ target: phoneNumberPool.phoneNumber })
        .returning({ phoneNumber: phoneNumberPool.phoneNumber })
      return rows.length > 0
    },

    /** Idle numbers released more than `olderThanMs` ago, oldest first: candidates for deletion at Telnyx. */
    async expired(olderThanMs: number, limit = 100): Promise<PooledNumberRow[]> {
      const cutoff = new Date(Date.now() - olderThanMs)
      const rows = await db
        .select()
        .from(phoneNumberPool)
        .where(and(isNull(phoneNumberPool.claimedBy), lt(phoneNumberPool.releasedAt, cutoff)))
        .orderBy(asc(phoneNumberPool.releasedAt))
        .limit(limit)
      return rows.map(toRow)
    },

    /** Numbers held by claimants whose key starts with `prefix` (e.g. deletions a crash interrupted). */
    async claimedWithPrefix(prefix: string): Promise<PooledNumberRow[]> {
      const pattern = `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`
      const rows = await db.select().from(phoneNumberPool).where(like(phoneNumberPool.claimedBy, pattern))
      return rows.map(toRow)
    },

    /** Forgets a number (deleted at Telnyx), only while `claimant` holds it. */
    async remove(phoneNumber: string, claimant: string): Promise<boolean> {
      const rows = await db
        .delete(phoneNumberPool)
        .where(and(eq(phoneNumberPool.phoneNumber, phoneNumber), eq(phoneNumberPool.claimedBy, claimant)))
        .returning({ phoneNumber: phoneNumberPool.phoneNumber })
      return rows.length > 0
    },
  }
}

function toRow(row: PhoneNumberPoolRow): PooledNumberRow {
  return {
    phoneNumber: row.phoneNumber,
    telnyxNumberId: row.telnyxNumberId,
    messagingProfileId: row.messagingProfileId,
    claimedBy: row.claimedBy,
    releasedAt: row.releasedAt,
  }
}
