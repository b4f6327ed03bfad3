/**
 * A minimal agent pool on top of services: keeps `minIdle` warm instances, replaces broken ones, and
 * equips one for a user on claim. It knows instance ids and what services says about them, nothing about
 * Railway or any provider. State lives in memory: a real pool would persist which ids it owns.
 */
import {
  type components,
  type ServicesClient,
  ServicesProblemError,
  statusOf,
} from '@agent-pool/services-client'

type Schemas = components['schemas']
export type SummaryStatus = Schemas['SummaryStatus']

/** `creating` until services first says healthy; `stuck` ones are destroyed (and replaced) by the next tick. */
export type PoolState = 'creating' | 'ready' | 'stuck' | 'claimed'

export interface PoolInstance {
  instanceId: string
  state: PoolState
  /** Services' last summary (null before the first tick that saw it). */
  status: SummaryStatus | null
  deployStatus: Schemas['DeployStatus']
  latencyMs: number | null
  /** Whether the runtime said it is ready at the last ping (null: no answer, or never pinged). */
  runtimeReady: boolean | null
  /** When the pool asked for it (ms since epoch). */
  requestedAt: number
  /** Ticks that have seen it, and after how many it was first healthy. */
  ticks: number
  healthyAfterTicks: number | null
  /** Consecutive ticks answered `unreachable`. */
  unreachableTicks: number
  stuckReason: string | null
}

/** One tool a template asks for: the body of `POST /provision/{instanceId}/{toolId}` plus its id. */
export type TemplateTool = { toolId: Schemas['ToolId'] } & Schemas['ProvisionRequest']

/** What a user gets on claim: the agent's name and instructions, and the tools it needs. */
export interface Template {
  agentName: string
  instructions: string
  model?: string
  joinUrl?: string
  tools?: TemplateTool[]
}

export interface Claimed {
  instanceId: string
  inviteUrl: string | null
  conversationId: string | null
  /** What services answered for each of the template's tools (ids and non-secret config, e.g. the inbox). */
  tools: Schemas['ToolResource'][]
}

export interface TickReport {
  created: string[]
  /** Stuck instances destroyed this tick, and why they were judged stuck. */
  destroyed: { instanceId: string; reason: string }[]
  /** Calls that failed this tick (the tick itself goes on; the next one tries again). */
  errors: string[]
}

export interface PoolOptions {
  client: ServicesClient
  minIdle: number
  newInstanceId?: () => string
  /** Extra variables for every instance, e.g. SERVICES_URL so the agent can call services back. */
  env?: Record<string, string>
  /** A ready instance unreachable this many ticks in a row is stuck (default 3: one slow ping is not enough). */
  unreachableTicks?: number
  /** A creation not healthy after this long is stuck (default 16 min: services gives up at 15). */
  creatingDeadlineMs?: number
  now?: () => number
}

export interface Pool {
  /** One round: status of every instance, stuck ones destroyed, idle ones topped up to `minIdle`. */
  tick(): Promise<TickReport>
  /** Takes a ready idle instance, provisions the template's tools, configures the agent. */
  claim(template: Template): Promise<Claimed>
  /** Destroys an instance (claimed or not) and forgets it. */
  release(instanceId: string): Promise<void>
  instances(): PoolInstance[]
}

export function createPool(options: PoolOptions): Pool {
  const { client, minIdle } = options
  const newInstanceId = options.newInstanceId ?? (() => `pool-${crypto.randomUUID().slice(0, 13)}`)
  const unreachableLimit = options.unreachableTicks ?? 3
  const creatingDeadlineMs = options.creatingDeadlineMs ?? 16 * 60_000
  const now = options.now ?? Date.now
  const known = new Map<string, PoolInstance>()
  let running: Promise<TickReport> | undefined

  const idle = () => [...known.values()].filter((i) => i.state === 'creating' || i.state === 'ready')

  /** Applies one status answer to an instance; a claimed instance is the user's, so it is only watched. */
  function observe(instance: PoolInstance, status: Schemas['InstanceStatus']) {
    instance.ticks += 1
    instance.status = status.status
    instance.deployStatus = status.deployStatus
    instance.latencyMs = status.health?.latencyMs ?? null
    instance.runtimeReady = status.health && status.health.latencyMs !== null ? status.health.ready : null
    instance.unreachableTicks = status.status === 'unreachable' ? instance.unreachableTicks + 1 : 0
    if (status.status === 'healthy') instance.healthyAfterTicks ??= instance.ticks
    if (instance.state === 'claimed' || instance.state === 'stuck') return

    if (status.status === 'healthy') instance.state = 'ready'
    else if (status.lifecycle === 'destroying' || status.lifecycle === 'destroyed')
      stuck(instance, `${status.lifecycle} outside the pool`)
    else if (status.status === 'deploy_failed') stuck(instance, `deploy failed (${status.lifecycle})`)
    // Only an instance that was healthy counts its unreachable ticks: a new runtime answers "not ready"
    // (unreachable) while it warms up, and the creation deadline covers one that never comes up.
    else if (instance.state === 'ready' && instance.unreachableTicks >= unreachableLimit)
      stuck(instance, `unreachable for ${instance.unreachableTicks} ticks`)
    else if (instance.state === 'creating' && now() - instance.requestedAt > creatingDeadlineMs)
      stuck(instance, `still creating after ${Math.round((now() - instance.requestedAt) / 1000)} s`)
  }

  function stuck(instance: PoolInstance, reason: string) {
    instance.state = 'stuck'
    instance.stuckReason = reason
  }

  /** Starts a creation and answers at once (202); the tick loop watches it from then on. */
  async function create(): Promise<string> {
    const instanceId = newInstanceId()
    // Tracked before the call: if the answer is lost, the next status read says whether it exists.
    known.set(instanceId, {
      instanceId,
      state: 'creating',
      status: null,
      deployStatus: null,
      latencyMs: null,
      runtimeReady: null,
      requestedAt: now(),
      ticks: 0,
      healthyAfterTicks: null,
      unreachableTicks: 0,
      stuckReason: null,
    })
    const { error } = await client.POST('/create-instance', {
      body: { instanceId, ...(options.env ? { env: options.env } : {}) },
      params: { header: { prefer: 'respond-async' } },
    })
    if (error) throw new ServicesProblemError(error)
    return instanceId
  }

  /** 200 (gone) and 202 (services finishes the cleanup itself) both let the pool forget the instance. */
  async function destroy(instanceId: string): Promise<void> {
    const { error, response } = await client.DELETE('/destroy/{instanceId}', {
      params: { path: { instanceId } },
    })
    if (error && response.status !== 404) throw new ServicesProblemError(error)
    known.delete(instanceId)
  }

  async function tickOnce(): Promise<TickReport> {
    const report: TickReport = { created: [], destroyed: [], errors: [] }
    const failed = (what: string) => (error: unknown) => {
      report.errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`)
    }

    const ids = [...known.keys()]
    if (ids.length > 0) {
      try {
        const { instances, notFound } = await statusOf(client, ids)
        for (const status of instances) {
          const instance = known.get(status.instanceId)
          if (instance) observe(instance, status)
        }
        // Services never heard of it (the create did not land) or it was destroyed elsewhere.
        for (const id of notFound) known.delete(id)
      } catch (error) {
        // Without statuses nothing can be judged; creating more could overshoot, so wait for the next tick.
        failed('status')(error)
        return report
      }
    }

    const stuckOnes = [...known.values()].filter((i) => i.state === 'stuck')
    await Promise.all(
      stuckOnes.map((i) =>
        destroy(i.instanceId).then(
          () => report.destroyed.push({ instanceId: i.instanceId, reason: i.stuckReason ?? 'stuck' }),
          failed(`destroy ${i.instanceId}`),
        ),
      ),
    )

    // Replacements and top-up are the same thing: stuck ones no longer count as idle.
    const missing = Math.max(0, minIdle - idle().length)
    await Promise.all(
      Array.from({ length: missing }, () => create().then((id) => report.created.push(id), failed('create'))),
    )
    return report
  }

  async function provision(instanceId: string, { toolId, ...body }: TemplateTool) {
    const { data, error } = await client.POST('/provision/{instanceId}/{toolId}', {
      params: { path: { instanceId, toolId } },
      body,
    })
    if (error) throw new ServicesProblemError(error)
    return data
  }

  return {
    tick() {
      // One tick at a time: overlapping ticks would both top up and overshoot `minIdle`.
      running ??= tickOnce().finally(() => {
        running = undefined
      })
      return running
    },

    async claim(template) {
      const instance = [...known.values()].find((i) => i.state === 'ready' && i.status === 'healthy')
      if (!instance) throw new Error('no ready instance to claim; try again after the next tick')
      // Marked before the first await, so a concurrent claim cannot take the same instance.
      instance.state = 'claimed'
      const { instanceId } = instance
      try {
        // One at a time, in the template's order: each answer is small and a failure names its tool.
        const tools: Schemas['ToolResource'][] = []
        for (const tool of template.tools ?? []) tools.push(await provision(instanceId, tool))
        const { data, error } = await client.POST('/configure/{instanceId}', {
          params: { path: { instanceId } },
          body: {
            agentName: template.agentName,
            instructions: template.instructions,
            ...(template.model ? { model: template.model } : {}),
            ...(template.joinUrl ? { joinUrl: template.joinUrl } : {}),
          },
        })
        if (error) throw new ServicesProblemError(error)
        return { instanceId, inviteUrl: data.inviteUrl, conversationId: data.conversationId, tools }
      } catch (error) {
        // A half-equipped agent must not go to the next user: destroy it; the next tick tops up.
        await destroy(instanceId).catch(() => stuck(instance, 'claim failed; destroy failed too'))
        throw error
      }
    },

    release: destroy,

    instances: () => [...known.values()].map((i) => ({ ...i })),
  }
}
