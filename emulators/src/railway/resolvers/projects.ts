import { randomBytes } from 'node:crypto'
import type { EnvironmentRecord, ProjectRecord } from '../store.js'
import { checkWorkspace } from './query.js'
import { field, mustProject, type Resolver } from './resolver.js'

interface ProjectCreateInput {
  name?: string | null
  description?: string | null
  workspaceId?: string | null
  isPublic?: boolean | null
  prDeploys?: boolean | null
  defaultEnvironmentName?: string | null
}

export const projectResolvers: Record<string, Resolver> = {
  /**
   * Creates the project with one environment (`defaultEnvironmentName`, else "production"). Without
   * `workspaceId` the token's workspace is used [I]; another workspace is 'Not Authorized'.
   */
  projectCreate: field<unknown, { input: ProjectCreateInput }>((_, { input }, state) => {
    checkWorkspace(state, input.workspaceId)
    const project: ProjectRecord = {
      ...state.store.base(),
      name: input.name || `project-${randomBytes(3).toString('hex')}`,
      description: input.description ?? null,
      workspaceId: state.workspace.id,
      isPublic: input.isPublic ?? false,
      prDeploys: input.prDeploys ?? false,
    }
    const environment: EnvironmentRecord = {
      ...state.store.base(),
      projectId: project.id,
      name: input.defaultEnvironmentName || 'production',
      isEphemeral: false,
      sharedVariables: {},
    }
    state.store.put('project', project)
    state.store.put('environment', environment)
    state.creations.begin(project.id)
    return project
  }),

  /** Removes the project with everything in it and stops its runtimes. */
  projectDelete: field<unknown, { id: string }>(async (_, { id }, state) => {
    await state.deleteProject(mustProject(state, id))
    return true
  }),
}
