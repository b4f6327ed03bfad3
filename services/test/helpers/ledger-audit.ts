import { createHash } from 'node:crypto'
import { hexToBytes } from '@noble/hashes/utils.js'
import type { RunningEmulators } from '../../../emulators/src/start-emulators.js'
import { hashToken } from '../../src/auth/tokens.js'
import type { DatabaseHandle } from '../../src/db/open-database.js'
import { instanceInfra, instanceServices, instanceSteps } from '../../src/db/schema.js'
import { projectNameFor } from '../../src/infra/railway/index.js'
import { runtimeCredentialOf } from '../../src/lifecycle/instance-env.js'
import { addressOf } from '../../src/plugins/wallet.js'
import type { SecretBox } from '../../src/secrets/secret-box.js'

interface Named {
  id: string
  name: string
}
interface Owned {
  id: string
  projectId: string
}
interface Service extends Owned {
  name: string
  instances: Record<string, { variables: Record<string, string> }>
}
interface Domain extends Owned {
  serviceId: string
  domain: string
}
interface Deployment extends Owned {
  serviceId: string
}

/**
 * The ledgers of the providers no creation here uses, as they were before the run: they must not move.
 * With `withEmail` AgentMail is left out: the run provisions inboxes, and the audit checks them instead.
 */
export function untouchedLedgers(emulators: RunningEmulators, { withEmail = false } = {}): string {
  const { agentmail, telnyx, bankr } = emulators
  const untouched = withEmail ? [telnyx, bankr] : [agentmail, telnyx, bankr]
  return JSON.stringify(untouched.map((emulator) => emulator.ledger.snapshot().created))
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/**
 * Compares every emulator's live resources with the services database and returns what disagrees (none
 * = consistent). Run when no work is in flight. Rules: each `ready` instance has exactly one project
 * (deterministically named), one environment's worth of service, volume and domain, one OpenRouter key and
 * one wallet, all with the ids the database recorded, and its service carries the secrets the database
 * knows; any other instance holds nothing anywhere; nothing at a provider belongs to no instance.
 */
export async function auditLedgers(
  database: DatabaseHandle,
  emulators: RunningEmulators,
  secretBox: SecretBox,
  baseline: string,
  /** The run provisions AgentMail inboxes: each live one must be an active email row's, and vice versa. */
  { withEmail = false } = {},
): Promise<string[]> {
  const problems: string[] = []
  const { db } = database
  const instances = await db.select().from(instanceInfra)
  const tools = await db.select().from(instanceServices)
  const steps = await db.select().from(instanceSteps)
  const railway = emulators.railway.ledger
  const projects = railway.all<Named>('project')
  const environments = railway.all<Owned>('environment')
  const services = railway.all<Service>('service')
  const volumes = railway.all<Owned>('volume')
  const domains = railway.all<Domain>('domain')
  const deployments = railway.all<Deployment>('deployment')
  const keys = emulators.openrouter.ledger.all<Named & { hash: string }>('key')
  const holding = new Set<string>()

  for (const instance of instances) {
    const id = instance.instanceId
    const own = tools.filter((row) => row.instanceId === id)
    const unfinished = own.filter((row) => row.status !== 'active' && row.status !== 'destroyed')
    if (unfinished.length > 0) {
      problems.push(`${id}: tool rows left ${unfinished.map((r) => `${r.toolId}=${r.status}`).join(', ')}`)
    }
    const named = projects.filter((project) => project.name === projectNameFor(id))
    if (instance.lifecycle !== 'ready') {
      if (instance.lifecycle !== 'destroyed' && instance.lifecycle !== 'failed') {
        problems.push(`${id}: stuck ${instance.lifecycle}`)
      }
      if (named.length > 0) problems.push(`${id} (${instance.lifecycle}): ${named.length} live project(s)`)
      const live = own.filter((row) => row.status !== 'destroyed')
      if (live.length > 0) problems.push(`${id} (${instance.lifecycle}): ${live.length} live tool row(s)`)
      continue
    }
    if (named.length !== 1) problems.push(`${id}: ${named.length} projects named ${projectNameFor(id)}`)
    // Its project is the one the database recorded; any other of that name is an orphan twin.
    const project = named.find((candidate) => candidate.id === instance.railwayProjectId)
    if (!project) {
      problems.push(`${id}: the project the database recorded is not live`)
      continue
    }
    holding.add(project.id)
    const undone = steps.filter((s) => s.instanceId === id && s.operation === 'create' && s.state !== 'done')
    if (undone.length > 0) problems.push(`${id}: ready with steps ${undone.map((s) => s.name).join(', ')}`)
    const inProject = <T extends Owned>(list: T[]) => list.filter((item) => item.projectId === project.id)
    const [service, ...extraServices] = inProject(services)
    const [volume, ...extraVolumes] = inProject(volumes)
    const [domain, ...extraDomains] = inProject(domains)
    if (!service || extraServices.length > 0) problems.push(`${id}: ${inProject(services).length} services`)
    if (!volume || extraVolumes.length > 0) problems.push(`${id}: ${inProject(volumes).length} volumes`)
    if (!domain || extraDomains.length > 0) problems.push(`${id}: ${inProject(domains).length} domains`)
    if (!service || !volume || !domain) continue
    if (service.id !== instance.railwayServiceId || service.name !== 'runtime') {
      problems.push(`${id}: service ${service.name}/${service.id} is not the DB's`)
    }
    if (volume.id !== instance.railwayVolumeId) problems.push(`${id}: volume differs from the DB`)
    if (domain.domain !== instance.railwayDomain || domain.serviceId !== service.id) {
      problems.push(`${id}: domain differs from the DB`)
    }

    const variables = service.instances[instance.railwayEnvironmentId ?? '']?.variables ?? {}
    if (hashToken(variables.INSTANCE_SERVICES_TOKEN ?? '') !== instance.tokenHash) {
      problems.push(`${id}: the service's INSTANCE_SERVICES_TOKEN is not the one whose hash is stored`)
    }
    if (variables.POOL_API_KEY !== runtimeCredentialOf(secretBox, instance)) {
      problems.push(`${id}: the service's POOL_API_KEY is not the stored runtime credential`)
    }
    const activeOf = (toolId: string) => own.filter((row) => row.toolId === toolId && row.status === 'active')
    const [keyRow, ...extraKeyRows] = activeOf('openrouter')
    const [walletRow, ...extraWalletRows] = activeOf('wallet')
    if (!keyRow || extraKeyRows.length > 0) problems.push(`${id}: ${activeOf('openrouter').length} key rows`)
    if (!walletRow || extraWalletRows.length > 0) {
      problems.push(`${id}: ${activeOf('wallet').length} wallet rows`)
    }
    const keysNamed = keys.filter((key) => key.name === `${id}:openrouter`)
    if (keysNamed.length !== 1) problems.push(`${id}: ${keysNamed.length} OpenRouter keys`)
    if (keyRow && keysNamed[0]?.hash !== keyRow.resourceId) problems.push(`${id}: key differs from the DB`)
    if (sha256(variables.OPENROUTER_API_KEY ?? '') !== keysNamed[0]?.hash) {
      problems.push(`${id}: the service's OPENROUTER_API_KEY is not its live key`)
    }
    const privateKey = variables.PRIVATE_WALLET_KEY ?? ''
    if (
      !walletRow ||
      variables.WALLET_ADDRESS !== walletRow.resourceId ||
      !/^0x[0-9a-f]{64}$/.test(privateKey) ||
      addressOf(hexToBytes(privateKey.slice(2))) !== walletRow.resourceId
    ) {
      problems.push(`${id}: the service's wallet is not the stored one`)
    }
    const health = await fetch(`${instance.url}/pool/health`, {
      headers: { authorization: `Bearer ${variables.POOL_API_KEY}` },
    }).catch(() => undefined)
    if (health?.status !== 200) problems.push(`${id}: its runtime does not answer at ${instance.url}`)
    await health?.body?.cancel()
  }

  // Orphans: resources that belong to no ready instance.
  const orphan = (kind: string, count: number) => count > 0 && problems.push(`${count} orphan ${kind}(s)`)
  orphan('project', projects.filter((project) => !holding.has(project.id)).length)
  for (const [kind, list] of [
    ['environment', environments],
    ['service', services],
    ['volume', volumes],
    ['domain', domains],
    ['deployment', deployments],
  ] as const) {
    orphan(kind, (list as Owned[]).filter((item) => !holding.has(item.projectId)).length)
  }
  const ownedKeys = new Set(tools.filter((row) => row.status === 'active').map((row) => row.resourceId))
  orphan('OpenRouter key', keys.filter((key) => !ownedKeys.has(key.hash)).length)
  if (withEmail) {
    const inboxes = new Set(
      emulators.agentmail.ledger.all<{ inbox_id: string }>('inbox').map((i) => i.inbox_id),
    )
    const activeEmail = tools.filter((row) => row.toolId === 'email' && row.status === 'active')
    const ownedInboxes = new Set(activeEmail.map((row) => row.resourceId))
    orphan('inbox', [...inboxes].filter((inbox) => !ownedInboxes.has(inbox)).length)
    for (const row of activeEmail) {
      if (!inboxes.has(row.resourceId ?? '')) problems.push(`${row.instanceId}: its inbox is not live`)
    }
  }
  if (untouchedLedgers(emulators, { withEmail }) !== baseline) {
    problems.push(`${withEmail ? '' : 'AgentMail, '}Telnyx or Bankr ledger changed`)
  }
  return problems
}
