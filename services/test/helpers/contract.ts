import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify'
import { parse } from 'yaml'
import { SPEC_PATH } from '../../src/http/docs.js'
import { escapePointerSegment } from '../../src/http/problem.js'

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> } | { $ref: string }>
}
type Spec = {
  paths: Record<string, Record<string, Operation>>
  components: Record<string, Record<string, unknown>>
}

export const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as Spec

const ajv = new Ajv2020({ allErrors: true, strict: false })
addFormats.default(ajv)
ajv.addSchema(spec as object, 'spec')

/** The spec's path template that a concrete request path matches, e.g. `/destroy/{instanceId}`. */
function findTemplate(path: string, method: string): string | undefined {
  const segments = path.split('/')
  return Object.keys(spec.paths).find((template) => {
    const parts = template.split('/')
    return (
      parts.length === segments.length &&
      spec.paths[template]?.[method] !== undefined &&
      parts.every((part, i) => part.startsWith('{') || part === segments[i])
    )
  })
}

function resolveResponse(response: unknown): { content?: Record<string, { schema?: unknown }> } {
  const ref = (response as { $ref?: string }).$ref
  if (!ref) return response as { content?: Record<string, { schema?: unknown }> }
  const name = ref.split('/').pop() as string
  return spec.components.responses?.[name] as { content?: Record<string, { schema?: unknown }> }
}

/**
 * Checks a response against the contract: its status is declared for the operation (exactly or by
 * range), its content type is one the spec declares, and its body validates against that schema.
 * Unknown routes must answer the spec's `Problem`. Returns a list of violations (empty when it conforms).
 */
export function contractViolations(method: string, url: string, response: InjectResponse): string[] {
  const path = url.split('?')[0] as string
  const lowerMethod = method.toLowerCase()
  const contentType = String(response.headers['content-type'] ?? '').split(';')[0] ?? ''
  const body = response.body === '' ? undefined : safeJson(response.body)
  const template = findTemplate(path, lowerMethod)
  if (!template) {
    if (response.statusCode !== 404)
      return [`${method} ${path} is not in the spec but answered ${response.statusCode}`]
    return validate('spec#/components/schemas/Problem', body, contentType, 'application/problem+json')
  }
  const operation = spec.paths[template]?.[lowerMethod] as Operation
  const status = String(response.statusCode)
  const key = [status, `${status[0]}XX`, 'default'].find((candidate) => candidate in operation.responses)
  if (!key) return [`${method} ${template} answered ${status}, which the spec does not declare`]
  const declared = resolveResponse(operation.responses[key])
  const media = declared.content?.[contentType]
  if (!declared.content) return body === undefined ? [] : [`${status} must have no body`]
  if (!media) {
    return [
      `${method} ${template} ${status}: content type '${contentType}' is not one of ${Object.keys(declared.content).join(', ')}`,
    ]
  }
  if (contentType === 'text/event-stream') return []
  const pointer = `spec#/paths/${escapePointerSegment(template)}/${lowerMethod}/responses/${escapePointerSegment(key)}`
  const schemaPointer = (operation.responses[key] as { $ref?: string }).$ref
    ? `spec#/components/responses/${escapePointerSegment((operation.responses[key] as { $ref: string }).$ref.split('/').pop() as string)}`
    : pointer
  return validate(
    `${schemaPointer}/content/${escapePointerSegment(contentType)}/schema`,
    body,
    contentType,
    contentType,
  )
}

function validate(ref: string, body: unknown, contentType: string, expectedType: string): string[] {
  if (contentType !== expectedType) return [`content type '${contentType}', expected '${expectedType}'`]
  const check = ajv.getSchema(ref)
  if (!check) return [`no schema at ${ref}`]
  if (check(body)) return []
  return (check.errors ?? []).map((error) => `body${error.instancePath} ${error.message} (${ref})`)
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Asserts in a tap test that a response conforms to the contract. */
export function assertContract(
  t: { same(found: unknown, wanted: unknown, message: string): unknown },
  method: string,
  url: string,
  response: InjectResponse,
) {
  t.same(
    contractViolations(method, url, response),
    [],
    `${method} ${url} → ${response.statusCode} matches the spec`,
  )
}

/**
 * `app.inject` that also checks the response against the contract. Every test that talks HTTP goes
 * through this, so no response anywhere in the suite can drift from the spec unnoticed.
 */
export async function request(
  t: { same(found: unknown, wanted: unknown, message: string): unknown },
  app: FastifyInstance,
  options: InjectOptions & { url: string },
): Promise<InjectResponse> {
  const response = await app.inject(options)
  assertContract(t, options.method ?? 'GET', options.url, response)
  return response
}
