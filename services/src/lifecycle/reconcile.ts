import { and, eq, ne, sql } from 'drizzle-orm'
import type { Database } from '../db/open-database.js'
import { instanceInfra, instanceServices, phoneNumberPool, type ToolId } from '../db/schema.js'
import type { ReconcileProvider, ReconcileReport } from '../generated/schemas.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { projectNameFor } from '../infra/railway/index.js'
import type { ToolPlugins } from '../plugins/index.js'
import type { MarkedResource, ToolPlugin } from '../plugins/tool-plugin.js'
import { execRows } from '../replicas/rows.js'
import type { LifecycleLogger } from './context.js'

export interface ReconcileDeps {
  db: Database
  /** Absent: Railway projects are skipped (and said so). */
  railway?: RailwayClient | undefined
  plugins: ToolPlugins
  log: LifecycleLogger
}

type Orphan = ReconcileReport['orphans'][number]
/** The two plugin methods the reconciler uses, present for every tool with resources at a provider. */
type ProviderListing = Required<Pick<ToolPlugin, 'inventory' | 'deleteOrphan'>>
type Vanished = ReconcileReport['vanished'][number]

/** What a project services makes is called: `agent-` and the cleaned instance id (see projectNameFor). */
const PROJECT_NAME = /^agent-[a-z0-9-]+$/
/** Tools whose resources live at a provider, in the order they are reconciled. */
const PROVIDER_TOOLS = ['openrouter', 'email', 'sms', 'crypto'] as const satisfies readonly ToolId[]
const VANISHED_CODE = 'RESOURCE_VANISHED'

const errorCodeOf = (error: unknown) =>
  error && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
    ? error.code
    : 'UNKNOWN'

/**
 * `POST /admin/reconcile` and `npm run reconcile`: orphans at the providers (resources with services'
 * marks that no live row tracks) and vanished rows (tracked resources the provider no longer has).
 *
 * Providers are read first, the database after: a row is always written before its resource is made, so
 * every listed resource that is services' own has its row visible by then. Rows changed after the read
 * began (a creation or destroy in flight) are left alone, in both directions, for the next run.
 */
export async function reconcile(deps: ReconcileDeps, options: { apply: boolean }): Promise<ReconcileReport> {
  const report: ReconcileReport = { applied: options.apply, orphans: [], vanished: [], skipped: [] }
  const skip = (provider: ReconcileProvider, reason: string) => report.skipped.push({ provider, reason })

  if (deps.railway) await reconcileProjects(deps, deps.railway, options, report, skip)
  else skip('railway', 'Railway is not configured on this server')

  for (const toolId of PROVIDER_TOOLS) {
    const plugin = deps.plugins[toolId]
    if (!plugin?.inventory || !plugin.deleteOrphan) {
      skip(toolId, `the ${toolId} tool is not configured on this server`)
      continue
    }
    const provider: ProviderListing = {
      inventory: plugin.inventory.bind(plugin),
      deleteOrphan: plugin.deleteOrphan.bind(plugin),
    }
    await reconcileTool(deps, toolId, provider, options, report, skip)
  }
  deps.log.info(
    {
      applied: options.apply,
      orphans: report.orphans.length,
      vanished: report.vanished.length,
      skipped: report.skipped.length,
    },
    'reconciled providers with the database',
  )
  return report
}

async function reconcileProjects(
  deps: ReconcileDeps,
  railway: RailwayClient,
  options: { apply: boolean },
  report: ReconcileReport,
  skip: (provider: ReconcileProvider, reason: string) => void,
) {
  const readAt = await databaseNow(deps.db)
  let projects: Awaited<ReturnType<RailwayClient['listProjects']>>
  try {
    projects = await railway.listProjects()
  } catch (error) {
    skip('railway', `Railway projects could not be listed (${errorCodeOf(error)})`)
    return
  }
  const rows = await deps.db
    .select({
      instanceId: instanceInfra.instanceId,
      lifecycle: instanceInfra.lifecycle,
      legacy: instanceInfra.legacy,
      projectId: instanceInfra.railwayProjectId,
      updatedAt: instanceInfra.updatedAt,
    })
    .from(instanceInfra)
  const settled = (row: { updatedAt: Date }) => row.updatedAt < readAt
  const live = rows.filter((row) => row.lifecycle !== 'destroyed')
  const recent = rows.filter((row) => !settled(row))
  // A project is services' own while any row could still own it: live, or changed since the list was read.
  const ownedIds = new Set([...live, ...recent].flatMap((row) => (row.projectId ? [row.projectId] : [])))
  const ownedNames = new Set([...live, ...recent].map((row) => projectNameFor(row.instanceId)))

  for (const project of projects) {
    if (!PROJECT_NAME.test(project.name) || ownedIds.has(project.id) || ownedNames.has(project.name)) continue
    const orphan: Orphan = {
      provider: 'railway',
      resourceId: project.id,
      name: project.name,
      outcome: 'found',
      error: null,
    }
    if (options.apply) {
      await settle(orphan, () =>
        railway.deleteProject(project.id).then((r) => (r === 'deleted' ? 'deleted' : 'gone')),
      )
    }
    report.orphans.push(orphan)
  }

  const listed = new Set(projects.map((project) => project.id))
  for (const row of live) {
    // Only settled, ready, own-project instances: a creation or destroy in flight owns its project's fate.
    if (
      row.lifecycle !== 'ready' ||
      row.legacy ||
      !row.projectId ||
      !settled(row) ||
      listed.has(row.projectId)
    )
      continue
    const vanished: Vanished = {
      instanceId: row.instanceId,
      provider: 'railway',
      resourceId: row.projectId,
      outcome: 'found',
    }
    if (options.apply) {
      const marked = await deps.db
        .update(instanceInfra)
        .set({
          errorCode: VANISHED_CODE,
          errorMessage: `the Railway project ${row.projectId} no longer exists`,
        })
        .where(and(eq(instanceInfra.instanceId, row.instanceId), eq(instanceInfra.lifecycle, 'ready')))
        .returning({ instanceId: instanceInfra.instanceId })
      if (marked.length > 0) vanished.outcome = 'marked'
    }
    report.vanished.push(vanished)
  }
}

async function reconcileTool(
  deps: ReconcileDeps,
  toolId: (typeof PROVIDER_TOOLS)[number],
  plugin: ProviderListing,
  options: { apply: boolean },
  report: ReconcileReport,
  skip: (provider: ReconcileProvider, reason: string) => void,
) {
  const readAt = await databaseNow(deps.db)
  let marked: MarkedResource[]
  try {
    marked = await plugin.inventory()
  } catch (error) {
    skip(toolId, `the ${toolId} provider could not be listed (${errorCodeOf(error)})`)
    return
  }
  const rows = await deps.db
    .select({
      id: instanceServices.id,
      instanceId: instanceServices.instanceId,
      mode: instanceServices.mode,
      status: instanceServices.status,
      resourceId: instanceServices.resourceId,
      idempotencyKey: instanceServices.idempotencyKey,
      updatedAt: instanceServices.updatedAt,
    })
    .from(instanceServices)
    .where(eq(instanceServices.toolId, toolId))
  const settled = (row: { updatedAt: Date }) => row.updatedAt < readAt
  const live = rows.filter((row) => row.status !== 'destroyed')
  const owning = [...live, ...rows.filter((row) => !settled(row))]
  const trackedIds = new Set(owning.flatMap((row) => (row.resourceId ? [row.resourceId] : [])))
  // A key whose row is still provisioning, or changed since the read, may be getting its resource now.
  const busyKeys = new Set(
    owning.filter((row) => row.status === 'provisioning' || !settled(row)).map((row) => row.idempotencyKey),
  )
  if (toolId === 'sms') {
    // Idle numbers wait in the pool for the next instance; they keep their first buyer's mark.
    const pooled = await deps.db.select({ id: phoneNumberPool.telnyxNumberId }).from(phoneNumberPool)
    for (const { id } of pooled) trackedIds.add(id)
  }

  for (const resource of marked) {
    if (trackedIds.has(resource.resourceId) || busyKeys.has(resource.idempotencyKey)) continue
    const orphan: Orphan = {
      provider: toolId,
      resourceId: resource.resourceId,
      name: resource.idempotencyKey,
      outcome: 'found',
      error: null,
    }
    if (options.apply) await settle(orphan, () => plugin.deleteOrphan(resource))
    report.orphans.push(orphan)
  }

  const listed = new Set(marked.map((resource) => resource.resourceId))
  for (const row of live) {
    // User-mode resources are the user's, read with the user's credentials: not in services' listing.
    if (row.mode !== 'pool' || row.status !== 'active' || !row.resourceId || !settled(row)) continue
    if (listed.has(row.resourceId)) continue
    const vanished: Vanished = {
      instanceId: row.instanceId,
      provider: toolId,
      resourceId: row.resourceId,
      outcome: 'found',
    }
    if (options.apply) {
      const updated = await deps.db
        .update(instanceServices)
        .set({
          status: 'destroyed',
          destroyedAt: new Date(),
          errorCode: VANISHED_CODE,
          errorMessage: `the ${toolId} provider no longer has ${row.resourceId}`,
        })
        .where(
          and(
            eq(instanceServices.id, row.id),
            eq(instanceServices.status, 'active'),
            ne(instanceServices.mode, 'user'),
          ),
        )
        .returning({ id: instanceServices.id })
      if (updated.length > 0) vanished.outcome = 'marked'
    }
    report.vanished.push(vanished)
  }
}

/** The database's clock, which also stamps `updated_at`: no skew between replicas matters. */
async function databaseNow(db: Database): Promise<Date> {
  const [row] = await execRows<{ now: string | Date }>(db, sql`select now() as now`)
  if (!row) throw new Error('select now() returned no row')
  return new Date(row.now)
}

/** Deletes one orphan and records how it went; a failure is reported, never thrown (the rest go on). */
async function settle(orphan: Orphan, remove: () => Promise<'deleted' | 'destroyed' | 'gone'>) {
  try {
    orphan.outcome = (await remove()) === 'gone' ? 'gone' : 'deleted'
  } catch (error) {
    orphan.outcome = 'failed'
    orphan.error = errorCodeOf(error)
  }
}
