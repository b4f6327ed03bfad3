import { readFileSync } from 'node:fs'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify'
import { parse } from 'yaml'
import { SPEC_PATH } from '../../src/http/docs.js'
import { type OpenApiDocument, OpenApiValidator } from './openapi-validator.js'

export const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiDocument
const validator = new OpenApiValidator(spec, 'services')

type Assert = { same(found: unknown, wanted: unknown, message: string): unknown }

/**
 * Checks a response against our contract: the status is declared for the operation (exactly or by
 * range), the content type is one the spec declares, and the body validates against its schema. A path
 * that is in no operation must answer 404 with a problem document. Returns the violations (none = conforms).
 */
export function contractViolations(method: string, url: string, response: InjectResponse): string[] {
  const path = url.split('?')[0] as string
  const contentType = String(response.headers['content-type'] ?? '').split(';')[0] ?? ''
  const body = response.body === '' ? undefined : safeJson(response.body)
  if (!validator.templateFor(method, path)) {
    const problems =
      response.statusCode === 404
        ? []
        : [`${method} ${path} is in no operation but answered ${response.statusCode}`]
    if (contentType !== 'application/problem+json')
      problems.push(`content type ${contentType}, expected problem+json`)
    return [...problems, ...validator.violationsAt('/components/schemas/Problem', body)]
  }
  if (contentType === 'text/event-stream') return []
  return validator.responseViolations(method, path, response.statusCode, body, contentType)
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Asserts in a tap test that a response conforms to the contract. */
export function assertContract(t: Assert, method: string, url: string, response: InjectResponse) {
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
  t: Assert,
  app: FastifyInstance,
  options: InjectOptions & { url: string },
): Promise<InjectResponse> {
  const response = await app.inject(options)
  assertContract(t, options.method ?? 'GET', options.url, response)
  return response
}
