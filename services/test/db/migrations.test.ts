import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import t from 'tap'
import { migrateDatabase, resolveMigrationsFolder } from '../../src/db/migrate.js'
import { type DatabaseHandle, openDatabase } from '../../src/db/open-database.js'
import { instanceInfra, instanceServices } from '../../src/db/schema.js'
import {
  createTestDatabase,
  createTestPglite,
  queryRows,
  rejectionCode,
  type TeardownHost,
} from '../helpers/database.js'

const journal = JSON.parse(
  readFileSync(join(resolveMigrationsFolder(), 'meta', '_journal.json'), 'utf8'),
) as {
  entries: { tag: string }[]
}

const backends: Record<string, (t: TeardownHost) => Promise<DatabaseHandle>> = {
  'postgres (server)': (t) => createTestDatabase(t, { migrate: false }),
  'pglite (embedded, PostgreSQL 18)': (t) => createTestPglite(t, { migrate: false }),
}

async function appliedMigrations(handle: DatabaseHandle): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    handle,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  )
  return row?.n ?? -1
}

for (const [backend, open] of Object.entries(backends)) {
  t.test(`migrations on ${backend}`, async (t) => {
    let started = performance.now()
    const handle = await open(t)
    t.comment(`${backend}: empty database ready in ${Math.round(performance.now() - started)} ms`)

    const before = await queryRows(
      handle,
      sql`select table_name from information_schema.tables where table_schema = 'public'`,
    )
    t.same(before, [], 'starts empty')

    started = performance.now()
    await migrateDatabase(handle)
    t.comment(`${backend}: migrations applied in ${Math.round(performance.now() - started)} ms`)
    t.equal(await appliedMigrations(handle), journal.entries.length, 'every journal entry recorded')

    await t.test('migrating again is a no-op', async (t) => {
      await migrateDatabase(handle)
      await migrateDatabase(handle)
      t.equal(await appliedMigrations(handle), journal.entries.length)
    })

    await t.test('tables, columns, indexes and constraints', async (t) => {
      const tables = await queryRows<{ table_name: string }>(
        handle,
        sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
      )
      t.same(
        tables.map((r) => r.table_name),
        [
          'fleet_leases',
          'fleet_rate_buckets',
          'instance_infra',
          'instance_services',
          'instance_steps',
          'phone_number_pool',
          'railway_creation_slots',
        ],
      )

      const indexes = await queryRows<{ indexname: string; indexdef: string }>(
        handle,
        sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`,
      )
      const indexNames = indexes.map((r) => r.indexname)
      for (const name of [
        'instance_infra_pkey',
        'instance_infra_lifecycle_idx',
        'instance_infra_token_hash_unique',
        'instance_services_pkey',
        'instance_services_idempotency_key_unique',
        'instance_services_instance_id_idx',
        'instance_services_one_live_per_tool_idx',
      ]) {
        t.ok(indexNames.includes(name), `index ${name}`)
      }
      const partial = indexes.find((r) => r.indexname === 'instance_services_one_live_per_tool_idx')
      t.match(
        partial?.indexdef,
        /^CREATE UNIQUE INDEX .*\(instance_id, tool_id\) WHERE \(status <> 'destroyed'::text\)$/,
      )

      const constraints = await queryRows<{ conname: string; contype: string; confdeltype: string }>(
        handle,
        sql`select conname, contype, confdeltype from pg_constraint
            where conrelid in ('instance_infra'::regclass, 'instance_services'::regclass) order by 1`,
      )
      const byName = new Map(constraints.map((c) => [c.conname, c]))
      for (const name of [
        'instance_infra_lifecycle_check',
        'instance_services_tool_id_check',
        'instance_services_mode_check',
        'instance_services_status_check',
      ]) {
        t.equal(byName.get(name)?.contype, 'c', `check constraint ${name}`)
      }
      t.equal(byName.get('instance_infra_token_hash_unique')?.contype, 'u')
      t.equal(byName.get('instance_services_idempotency_key_unique')?.contype, 'u')
      const fk = constraints.find((c) => c.contype === 'f')
      t.equal(fk?.confdeltype, 'r', 'instance_services → instance_infra foreign key, on delete restrict')

      const timestampColumns = await queryRows<{ column_name: string; data_type: string }>(
        handle,
        sql`select table_name || '.' || column_name as column_name, data_type from information_schema.columns
            where table_schema = 'public' and right(column_name, 3) = '_at' order by 1`,
      )
      t.same(
        timestampColumns.map((column) => column.column_name),
        [
          'fleet_leases.expires_at',
          'fleet_rate_buckets.next_at',
          ...['created_at', 'destroyed_at', 'lease_expires_at', 'updated_at'].map(
            (c) => `instance_infra.${c}`,
          ),
          ...['created_at', 'destroyed_at', 'updated_at'].map((c) => `instance_services.${c}`),
          'instance_steps.finished_at',
          'instance_steps.started_at',
          ...['created_at', 'released_at', 'updated_at'].map((c) => `phone_number_pool.${c}`),
          'railway_creation_slots.taken_at',
        ],
        'every *_at column of every table',
      )
      for (const column of timestampColumns) {
        t.equal(column.data_type, 'timestamp with time zone', `${column.column_name} is timestamptz`)
      }
    })

    await t.test('at most one live row per (instance, tool)', async (t) => {
      await handle.db
        .insert(instanceInfra)
        .values({ instanceId: 'inst-1', lifecycle: 'ready', image: 'img:1' })
      const row = (n: number) => ({
        instanceId: 'inst-1',
        toolId: 'email' as const,
        mode: 'pool' as const,
        status: 'active' as const,
        idempotencyKey: `inst-1:email:${n}`,
      })
      const [first] = await handle.db.insert(instanceServices).values(row(1)).returning()
      t.ok(first?.id, 'first row gets a generated uuid')
      t.same(first?.config, {}, 'config defaults to {}')
      t.same(first?.envKeys, [], 'env_keys defaults to {}')

      t.equal(
        await rejectionCode(handle.db.insert(instanceServices).values(row(2))),
        '23505',
        'a second live row for the same tool is refused',
      )
      t.equal(
        await rejectionCode(handle.db.insert(instanceServices).values({ ...row(3), status: 'provisioning' })),
        '23505',
        'whatever its live status',
      )
      await handle.db.insert(instanceServices).values({ ...row(4), toolId: 'sms' })
      t.pass('another tool of the same instance is fine')

      await handle.db
        .update(instanceServices)
        .set({ status: 'destroyed', destroyedAt: new Date() })
        .where(eq(instanceServices.id, first?.id ?? ''))
      await handle.db.insert(instanceServices).values(row(5))
      t.pass('accepted once the first row is destroyed')

      t.equal(
        await rejectionCode(handle.db.insert(instanceServices).values({ ...row(5), toolId: 'sms' })),
        '23505',
        'idempotency_key is unique',
      )
      t.equal(
        await rejectionCode(
          handle.db.insert(instanceServices).values({ ...row(6), instanceId: 'no-such-instance' }),
        ),
        '23503',
        'the instance must exist',
      )
      // PostgreSQL 18 (PGlite) reports ON DELETE RESTRICT as restrict_violation 23001, 15 as 23503.
      t.match(
        await rejectionCode(handle.db.delete(instanceInfra).where(eq(instanceInfra.instanceId, 'inst-1'))),
        /^(23503|23001)$/,
        'an instance with service rows cannot be deleted (on delete restrict)',
      )
    })

    await t.test('check constraints refuse unknown values', async (t) => {
      t.equal(
        await rejectionCode(
          handle.db.execute(
            sql`insert into instance_infra (instance_id, lifecycle, image) values ('bad', 'running', 'img')`,
          ),
        ),
        '23514',
        'lifecycle',
      )
      await handle.db
        .insert(instanceInfra)
        .values({ instanceId: 'inst-2', lifecycle: 'creating', image: 'img' })
      for (const [column, value] of [
        ['tool_id', 'fax'],
        ['mode', 'shared'],
        ['status', 'gone'],
      ] as const) {
        const values = { tool_id: 'email', mode: 'pool', status: 'active', [column]: value }
        t.equal(
          await rejectionCode(
            handle.db.execute(
              sql`insert into instance_services (instance_id, tool_id, mode, status, idempotency_key)
                  values ('inst-2', ${values.tool_id}, ${values.mode}, ${values.status}, ${`k-${column}`})`,
            ),
          ),
          '23514',
          column,
        )
      }
    })
  })
}

t.test('concurrent migrations of one postgres database serialise', async (t) => {
  const first = await createTestDatabase(t, { migrate: false })
  const second = await openDatabase({ databaseUrl: first.url, dataDir: 'unused' })
  t.teardown(() => second.close())
  await Promise.all([migrateDatabase(first), migrateDatabase(second), migrateDatabase(first)])
  t.equal(await appliedMigrations(first), journal.entries.length, 'each migration applied exactly once')
})

t.test('resolveMigrationsFolder', async (t) => {
  const fromSource = resolveMigrationsFolder()
  t.match(fromSource, /[/\\]migrations$/)
  t.equal(
    resolveMigrationsFolder(join(fromSource, '..', 'services', 'dist', 'db')),
    fromSource,
    'the built server (services/dist/db) finds the same folder',
  )
  t.throws(() => resolveMigrationsFolder('/'), /no migrations folder/)
})
