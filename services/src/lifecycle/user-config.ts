import type { TSchema } from '@sinclair/typebox'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {
  CryptoUserConfig,
  EmailUserConfig,
  OpenRouterUserConfig,
  SmsUserConfig,
} from '../generated/schemas.js'
import { ProblemError } from '../http/problem.js'
import { fieldErrors } from '../http/problem-handlers.js'

/** The spec's user-config schemas by the name `/registry` gives them (`userConfigSchema`). */
const SCHEMAS: Record<string, TSchema> = {
  OpenRouterUserConfig,
  EmailUserConfig,
  SmsUserConfig,
  CryptoUserConfig,
}

const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: false })
addFormats.default(ajv)
const validators = new Map(Object.entries(SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]))

/**
 * The request's `userConfig` accepts any tool's shape; this checks it against the one tool's own schema,
 * answering 422 `UNPROCESSABLE` with the same field pointers (`errors[]`) as a body error.
 */
export function checkUserConfig(schemaName: string | null, userConfig: unknown): void {
  const validate = schemaName ? validators.get(schemaName) : undefined
  if (!validate) throw new Error(`no user-config schema named ${schemaName}`)
  if (validate(userConfig)) return
  const errors = fieldErrors('body', validate.errors ?? []).map((error) => ({
    ...error,
    pointer: `/userConfig${error.pointer}`,
  }))
  const first = errors[0]
  // 422: the body matched the spec's union of user configs, just not this tool's member of it.
  throw new ProblemError(
    422,
    'UNPROCESSABLE',
    first
      ? `body${first.pointer} ${first.message} (${schemaName})`
      : `body/userConfig does not match ${schemaName}`,
    { errors },
  )
}
