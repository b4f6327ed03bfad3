import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { escapePointerSegment } from '../../src/http/problem.js'

type Json = Record<string, unknown>
interface Operation {
  requestBody?: Json
  responses?: Record<string, Json>
}
export interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components?: Record<string, Record<string, Json>>
}

/**
 * Validates requests and responses against an OpenAPI 3.0 or 3.1 document: ours, or a provider's
 * published one. The whole document is added to Ajv (2020-12) once and bodies are validated by JSON
 * pointer into it, so `$ref`s resolve as the document wrote them. 3.0's `nullable` is rewritten to 3.1's
 * type arrays first. Every method returns a list of violations; empty means the message conforms.
 */
export class OpenApiValidator {
  readonly #doc: OpenApiDocument
  readonly #ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true })
  readonly #id: string

  constructor(doc: OpenApiDocument, id = 'doc') {
    this.#doc = doc.openapi.startsWith('3.0')
      ? (rewriteNullable(structuredClone(doc)) as OpenApiDocument)
      : doc
    this.#id = id
    addFormats.default(this.#ajv)
    this.#ajv.addSchema(this.#doc as object, id)
  }

  /** The document's path template a concrete path matches (`/keys/abc` → `/keys/{hash}`), literal ones first. */
  templateFor(method: string, path: string): string | undefined {
    const segments = path.split('?')[0]?.split('/') ?? []
    const candidates = Object.keys(this.#doc.paths).filter((template) => {
      const parts = template.split('/')
      return (
        this.#doc.paths[template]?.[method.toLowerCase()] !== undefined &&
        parts.length === segments.length &&
        parts.every((part, i) => part.startsWith('{') || part === segments[i])
      )
    })
    return candidates.sort((a, b) => a.split('{').length - b.split('{').length)[0]
  }

  requestViolations(method: string, path: string, body: unknown, contentType = 'application/json'): string[] {
    const found = this.#operation(method, path)
    if (typeof found === 'string') return [found]
    const { operation, pointer } = found
    if (!operation.requestBody) return body === undefined ? [] : [`${method} ${path} takes no body`]
    const [requestBody, base] = this.#resolve(operation.requestBody, `${pointer}/requestBody`)
    if (body === undefined) return requestBody.required ? ['the body is required'] : []
    const content = requestBody.content as Record<string, Json> | undefined
    if (!content?.[contentType]) return [`content type ${contentType} is not declared`]
    return this.violationsAt(`${base}/content/${escapePointerSegment(contentType)}/schema`, body)
  }

  responseViolations(
    method: string,
    path: string,
    status: number,
    body: unknown,
    contentType = 'application/json',
  ): string[] {
    const found = this.#operation(method, path)
    if (typeof found === 'string') return [found]
    const { operation, pointer } = found
    const responses = operation.responses ?? {}
    const code = String(status)
    const key = [code, `${code[0]}XX`, `${code[0]}xx`, 'default'].find((candidate) => candidate in responses)
    if (!key) return [`${method} ${path} → ${status} is not declared`]
    const [response, base] = this.#resolve(
      responses[key] as Json,
      `${pointer}/responses/${escapePointerSegment(key)}`,
    )
    const content = response.content as Record<string, Json> | undefined
    if (!content) return body === undefined || body === '' ? [] : [`${status} declares no body`]
    // A declared media type may carry parameters (`text/plain; version=0.0.4`): match on the type itself.
    const declared = Object.keys(content).find((key) => mediaType(key) === mediaType(contentType))
    if (declared === undefined)
      return [`${status}: content type ${contentType} is not one of ${Object.keys(content)}`]
    if (!content[declared]?.schema) return []
    return this.violationsAt(`${base}/content/${escapePointerSegment(declared)}/schema`, body)
  }

  #operation(method: string, path: string): { operation: Operation; pointer: string } | string {
    const template = this.templateFor(method, path)
    if (!template) return `${method.toUpperCase()} ${path} is not in the document`
    const lower = method.toLowerCase()
    return {
      operation: this.#doc.paths[template]?.[lower] as Operation,
      pointer: `/paths/${escapePointerSegment(template)}/${lower}`,
    }
  }

  /** Follows a local `$ref` (to components) and returns the object with its pointer in the document. */
  #resolve(object: Json, pointer: string): [Json, string] {
    const ref = object.$ref
    if (typeof ref !== 'string') return [object, pointer]
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>(
        (node, segment) => (node as Json)?.[segment.replaceAll('~1', '/').replaceAll('~0', '~')],
        this.#doc,
      )
    return this.#resolve(target as Json, ref.replace(/^#/, ''))
  }

  /** Violations of `body` against the schema at a JSON pointer of the document, e.g. `/components/schemas/X`. */
  violationsAt(pointer: string, body: unknown): string[] {
    const check = this.#ajv.getSchema(`${this.#id}#${pointer}`)
    if (!check) return [`no schema at ${pointer}`]
    if (check(body)) return []
    return (check.errors ?? [])
      .slice(0, 10)
      .map((error) => `body${error.instancePath} ${error.message} (${pointer})`)
  }
}

/** `text/plain; version=0.0.4` → `text/plain`. */
const mediaType = (value: string) => (value.split(';')[0] ?? '').trim().toLowerCase()

/** OpenAPI 3.0 `nullable: true` → a JSON-Schema type array with "null" (what 3.1 and Ajv understand). */
function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable)
  if (!node || typeof node !== 'object') return node
  const object = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, rewriteNullable(value)]),
  ) as Json
  if (object.nullable === true) {
    delete object.nullable
    if (typeof object.type === 'string') object.type = [object.type, 'null']
    else if (object.enum) object.enum = [...(object.enum as unknown[]), null]
    else if (object.$ref || object.allOf || object.oneOf || object.anyOf) {
      return { anyOf: [object, { type: 'null' }] }
    }
  }
  return object
}
