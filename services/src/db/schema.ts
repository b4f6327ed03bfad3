import { type SQL, sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

// The value lists below are the single source of truth: they type the columns (`text({ enum })`) and
// generate the CHECK constraints, so TypeScript and the database refuse the same values.

export const INSTANCE_LIFECYCLES = ['creating', 'ready', 'failed', 'destroying', 'destroyed'] as const
export type InstanceLifecycle = (typeof INSTANCE_LIFECYCLES)[number]

export const TOOL_IDS = ['openrouter', 'wallet', 'email', 'sms', 'crypto'] as const
export type ToolId = (typeof TOOL_IDS)[number]

export const PROVISIONING_MODES = ['pool', 'user'] as const
export type ProvisioningMode = (typeof PROVISIONING_MODES)[number]

export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'compensated'] as const
export type StepState = (typeof STEP_STATES)[number]

export const OPERATIONS = ['create', 'destroy'] as const
export type Operation = (typeof OPERATIONS)[number]

export const SERVICE_STATUSES = ['provisioning', 'active', 'releasing', 'failed', 'destroyed'] as const
export type ServiceStatus = (typeof SERVICE_STATUSES)[number]

/** `<column> in ('a', 'b', ...)` for a CHECK constraint; the values are the compile-time constants above. */
function oneOf(column: AnyPgColumn, values: readonly string[]): SQL {
  const list = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ')
  return sql`${column} in (${sql.raw(list)})`
}

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/** Columns both tables share: the last error, and when the row was created, changed and destroyed. */
const errorAndTimestampColumns = () => ({
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
  destroyedAt: timestamptz('destroyed_at'),
})

/** One row per agent instance; the natural key is the pool-chosen instance id. */
export const instanceInfra = pgTable(
  'instance_infra',
  {
    instanceId: text('instance_id').primaryKey(),
    name: text('name'),
    lifecycle: text('lifecycle', { enum: INSTANCE_LIFECYCLES }).notNull(),
    /** The instance lives in the old shared Railway project rather than in a project of its own. */
    legacy: boolean('legacy').notNull().default(false),
    image: text('image').notNull(),
    url: text('url'),
    railwayProjectId: text('railway_project_id'),
    railwayEnvironmentId: text('railway_environment_id'),
    railwayServiceId: text('railway_service_id'),
    railwayVolumeId: text('railway_volume_id'),
    railwayDomain: text('railway_domain'),
    /** Railway DeploymentStatus of the latest deployment, as last observed. */
    deployStatus: text('deploy_status'),
    /** SHA-256 hex of the instance's INSTANCE_SERVICES_TOKEN; the token itself is never stored. */
    tokenHash: text('token_hash').unique('instance_infra_token_hash_unique'),
    /** Ciphertext of the per-instance credential services uses to call the runtime. */
    runtimeCredential: text('runtime_credential'),
    /** Hash of the create request body, to tell an idempotent retry from a conflicting request. */
    requestHash: text('request_hash'),
    /** The create request (non-secret by contract), so a creation resumed after a crash has its inputs. */
    createRequest: jsonb('create_request').$type<Record<string, unknown>>(),
    /** Hash of the last configure body and the runtime's answer to it, so a repeat does not call it again. */
    configureHash: text('configure_hash'),
    configureResult: jsonb('configure_result').$type<Record<string, unknown>>(),
    /**
     * Ciphertext of the variables the running instance has not received yet (a JSON map; `""` clears a
     * variable). Cleared once the runtime accepts them; the reaper retries until then.
     */
    pendingEnv: text('pending_env'),
    /**
     * With REPLICA_COORDINATION=postgres: the replica running this instance's creation or destroy, until
     * `lease_expires_at`. It renews the lease while it works; once it lapses (the replica died) another
     * replica may take the work over. Null when nobody holds it.
     */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamptz('lease_expires_at'),
    ...errorAndTimestampColumns(),
  },
  (table) => [
    index('instance_infra_lifecycle_idx').on(table.lifecycle),
    check('instance_infra_lifecycle_check', oneOf(table.lifecycle, INSTANCE_LIFECYCLES)),
  ],
)

/** One row per tool resource of an instance (an OpenRouter key, an inbox, a phone number, a wallet...). */
export const instanceServices = pgTable(
  'instance_services',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    instanceId: text('instance_id')
      .notNull()
      .references(() => instanceInfra.instanceId, { onDelete: 'restrict' }),
    toolId: text('tool_id', { enum: TOOL_IDS }).notNull(),
    mode: text('mode', { enum: PROVISIONING_MODES }).notNull(),
    status: text('status', { enum: SERVICE_STATUSES }).notNull(),
    /** The provider's id of the resource, recorded as soon as the provider returns it. */
    resourceId: text('resource_id'),
    /** Deterministic key (instance id + tool) sent to the provider, so a retry after a crash adopts. */
    idempotencyKey: text('idempotency_key').notNull().unique('instance_services_idempotency_key_unique'),
    /** Non-secret values only. */
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    /** Ciphertext of the resource's secret, if it has one. */
    secret: text('secret'),
    /** Names of the environment variables this resource sets on the instance. */
    envKeys: text('env_keys').array().notNull().default(sql`'{}'::text[]`),
    ...errorAndTimestampColumns(),
  },
  (table) => [
    // At most one live resource per tool and instance; destroyed rows stay as history.
    uniqueIndex('instance_services_one_live_per_tool_idx')
      .on(table.instanceId, table.toolId)
      .where(sql`${table.status} <> 'destroyed'`),
    // Covers the foreign key (the partial index above skips destroyed rows) and per-instance listing.
    index('instance_services_instance_id_idx').on(table.instanceId),
    check('instance_services_tool_id_check', oneOf(table.toolId, TOOL_IDS)),
    check('instance_services_mode_check', oneOf(table.mode, PROVISIONING_MODES)),
    check('instance_services_status_check', oneOf(table.status, SERVICE_STATUSES)),
  ],
)

/**
 * The durable step log of a creation or destroy: a step is marked `running` (with one more attempt)
 * before its external call and `done` right after, in the same transaction that records the provider's
 * ids. A step found `running` after a crash may have happened: its resume looks the resource up first.
 */
export const instanceSteps = pgTable(
  'instance_steps',
  {
    instanceId: text('instance_id')
      .notNull()
      .references(() => instanceInfra.instanceId, { onDelete: 'cascade' }),
    operation: text('operation', { enum: OPERATIONS }).notNull(),
    /** e.g. `tool:openrouter`, `project`, `service`, `volume_domain`, `deploy`, `railway`. */
    name: text('name').notNull(),
    /** Order of the step within its operation, for display. */
    position: integer('position').notNull(),
    state: text('state', { enum: STEP_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
  },
  (table) => [
    primaryKey({ columns: [table.instanceId, table.operation, table.name] }),
    check('instance_steps_operation_check', oneOf(table.operation, OPERATIONS)),
    check('instance_steps_state_check', oneOf(table.state, STEP_STATES)),
  ],
)

export type InstanceStep = typeof instanceSteps.$inferSelect

export type InstanceInfra = typeof instanceInfra.$inferSelect
export type NewInstanceInfra = typeof instanceInfra.$inferInsert
export type InstanceService = typeof instanceServices.$inferSelect
export type NewInstanceService = typeof instanceServices.$inferInsert

/**
 * The Telnyx numbers services owns, each either claimed by one tool resource or idle in the pool. A
 * released number stays bought (a new number costs an order and a month's fee), so the next SMS provision
 * reuses an idle one; a cleanup job deletes numbers idle for too long at Telnyx.
 */
export const phoneNumberPool = pgTable(
  'phone_number_pool',
  {
    /** E.164. */
    phoneNumber: text('phone_number').primaryKey(),
    /** Telnyx's numeric-string phone number id (`/phone_numbers/{id}`). */
    telnyxNumberId: text('telnyx_number_id').notNull(),
    messagingProfileId: text('messaging_profile_id').notNull(),
    /**
     * The idempotency key of the resource holding the number, or of the cleanup job deleting it; null
     * while idle. Unique: one claimant holds at most one number, so a retried provision finds its own.
     */
    claimedBy: text('claimed_by').unique('phone_number_pool_claimed_by_unique'),
    /** When the number last went back to the pool; null while claimed. */
    releasedAt: timestamptz('released_at'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at')
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (table) => [
    // Exactly one of the two: a number is either held or idle, never both or neither.
    check(
      'phone_number_pool_claimed_xor_released_check',
      sql`(${table.claimedBy} is null) <> (${table.releasedAt} is null)`,
    ),
    check('phone_number_pool_e164_check', sql`${table.phoneNumber} ~ '^\\+[1-9][0-9]{6,14}$'`),
    // take() scans idle numbers oldest first; claimed rows are not in the index.
    index('phone_number_pool_idle_idx').on(table.releasedAt).where(sql`${table.releasedAt} is not null`),
  ],
)

export type PhoneNumberPoolRow = typeof phoneNumberPool.$inferSelect

/**
 * Named fleet-wide leases (REPLICA_COORDINATION=postgres), e.g. `periodic-jobs`: the replica holding one
 * until `expires_at` is the only one doing that job; it renews the lease each time, and another replica
 * takes it once it lapses.
 */
export const fleetLeases = pgTable('fleet_leases', {
  name: text('name').primaryKey(),
  owner: text('owner').notNull(),
  expiresAt: timestamptz('expires_at').notNull(),
})

/**
 * Fleet-wide request pacing (REPLICA_COORDINATION=postgres), one row per bucket (`railway`): the time the
 * next request may go out, moved on by `1 / rate` for each request taken (a GCRA token bucket of capacity
 * 1, like the in-process one), so all replicas together keep to one rate.
 */
export const fleetRateBuckets = pgTable('fleet_rate_buckets', {
  name: text('name').primaryKey(),
  nextAt: timestamptz('next_at').notNull().defaultNow(),
})

/**
 * Railway's concurrent-creation slots shared by all replicas (REPLICA_COORDINATION=postgres), rows
 * 0..RAILWAY_MAX_CONCURRENT_CREATIONS-1. A slot belongs to an instance, not to a replica: from before its
 * `projectCreate` until its domain exists or its project is deleted, so a creation whose replica died keeps
 * its slot until another replica resumes (or undoes) it, as Railway still counts it in flight.
 */
export const railwayCreationSlots = pgTable('railway_creation_slots', {
  slot: integer('slot').primaryKey(),
  instanceId: text('instance_id'),
  /** The replica that took it, for operators. */
  owner: text('owner'),
  takenAt: timestamptz('taken_at'),
})
