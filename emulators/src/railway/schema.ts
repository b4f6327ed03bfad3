import { readFileSync } from 'node:fs'
import { buildSchema, type GraphQLSchema, isObjectType, isScalarType, valueFromASTUntyped } from 'graphql'
import type { ResolverMap } from './resolvers/resolver.js'

const SDL = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')

/** Builds the emulator's schema from the SDL subset and attaches the resolvers and scalar parsers. */
export function createRailwaySchema(resolvers: ResolverMap): GraphQLSchema {
  const schema = buildSchema(SDL)
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName)
    if (!isObjectType(type)) throw new Error(`resolvers given for ${typeName}, which is not an object type`)
    const definitions = type.getFields()
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const definition = definitions[fieldName]
      if (!definition)
        throw new Error(`resolver given for ${typeName}.${fieldName}, which is not in the schema`)
      definition.resolve = resolve
    }
  }
  const variables = schema.getType('EnvironmentVariables')
  if (!isScalarType(variables)) throw new Error('schema.graphql lacks the EnvironmentVariables scalar')
  variables.parseValue = parseEnvironmentVariables
  variables.parseLiteral = (ast, vars) => parseEnvironmentVariables(valueFromASTUntyped(ast, vars))
  return schema
}

/** `EnvironmentVariables` is a map of variable names to string values. */
function parseEnvironmentVariables(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('EnvironmentVariables must be an object of string values')
  }
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw new TypeError(`Variable ${name} must be a string`)
  }
  return value as Record<string, string>
}
