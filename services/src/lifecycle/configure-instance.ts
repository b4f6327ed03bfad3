import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import { type InstanceInfra, instanceInfra } from '../db/schema.js'
import type { ConfigureRequest, ConfigureResult } from '../generated/schemas.js'
import { notReady } from '../http/problem.js'
import { ProviderError } from '../infra/http/provider-error.js'
import type { RailwayClient } from '../infra/railway/index.js'
import { runtimeCredentialOf } from './instance-env.js'
import { deliverLivePush, type LivePushDeps, queueLivePush } from './live-push.js'
import { readyInstance, serviceTargetOf } from './running-instance.js'

export interface ConfigureDeps extends LivePushDeps {
  railway: RailwayClient
  config: Pick<Config, 'tools'>
}

/** Pauses between provision attempts while the runtime warms up: 250 ms, doubling, at most 2 s. */
const RETRY_BASE_MS = 250
const RETRY_MAX_MS = 2_000
/** What a 503 tells the caller to wait before asking again. */
const RETRY_AFTER_SECONDS = 5

/**
 * `POST /configure/{instanceId}`. Each runtime provision opens (or joins) a conversation, so it must not
 * run twice for one body: the body's hash and the runtime's answer are stored, and a repeat gets the
 * stored answer. In this process one configuration runs per instance at a time: an identical request
 * joins the one in flight, a different one waits for it and then reconfigures.
 */
export function createConfigurer(deps: ConfigureDeps) {
  const inFlight = new Map<string, { hash: string; result: Promise<ConfigureResult> }>()

  return function configure(instanceId: string, body: ConfigureRequest): Promise<ConfigureResult> {
    const hash = configureHashOf(body)
    const current = inFlight.get(instanceId)
    if (current?.hash === hash) return current.result
    const previous = current?.result.catch(() => undefined)
    const result = (async () => {
      await previous
      return configureOnce(deps, instanceId, body, hash)
    })()
    const entry = { hash, result }
    inFlight.set(instanceId, entry)
    const forget = () => {
      if (inFlight.get(instanceId) === entry) inFlight.delete(instanceId)
    }
    result.then(forget, forget)
    return result
  }
}

/** SHA-256 of the body in a fixed field order, absent optional fields as null. */
export function configureHashOf(body: ConfigureRequest): string {
  const canonical = [body.agentName, body.instructions, body.model ?? null, body.joinUrl ?? null]
  return createHash('sha256').update(JSON.stringify(canonical), 'utf8').digest('hex')
}

async function configureOnce(
  deps: ConfigureDeps,
  instanceId: string,
  body: ConfigureRequest,
  hash: string,
): Promise<ConfigureResult> {
  const deadline = Date.now() + deps.config.tools.configureWaitMs
  const row = await readyInstance(deps.db, instanceId, 'be configured')
  if (row.configureHash === hash && row.configureResult) return row.configureResult as ConfigureResult

  if (body.model) await setModel(deps, row, body.model)
  const answer = await provisionWhenReady(deps, row, body, deadline)
  const result: ConfigureResult = {
    ok: answer.ok,
    conversationId: answer.conversationId ?? null,
    inviteUrl: answer.inviteUrl ?? null,
    joined: answer.joined,
  }
  await deps.db
    .update(instanceInfra)
    .set({ configureHash: hash, configureResult: result })
    .where(eq(instanceInfra.instanceId, instanceId))
  return result
}

/**
 * Railway keeps the model for every later deploy; the running agent gets it through a live push (or
 * from the reaper, if the push fails now: the provision below does not depend on it).
 */
async function setModel(deps: ConfigureDeps, row: InstanceInfra, model: string) {
  const env = { OPENCLAW_PRIMARY_MODEL: model }
  await deps.railway.upsertVariables(serviceTargetOf(row), env, { skipDeploys: true })
  await queueLivePush(deps, row.instanceId, env)
  await deliverLivePush(deps, row.instanceId)
}

/**
 * The runtime answers 503 until its gateway is up (also for a while after the model push restarted it):
 * ask again with a short backoff until the deadline, then tell the caller to come back later.
 */
async function provisionWhenReady(
  deps: ConfigureDeps,
  row: InstanceInfra,
  body: ConfigureRequest,
  deadline: number,
) {
  if (!row.url) throw new Error(`ready instance ${row.instanceId} has no URL`)
  const credential = runtimeCredentialOf(deps.secretBox, row)
  const request = {
    agentName: body.agentName,
    instructions: body.instructions,
    ...(body.joinUrl ? { joinUrl: body.joinUrl } : {}),
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.runtime.provision(row.url, credential, request)
    } catch (error) {
      if (!(error instanceof ProviderError && error.status === 503)) throw error
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      throw notReady(
        `instance ${row.instanceId} is still warming up after ${deps.config.tools.configureWaitMs} ms; repeat the request`,
        RETRY_AFTER_SECONDS,
      )
    }
    await sleep(Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS, remaining))
  }
}
