import type { TSchema } from '@sinclair/typebox'
import fc from 'fast-check'
import { generateSync } from 'json-schema-faker'

/** One generated request, and whether the contract says it is valid (then it must not be refused). */
export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string
  valid: boolean
  /** What was done to a valid request, for the failure message. */
  mutation: string
}

export interface RouteShape {
  method: string
  url: string
  bodyRequired: boolean
  schema: { body?: TSchema; params?: TSchema; querystring?: TSchema; headers?: TSchema }
}

/** A value the schema accepts, from json-schema-faker with a seed fast-check chose (so it shrinks). */
const fromSchema = (schema: TSchema) =>
  fc
    .integer({ min: 1, max: 2 ** 31 - 1 })
    .map((seed) => generateSync(schema as Parameters<typeof generateSync>[0], { seed }) as unknown)

/** Ids that look like path tricks, unicode or injection: none may reach anything but a 4xx. */
const HOSTILE_IDS = [
  '..',
  '..%2F..%2Fetc',
  '%00',
  'a%2Fb',
  '%20',
  'ü-agent',
  "x'; drop table instance_infra;--",
  '-x',
  'a'.repeat(65),
]

/** Values of the wrong kind for any field. */
const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
)

function fillPath(url: string, params: Record<string, unknown>) {
  return url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(String(params[name])))
}

/**
 * `.` and `..` cannot travel as a path segment: every WHATWG URL parser (fetch, undici, inject) resolves
 * them away, `%2E` included. The spec's ResourceId pattern allows them (a gap to close at the next major
 * version; no provider issues such an id), so the valid requests leave them out.
 */
const addressable = (params: Record<string, unknown>) =>
  Object.values(params).every((value) => value !== '.' && value !== '..')

function query(values: unknown): string {
  if (!values || typeof values !== 'object') return ''
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(values)) if (value !== undefined) search.set(key, String(value))
  const text = search.toString()
  return text ? `?${text}` : ''
}

/**
 * Requests for one operation, drawn from its own schemas: valid ones (params, query, headers and body the
 * schema accepts, with `knownIds` mixed into the ids so real rows are reached), and mutations of those
 * (a required field dropped, an unknown field, a value of the wrong type, a huge string, hostile ids,
 * malformed JSON, another content type, an oversized body).
 */
export function requestArbitrary(
  route: RouteShape,
  auth: Record<string, string>,
  knownIds: Record<string, string[]>,
  bodyLimit: number,
  /**
   * Query values only the server can issue (a page `cursor`): a generated one is a forgery that must be
   * refused, so valid requests always carry an issued one; the mutations still try forged ones.
   */
  issued: Record<string, string[]> = {},
): fc.Arbitrary<FuzzRequest> {
  const params = route.schema.params
    ? fc.tuple(fromSchema(route.schema.params), fc.boolean(), fc.nat()).map(([generated, useKnown, pick]) => {
        const values = { ...(generated as Record<string, unknown>) }
        for (const [name, ids] of Object.entries(knownIds)) {
          if (useKnown && name in values && ids.length > 0) values[name] = ids[pick % ids.length]
        }
        return values
      })
    : fc.constant({})
  const querystring = route.schema.querystring
    ? fc.tuple(fromSchema(route.schema.querystring), fc.nat()).map(([generated, pick]) => {
        const values = { ...(generated as Record<string, unknown>) }
        for (const [name, tokens] of Object.entries(issued)) {
          if (name in values && tokens.length > 0) values[name] = tokens[pick % tokens.length]
        }
        return values
      })
    : fc.constant({})
  const body = route.schema.body ? fromSchema(route.schema.body) : fc.constant(undefined)

  const valid = fc
    .record({ params, querystring, body })
    .filter(({ params }) => addressable(params))
    .map(
      ({ params, querystring, body }): FuzzRequest => ({
        method: route.method,
        url: fillPath(route.url, params) + query(querystring),
        headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
        valid: true,
        mutation: 'none',
      }),
    )

  const mutated = fc
    .tuple(valid, fc.nat(), fc.string({ maxLength: 12 }), junk, fc.constantFrom(...HOSTILE_IDS))
    .map(([request, choice, name, value, hostileId]): FuzzRequest => {
      const object = request.payload ? (JSON.parse(request.payload) as Record<string, unknown>) : undefined
      const keys = object && typeof object === 'object' ? Object.keys(object) : []
      const key = keys[choice % Math.max(1, keys.length)]
      const json = 'application/json'
      const mutations: Array<() => FuzzRequest> = [
        () => ({
          ...request,
          url: route.url.replace(/:(\w+)/g, encodeURIComponent(hostileId)),
          mutation: `ids → ${hostileId}`,
        }),
        () => ({
          ...request,
          payload: '{"unterminated": ',
          headers: { ...request.headers, 'content-type': json },
          mutation: 'malformed JSON',
        }),
        () => ({
          ...request,
          payload: 'instanceId=a',
          headers: { ...request.headers, 'content-type': 'text/plain' },
          mutation: 'text/plain body',
        }),
        () => ({
          ...request,
          payload: JSON.stringify({ pad: 'x'.repeat(bodyLimit + 1) }),
          headers: { ...request.headers, 'content-type': json },
          mutation: 'oversized body',
        }),
      ]
      if (object && typeof object === 'object') {
        mutations.push(
          () => ({
            ...request,
            payload: JSON.stringify({ ...object, [`x_${name}`]: value }),
            mutation: `extra field x_${name}`,
          }),
          () => ({
            ...request,
            payload: JSON.stringify(Array.isArray(object) ? {} : [object]),
            mutation: 'array for object',
          }),
        )
        if (key) {
          mutations.push(
            () => ({
              ...request,
              payload: JSON.stringify({ ...object, [key]: value }),
              mutation: `${key} → ${JSON.stringify(value)}`,
            }),
            () => ({
              ...request,
              payload: JSON.stringify({ ...object, [key]: 'ü'.repeat(100_000) }),
              mutation: `${key} → huge string`,
            }),
            () => {
              const { [key]: _dropped, ...rest } = object
              return { ...request, payload: JSON.stringify(rest), mutation: `without ${key}` }
            },
          )
        }
      }
      const mutation = mutations[choice % mutations.length] as () => FuzzRequest
      // A mutation may happen to stay valid (an optional field dropped): it is then judged as unknown.
      return { ...mutation(), valid: false }
    })

  return fc.oneof(valid, mutated)
}
