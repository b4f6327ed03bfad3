import { connection, type PageArgs, type SortKey } from '../connection.js'
import { notAuthorized } from '../errors.js'
import type { RailwayState } from '../state.js'
import type { DeploymentStatus, ProjectRecord } from '../store.js'
import {
  field,
  mustDeployment,
  mustEnvironment,
  mustInstance,
  mustProject,
  mustService,
  type Resolver,
} from './resolver.js'

type ProjectsOrderBy = 'CREATED_AT_DESC' | 'NAME_ASC' | 'UPDATED_AT_DESC'

interface DeploymentListInput {
  projectId?: string | null
  environmentId?: string | null
  serviceId?: string | null
  status?: { in?: DeploymentStatus[] | null; notIn?: DeploymentStatus[] | null } | null
}

/** With no `orderBy`, projects come oldest first, so paging through a growing list misses nothing. */
export function projectOrder(
  orderBy: ProjectsOrderBy | null | undefined,
): (project: ProjectRecord) => SortKey {
  switch (orderBy) {
    case 'CREATED_AT_DESC':
      return (p) => [-p.seq]
    case 'NAME_ASC':
      return (p) => [p.name, p.seq]
    case 'UPDATED_AT_DESC':
      return (p) => [-Date.parse(p.updatedAt), -p.seq]
    default:
      return (p) => [p.seq]
  }
}

/** A workspace token sees its own workspace only. */
export function checkWorkspace(state: RailwayState, workspaceId: string | null | undefined) {
  if (workspaceId !== null && workspaceId !== undefined && workspaceId !== state.workspace.id)
    throw notAuthorized()
}

export const queryResolvers: Record<string, Resolver> = {
  project: field<unknown, { id: string }>((_, { id }, state) => mustProject(state, id)),

  projects: field<unknown, PageArgs & { workspaceId?: string | null; orderBy?: ProjectsOrderBy | null }>(
    (_, args, state) => {
      checkWorkspace(state, args.workspaceId)
      return connection(state.store.list('project'), projectOrder(args.orderBy), args)
    },
  ),

  workspace: field<unknown, { workspaceId: string }>((_, { workspaceId }, state) => {
    checkWorkspace(state, workspaceId)
    return state.workspace
  }),

  environments: field<unknown, PageArgs & { projectId: string; isEphemeral?: boolean | null }>(
    (_, args, state) => {
      mustProject(state, args.projectId)
      const environments = state.store.list(
        'environment',
        (e) =>
          e.projectId === args.projectId && (args.isEphemeral == null || e.isEphemeral === args.isEphemeral),
      )
      return connection(environments, (e) => [e.seq], args)
    },
  ),

  environment: field<unknown, { id: string; projectId?: string | null }>((_, { id, projectId }, state) =>
    mustEnvironment(state, id, projectId ?? undefined),
  ),

  service: field<unknown, { id: string }>((_, { id }, state) => mustService(state, id)),

  serviceInstance: field<unknown, { serviceId: string; environmentId: string }>((_, args, state) =>
    mustInstance(state, args.serviceId, args.environmentId),
  ),

  deployment: field<unknown, { id: string }>((_, { id }, state) => mustDeployment(state, id)),

  deployments: field<unknown, PageArgs & { input: DeploymentListInput }>((_, { input, ...page }, state) => {
    const { status } = input
    const deployments = state.store.list(
      'deployment',
      (d) =>
        (input.projectId == null || d.projectId === input.projectId) &&
        (input.environmentId == null || d.environmentId === input.environmentId) &&
        (input.serviceId == null || d.serviceId === input.serviceId) &&
        (!status?.in || status.in.includes(d.status)) &&
        !status?.notIn?.includes(d.status),
    )
    // `includeDeleted` changes nothing: deleted deployments are not kept. REMOVED ones are still listed
    // (they exist, superseded). Newest first, as Railway lists them.
    return connection(deployments, (d) => [-d.seq], page)
  }),

  variables: field<unknown, { projectId: string; environmentId: string; serviceId?: string | null }>(
    (_, args, state) => {
      const environment = mustEnvironment(state, args.environmentId, mustProject(state, args.projectId).id)
      if (args.serviceId == null) return { ...environment.sharedVariables }
      return { ...mustInstance(state, args.serviceId, environment.id).instance.variables }
    },
  ),
}
