import { userError } from '../errors.js'
import type { RailwayState } from '../state.js'
import { touch } from '../store.js'
import {
  field,
  type InstanceRef,
  mustDeployment,
  mustEnvironment,
  mustInstance,
  mustProject,
  mustService,
  type Resolver,
} from './resolver.js'

interface VariableCollectionUpsertInput {
  projectId: string
  environmentId: string
  serviceId?: string | null
  variables: Record<string, string>
  replace: boolean
  skipDeploys: boolean
}

interface VariableDeleteInput {
  projectId: string
  environmentId: string
  serviceId?: string | null
  name: string
}

/** The instances a variable change touches: one service, or (shared variables) every service there. */
function affected(
  state: RailwayState,
  input: { projectId: string; environmentId: string; serviceId?: string | null },
) {
  const project = mustProject(state, input.projectId)
  const environment = mustEnvironment(state, input.environmentId, project.id)
  if (input.serviceId) {
    mustService(state, input.serviceId, project.id)
    return { environment, instances: [mustInstance(state, input.serviceId, environment.id)] }
  }
  const instances = state.store
    .list('service', (s) => s.projectId === project.id && s.instances[environment.id] !== undefined)
    .flatMap((service) => {
      const instance = service.instances[environment.id]
      return instance ? [{ service, instance }] : []
    })
  return { environment, instances }
}

/** A variable change redeploys what has something to deploy (an image), as Railway does unless told not to. */
function redeployChanged(state: RailwayState, instances: InstanceRef[]) {
  for (const { service, instance } of instances) {
    if (instance.image) state.deploy(service, instance.environmentId, instance.image, 'variables')
  }
}

export const deployResolvers: Record<string, Resolver> = {
  /** Redeploys the latest deployment: its image, with the instance's current variables. */
  serviceInstanceRedeploy: field<unknown, { serviceId: string; environmentId: string }>((_, args, state) => {
    const { service } = mustInstance(state, args.serviceId, args.environmentId)
    const latest = state.latestDeployment(service.id, args.environmentId)
    if (!latest) throw userError('No deployment found for this service instance')
    state.deploy(service, args.environmentId, latest.image, 'redeploy')
    return true
  }),

  /** Deploys the instance's current source (e.g. the image set by serviceInstanceUpdate); returns the id. */
  serviceInstanceDeployV2: field<unknown, { serviceId: string; environmentId: string }>((_, args, state) => {
    const { service, instance } = mustInstance(state, args.serviceId, args.environmentId)
    if (!instance.image) throw userError('Service instance has no source to deploy')
    return state.deploy(service, args.environmentId, instance.image, 'deploy').id
  }),

  /** A new deployment from that deployment's image (`usePreviousImageTag` changes nothing here). */
  deploymentRedeploy: field<unknown, { id: string; usePreviousImageTag?: boolean | null }>(
    (_, { id }, state) => {
      const deployment = mustDeployment(state, id)
      const service = mustService(state, deployment.serviceId)
      return state.deploy(service, deployment.environmentId, deployment.image, 'redeploy')
    },
  ),

  variableCollectionUpsert: field<unknown, { input: VariableCollectionUpsertInput }>(
    (_, { input }, state) => {
      const { environment, instances } = affected(state, input)
      if (input.serviceId) {
        for (const { instance } of instances) {
          instance.variables = input.replace
            ? { ...input.variables }
            : { ...instance.variables, ...input.variables }
          touch(instance)
        }
      } else {
        environment.sharedVariables = input.replace
          ? { ...input.variables }
          : { ...environment.sharedVariables, ...input.variables }
        touch(environment)
      }
      if (!input.skipDeploys) redeployChanged(state, instances)
      return true
    },
  ),

  /** Deletes one variable; like an upsert without `skipDeploys` (the input has none), it redeploys [I]. */
  variableDelete: field<unknown, { input: VariableDeleteInput }>((_, { input }, state) => {
    const { environment, instances } = affected(state, input)
    const holder = input.serviceId ? instances[0]?.instance : environment
    if (!holder) return true
    const variables = 'variables' in holder ? holder.variables : holder.sharedVariables
    if (!(input.name in variables)) return true
    delete variables[input.name]
    touch(holder)
    redeployChanged(state, instances)
    return true
  }),
}
