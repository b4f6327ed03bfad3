import { createHash } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Database } from '../db/open-database.js'
import { type InstanceInfra, instanceInfra, type ToolId } from '../db/schema.js'
import type { CreateInstanceRequest } from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import type { ToolPlugins } from '../plugins/index.js'
import { registryView } from '../plugins/tool-catalog.js'
import type { CreateSpec } from './create-instance.js'
import { RESERVED_ENV_NAMES } from './instance-env.js'

const ALWAYS_PROVISIONED: ToolId[] = ['openrouter', 'wallet']

/** Defaults applied and lists sorted: two requests that mean the same thing give the same spec and hash. */
export function creationSpec(body: CreateInstanceRequest, defaultImage: string): CreateSpec {
  const extra = [...new Set(body.tools ?? [])].filter((tool) => !ALWAYS_PROVISIONED.includes(tool)).sort()
  const env = Object.fromEntries(Object.entries(body.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
  return {
    instanceId: body.instanceId,
    name: body.name ?? null,
    image: body.image ?? defaultImage,
    tools: [...ALWAYS_PROVISIONED, ...extra],
    env,
  }
}

const hashOf = (spec: CreateSpec) => createHash('sha256').update(JSON.stringify(spec)).digest('hex')

/** Refuses what the schema cannot: variables services sets itself, and tools this server cannot provision. */
function checkRequest(spec: CreateSpec, config: Config, plugins: ToolPlugins) {
  const reserved = Object.keys(spec.env).filter((name) => RESERVED_ENV_NAMES.has(name))
  if (reserved.length > 0) {
    throw new ProblemError(400, 'VALIDATION_FAILED', `env ${reserved.join(', ')}: set by services itself`, {
      errors: reserved.map((name) => ({
        in: 'body',
        pointer: `/env/${name}`,
        message: 'is set by services itself',
      })),
    })
  }
  const unconfigured = registryView(config).filter(
    (tool) => spec.tools.includes(tool.toolId) && !plugins[tool.toolId],
  )
  if (unconfigured.length > 0) {
    const missing = unconfigured.map(
      (tool) => `${tool.toolId} (set ${tool.missingSettings.join(', ') || 'its settings'})`,
    )
    throw new ProblemError(
      503,
      'TOOL_NOT_CONFIGURED',
      `tools not configured on this server: ${missing.join('; ')}`,
    )
  }
}

/**
 * Records a creation request, idempotently on `instanceId`: the first request inserts the row
 * (`creating`, with the spec), a repeat with the same spec gets that row back, a different one is 409.
 * Ids are never reused: a destroyed instance's id is 409 too.
 */
export async function recordCreation(
  db: Database,
  body: CreateInstanceRequest,
  config: Config,
  plugins: ToolPlugins,
): Promise<InstanceInfra> {
  const spec = creationSpec(body, config.railway.runtimeImage)
  checkRequest(spec, config, plugins)
  const requestHash = hashOf(spec)
  const [inserted] = await db
    .insert(instanceInfra)
    .values({
      instanceId: spec.instanceId,
      name: spec.name,
      lifecycle: 'creating',
      image: spec.image,
      requestHash,
      createRequest: spec as unknown as Record<string, unknown>,
    })
    .onConflictDoNothing()
    .returning()
  if (inserted) return inserted
  const [existing] = await db
    .select()
    .from(instanceInfra)
    .where(eq(instanceInfra.instanceId, spec.instanceId))
  if (!existing) throw new Error(`instance ${spec.instanceId} conflicted on insert but cannot be read`)
  if (existing.requestHash !== requestHash) {
    throw new ProblemError(409, 'CONFLICT', `instance ${spec.instanceId} exists with a different request`)
  }
  if (existing.lifecycle === 'destroying' || existing.lifecycle === 'destroyed') {
    throw new ProblemError(
      409,
      'CONFLICT',
      `instance ${spec.instanceId} was destroyed; instance ids are not reused`,
    )
  }
  return existing
}
