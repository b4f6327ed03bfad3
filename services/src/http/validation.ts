import { Ajv2020, type Options } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

/**
 * Two Ajv instances, because the parts of a request differ: path, query and header values arrive as
 * strings and must be coerced to the spec's types; a JSON body must not be (Fastify's default coerces
 * bodies too, so `"1"` would pass as a number and `null` become `""`). Unknown body fields are refused,
 * never silently removed, and all errors are reported so a client can fix them in one go.
 */
function createAjv(options: Options) {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    removeAdditional: false,
    useDefaults: true,
    ...options,
  })
  addFormats.default(ajv)
  return ajv
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodies = createAjv({ coerceTypes: false })
  const strings = createAjv({ coerceTypes: true })
  return ({ schema, httpPart }) => (httpPart === 'body' ? bodies : strings).compile(schema as object)
}
