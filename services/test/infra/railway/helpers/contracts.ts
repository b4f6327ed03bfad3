import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from 'graphql'

/** `../shared/contracts` from the repo root, resolved from this file (never copied into the repo). */
export const CONTRACTS_DIR = fileURLToPath(new URL('../../../../../../shared/contracts/', import.meta.url))
const SCHEMA_FILE = `${CONTRACTS_DIR}railway-schema.json`

/** Tap's skip option when the contracts are not there, so the reason shows in the output. */
export const skipWithoutContracts = existsSync(SCHEMA_FILE)
  ? {}
  : { skip: `provider contracts not found at ../shared/contracts (${SCHEMA_FILE})` }

let schema: GraphQLSchema | undefined

/** Railway's published schema, built once. */
export function railwaySchema(): GraphQLSchema {
  if (!schema) {
    const introspection = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { data?: IntrospectionQuery }
    schema = buildClientSchema(introspection.data ?? (introspection as unknown as IntrospectionQuery))
  }
  return schema
}
