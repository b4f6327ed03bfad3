import type { GraphQLFieldResolver } from 'graphql'
import { userError } from '../errors.js'
import type { RailwayState } from '../state.js'
import type { ServiceInstanceState, ServiceRecord } from '../store.js'

export type Resolver = GraphQLFieldResolver<unknown, RailwayState, Record<string, unknown>>

/** Resolvers by type name, then field name; `createRailwaySchema` refuses names the schema lacks. */
export type ResolverMap = Record<string, Record<string, Resolver>>

/** Types a resolver's source and arguments (graphql-js has already checked them against the schema). */
export function field<Source, Args = Record<string, never>>(
  resolve: (source: Source, args: Args, state: RailwayState) => unknown,
): Resolver {
  return (source, args, state) => resolve(source as Source, args as Args, state)
}

/** A service in one environment: the source of every `ServiceInstance` field. */
export interface InstanceRef {
  service: ServiceRecord
  instance: ServiceInstanceState
}

export function mustProject(state: RailwayState, id: string) {
  const project = state.store.get('project', id)
  if (!project) throw userError('Project not found')
  return project
}

export function mustEnvironment(state: RailwayState, id: string, projectId?: string) {
  const environment = state.store.get('environment', id)
  if (!environment || (projectId !== undefined && environment.projectId !== projectId)) {
    throw userError('Environment not found')
  }
  return environment
}

export function mustService(state: RailwayState, id: string, projectId?: string) {
  const service = state.store.get('service', id)
  if (!service || (projectId !== undefined && service.projectId !== projectId))
    throw userError('Service not found')
  return service
}

export function mustInstance(state: RailwayState, serviceId: string, environmentId: string): InstanceRef {
  const service = state.store.get('service', serviceId)
  const instance = service?.instances[environmentId]
  if (!service || !instance) throw userError('ServiceInstance not found')
  return { service, instance }
}

export function mustDeployment(state: RailwayState, id: string) {
  const deployment = state.store.get('deployment', id)
  if (!deployment) throw userError('Deployment not found')
  return deployment
}
