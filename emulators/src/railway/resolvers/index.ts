import { deployResolvers } from './deploys.js'
import { projectResolvers } from './projects.js'
import { queryResolvers } from './query.js'
import type { ResolverMap } from './resolver.js'
import { serviceResolvers } from './services.js'
import { typeResolvers } from './types.js'

/** Every resolver of the emulated schema. */
export const resolvers: ResolverMap = {
  Query: queryResolvers,
  Mutation: { ...projectResolvers, ...serviceResolvers, ...deployResolvers },
  ...typeResolvers,
}
