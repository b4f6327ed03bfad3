import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import t from 'tap'
import { stringify } from 'yaml'
import {
  CLIENT_PATH,
  findStale,
  main,
  ROUTES_PATH,
  renderFiles,
  SCHEMAS_PATH,
  SPEC_PATH,
  writeFiles,
} from '../generate.js'
import { GENERATED_HEADER, generateTypeBox, type OpenApiDocument } from '../openapi-to-typebox.js'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const generateScript = fileURLToPath(new URL('../generate.ts', import.meta.url))

type Json = unknown
type Module = Record<string, unknown>

/** A plain-JSON copy of an evaluated TypeBox schema (drops TypeBox's symbol keys). */
const json = (v: unknown): Json => JSON.parse(JSON.stringify(v))

/** Emitted code with the printer's line breaks undone: `Type.Object({ a: X, b: Y })`. */
const oneLine = (code: string): string =>
  code
    .replace(/,\s*\n\s*([}\])])/g, '\n$1')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/([[(]) /g, '$1')
    .replace(/ ([\])])/g, '$1')
    .trim()

function newAjv(options: SchemaCase['ajv'] = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, ...options })
  addFormats.default(ajv)
  return ajv
}

/** Writes the generated modules under a tap fixture dir inside the repo (so node_modules resolves) and imports them. */
async function load(
  dir: string,
  out: { schemas: string; routes: string },
): Promise<{ schemas: Module; routes: Module }> {
  writeFileSync(join(dir, 'schemas.ts'), out.schemas)
  writeFileSync(join(dir, 'routes.ts'), out.routes)
  const schemas = (await import(pathToFileURL(join(dir, 'schemas.ts')).href)) as Module
  const routes = (await import(pathToFileURL(join(dir, 'routes.ts')).href)) as Module
  return { schemas, routes }
}

/** Type-checks a fixture dir with the repository's compiler options. */
async function typecheck(dir: string): Promise<{ ok: boolean; output: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repoRoot, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true },
      include: ['*.ts'],
    }),
  )
  try {
    await run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir])
    return { ok: true, output: '' }
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

const doc = (schemas: Record<string, unknown>, extra: Record<string, unknown> = {}): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 'fixture', version: '1.0.0' },
  paths: {},
  components: { schemas },
  ...extra,
})

// ---------------------------------------------------------------------------------------------------
// Schemas: one table, one fixture document
// ---------------------------------------------------------------------------------------------------

interface SchemaCase {
  /** the components.schemas key */
  name: string
  schema: Json
  /** the JSON Schema the emitted TypeBox expression evaluates to */
  expected: Json
  /** the emitted source of `export const <name> = ...`, whitespace-normalised to one line, must match */
  code?: RegExp
  /** TypeScript type the generated `type <name>` must be mutually assignable with */
  static?: string
  valid: Json[]
  invalid: Json[]
  /** Ajv options relaxing strict mode for a schema that is valid JSON Schema but that Ajv's strict mode frowns on */
  ajv?: { allowUnionTypes?: boolean; strictRequired?: boolean }
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

const PetJson = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, tag: { type: 'string' } },
  additionalProperties: false,
}
const NamedJson = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } }

const schemaCases: SchemaCase[] = [
  {
    name: 'Pet',
    schema: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 }, tag: { type: 'string' } },
      additionalProperties: false,
    },
    expected: PetJson,
    code: /= Type\.Object\(\{ name: Type\.String\(\{ minLength: 1 \}\), tag: Type\.Optional\(Type\.String\(\)\) \}, \{ additionalProperties: false \}\)$/,
    static: '{ name: string; tag?: string }',
    valid: [{ name: 'x' }, { name: 'x', tag: 'y' }],
    invalid: [{}, { tag: 'y' }, { name: '' }, { name: 'x', extra: 1 }, { name: 1 }, null, 'x', []],
  },
  {
    name: 'Named',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    expected: NamedJson,
    valid: [{ name: 'x' }, { name: 'x', other: 1 }],
    invalid: [{}, { name: null }],
  },
  {
    name: 'Owner',
    schema: {
      type: 'object',
      required: ['pet'],
      properties: { pet: ref('Pet'), backup: ref('Pet') },
    },
    expected: { type: 'object', required: ['pet'], properties: { pet: PetJson, backup: PetJson } },
    code: /\{ pet: Pet, backup: Type\.Optional\(Pet\) \}/,
    static: '{ pet: Pet; backup?: Pet }',
    valid: [{ pet: { name: 'a' } }, { pet: { name: 'a' }, backup: { name: 'b', tag: 't' } }],
    invalid: [{}, { pet: {} }, { pet: { name: 'a' }, backup: { name: 'b', x: 1 } }],
  },
  {
    name: 'PetWithNote',
    schema: { $ref: '#/components/schemas/Pet', description: 'a pet, described' },
    expected: { allOf: [PetJson], description: 'a pet, described' },
    code: /^export const PetWithNote = Type\.Unsafe<Pet>\(\{ allOf: \[Pet\], description: "a pet, described" \}\)$/m,
    static: 'Pet',
    valid: [{ name: 'a' }],
    invalid: [{ name: 'a', extra: true }, {}],
  },
  {
    name: 'NullableString',
    schema: { type: ['string', 'null'], maxLength: 3, description: 'nullable' },
    expected: { type: ['string', 'null'], maxLength: 3, description: 'nullable' },
    code: /Type\.Unsafe<string \| null>\(\{ type: \["string", "null"\], maxLength: 3, description: "nullable" \}\)/,
    static: 'string | null',
    valid: [null, '', 'abc'],
    invalid: ['abcd', 1, false, {}],
  },
  {
    name: 'NullableInteger',
    schema: { type: ['integer', 'null'], minimum: 0 },
    expected: { type: ['integer', 'null'], minimum: 0 },
    static: 'number | null',
    valid: [null, 0, 7],
    invalid: [-1, 1.5, '1'],
  },
  {
    name: 'NullableObject',
    schema: {
      type: ['object', 'null'],
      required: ['a'],
      properties: { a: { type: 'integer' }, b: ref('Pet') },
      additionalProperties: false,
    },
    expected: {
      type: ['object', 'null'],
      required: ['a'],
      properties: { a: { type: 'integer' }, b: PetJson },
      additionalProperties: false,
    },
    static: '{ a: number; b?: Pet } | null',
    valid: [null, { a: 1 }, { a: 1, b: { name: 'x' } }],
    invalid: [{}, { a: 1, c: 2 }, 'x', { a: 1, b: {} }],
  },
  {
    name: 'NullableArray',
    schema: { type: ['array', 'null'], items: { type: 'string' }, maxItems: 1 },
    expected: { type: ['array', 'null'], items: { type: 'string' }, maxItems: 1 },
    static: 'string[] | null',
    valid: [null, [], ['a']],
    invalid: [['a', 'b'], [1], 'a'],
  },
  {
    name: 'MaybePet',
    schema: { oneOf: [ref('Pet'), { type: 'null' }] },
    expected: { oneOf: [PetJson, { type: 'null' }] },
    code: /Type\.Unsafe<Pet \| null>\(\{ oneOf: \[Pet, Type\.Null\(\)\] \}\)/,
    static: 'Pet | null',
    valid: [null, { name: 'x' }],
    invalid: [{}, 'x'],
  },
  {
    name: 'Color',
    schema: { type: 'string', enum: ['red', 'green'], description: 'a color', example: 'red' },
    expected: { type: 'string', enum: ['red', 'green'], description: 'a color' },
    code: /Type\.Unsafe<"red" \| "green">\(\{/,
    static: '"red" | "green"',
    valid: ['red', 'green'],
    invalid: ['blue', '', null, 1],
  },
  {
    name: 'MaybeColor',
    schema: { type: ['string', 'null'], enum: ['red', null] },
    expected: { type: ['string', 'null'], enum: ['red', null] },
    static: '"red" | null',
    valid: ['red', null],
    invalid: ['green', ''],
  },
  {
    name: 'Version',
    schema: { const: 'v1', description: 'fixed' },
    expected: { const: 'v1', type: 'string', description: 'fixed' },
    code: /Type\.Literal\("v1", \{ description: "fixed" \}\)/,
    static: '"v1"',
    valid: ['v1'],
    invalid: ['v2', null],
  },
  {
    name: 'ExactlyOne',
    schema: {
      oneOf: [
        { type: 'string', maxLength: 5 },
        { type: 'string', pattern: '^a' },
      ],
      discriminator: { propertyName: 'kind' },
    },
    expected: {
      oneOf: [
        { type: 'string', maxLength: 5 },
        { type: 'string', pattern: '^a' },
      ],
    },
    code: /Type\.Unsafe<string>\(\{ oneOf: \[Type\.String\(\{ maxLength: 5 \}\), Type\.String\(\{ pattern: "\^a" \}\)\] \}\)/,
    static: 'string',
    // 'abc' matches both branches: invalid under oneOf (it would be valid under TypeBox's anyOf Union)
    valid: ['xyz', 'abcdefg'],
    invalid: ['abc', 'zzzzzzz', 1],
  },
  {
    name: 'StringOrInt',
    schema: { anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'either' },
    expected: { anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'either' },
    code: /Type\.Union\(\[Type\.String\(\), Type\.Integer\(\)\], \{ description: "either" \}\)/,
    static: 'string | number',
    valid: ['a', 1],
    invalid: [1.5, null],
  },
  {
    name: 'AgedNamed',
    schema: {
      allOf: [
        ref('Named'),
        { type: 'object', required: ['age'], properties: { age: { type: 'integer', minimum: 0 } } },
      ],
    },
    expected: {
      type: 'object',
      allOf: [
        NamedJson,
        { type: 'object', required: ['age'], properties: { age: { type: 'integer', minimum: 0 } } },
      ],
    },
    code: /Type\.Intersect\(\[/,
    static: '{ name: string; age: number }',
    valid: [{ name: 'a', age: 1 }],
    invalid: [{ name: 'a' }, { age: 1 }, { name: 'a', age: -1 }],
  },
  {
    name: 'EnvMap',
    schema: {
      type: 'object',
      maxProperties: 2,
      propertyNames: { type: 'string', pattern: '^[A-Z]+$' },
      additionalProperties: { type: 'string', maxLength: 3 },
    },
    expected: {
      type: 'object',
      maxProperties: 2,
      propertyNames: { type: 'string', pattern: '^[A-Z]+$' },
      additionalProperties: { type: 'string', maxLength: 3 },
    },
    code: /Type\.Unsafe<Record<string, string>>\(\{/,
    static: 'Record<string, string>',
    valid: [{}, { A: 'x' }, { A: 'x', B: 'yyy' }],
    invalid: [{ a: 'x' }, { A: 1 }, { A: 'xxxx' }, { A: 'x', B: 'y', C: 'z' }, []],
  },
  {
    name: 'Counts',
    schema: { type: 'object', additionalProperties: { type: 'integer' } },
    expected: { type: 'object', additionalProperties: { type: 'integer' } },
    static: 'Record<string, number>',
    valid: [{}, { a: 1 }],
    // TypeBox's Record would use patternProperties '^(.*)$', which does not match a key with a newline
    invalid: [{ a: 'x' }, { 'line\nbreak': 'x' }],
  },
  {
    name: 'Flags',
    schema: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' } },
      additionalProperties: { type: 'boolean' },
    },
    expected: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' } },
      additionalProperties: { type: 'boolean' },
    },
    valid: [{ id: 'x' }, { id: 'x', on: true }],
    invalid: [{ id: 'x', on: 'yes' }, { on: true }],
  },
  {
    name: 'Closed',
    schema: { type: 'object', additionalProperties: false },
    expected: { type: 'object', properties: {}, additionalProperties: false },
    static: 'Record<string, never>',
    valid: [{}],
    invalid: [{ a: 1 }],
  },
  {
    name: 'Formats',
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        link: { type: 'string', format: 'uri' },
        mail: { type: 'string', format: 'email' },
      },
    },
    expected: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        link: { type: 'string', format: 'uri' },
        mail: { type: 'string', format: 'email' },
      },
    },
    static: '{ id?: string; at?: string; link?: string; mail?: string }',
    valid: [
      {},
      {
        id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
        at: '2024-05-01T12:00:00Z',
        link: 'https://example.com/a?b=c',
        mail: 'a@example.com',
      },
    ],
    invalid: [
      { id: 'not-a-uuid' },
      { at: '2024-05-01' },
      { at: '2024-05-01 12:00' },
      { link: 'not a uri' },
      { link: '/relative' },
      { mail: 'nobody' },
    ],
  },
  {
    name: 'Numbers',
    schema: {
      type: 'object',
      properties: {
        count: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        step: { type: 'integer', multipleOf: 5 },
        on: { type: 'boolean', default: false },
      },
    },
    expected: {
      type: 'object',
      properties: {
        count: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        step: { type: 'integer', multipleOf: 5 },
        on: { type: 'boolean', default: false },
      },
    },
    valid: [{ count: 1, ratio: 0.5, step: 10, on: true }],
    invalid: [
      { count: 0 },
      { count: 11 },
      { count: 1.5 },
      { ratio: 0 },
      { ratio: 1 },
      { step: 7 },
      { on: 'true' },
    ],
  },
  {
    name: 'Pets',
    schema: { type: 'array', items: ref('Pet'), minItems: 1, maxItems: 2, uniqueItems: true },
    expected: { type: 'array', items: PetJson, minItems: 1, maxItems: 2, uniqueItems: true },
    code: /Type\.Array\(Pet, \{ minItems: 1, maxItems: 2, uniqueItems: true \}\)/,
    static: 'Pet[]',
    valid: [[{ name: 'a' }], [{ name: 'a' }, { name: 'b' }]],
    invalid: [[], [{ name: 'a' }, { name: 'a' }], [{ name: 'a' }, { name: 'b' }, { name: 'c' }], [{}]],
  },
  {
    name: 'Annotated',
    schema: {
      type: 'string',
      title: 'T',
      description: 'D',
      default: 'x',
      examples: ['a'],
      readOnly: true,
      deprecated: true,
      $comment: 'c',
      example: 'a',
      'x-internal': true,
      externalDocs: { url: 'https://example.com' },
      xml: { name: 'n' },
    },
    expected: {
      type: 'string',
      title: 'T',
      description: 'D',
      default: 'x',
      examples: ['a'],
      readOnly: true,
      deprecated: true,
      $comment: 'c',
    },
    valid: ['a'],
    invalid: [1],
  },
  {
    name: 'Tricky',
    schema: {
      type: 'object',
      properties: {
        'content-type': { type: 'string', pattern: '^[\\u00e9\\s\'"`]+$' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal "${" that must survive emission
        '${x}*/': { type: 'string', description: '*/ ${x} \\ \u2028 é' },
        ['__proto__']: { type: 'integer' },
      },
    },
    expected: {
      type: 'object',
      properties: {
        'content-type': { type: 'string', pattern: '^[\\u00e9\\s\'"`]+$' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
        '${x}*/': { type: 'string', description: '*/ ${x} \\ \u2028 é' },
        ['__proto__']: { type: 'integer' },
      },
    },
    valid: [{ 'content-type': 'é "`\'' }],
    invalid: [{ 'content-type': 'x' }],
  },
  {
    name: 'Anything',
    schema: { description: 'any value' },
    expected: { description: 'any value' },
    code: /Type\.Unknown\(\{ description: "any value" \}\)/,
    static: 'unknown',
    valid: [null, 1, 'x', {}],
    invalid: [],
  },
  {
    name: 'Scalar',
    schema: { type: ['string', 'number', 'boolean', 'null'] },
    expected: { type: ['string', 'number', 'boolean', 'null'] },
    static: 'string | number | boolean | null',
    valid: ['a', 1, true, null],
    invalid: [{}, []],
    ajv: { allowUnionTypes: true },
  },
  {
    name: 'Dangling',
    schema: { type: 'object', required: ['id'], additionalProperties: { type: 'string' } },
    expected: { type: 'object', required: ['id'], additionalProperties: { type: 'string' } },
    valid: [{ id: 'x' }],
    invalid: [{}, { id: 1 }],
    ajv: { strictRequired: false },
  },
]

t.test('schemas: table of OpenAPI fragments → TypeBox', async (t) => {
  // Dependencies listed after their dependents on purpose: the output must be in dependency order.
  const ordered = [
    ...schemaCases.filter((c) => c.name !== 'Pet' && c.name !== 'Named'),
    ...schemaCases.slice(0, 2),
  ]
  const spec = doc(Object.fromEntries(ordered.map((c) => [c.name, c.schema])))
  const out = generateTypeBox(spec)
  t.ok(out.schemas.startsWith(`${GENERATED_HEADER}\n`), 'header comment')
  t.match(out.schemas, /^import \{ type Static, Type \} from '@sinclair\/typebox'$/m)
  t.equal(out.schemas.indexOf('\r'), -1)

  const dir = t.testdir()
  const { schemas } = await load(dir, out)
  const position = (name: string) => out.schemas.indexOf(`export const ${name} = `)
  t.ok(position('Pet') < position('Owner') && position('Named') < position('AgedNamed'), 'dependency order')
  t.same(Object.keys(schemas).sort(), schemaCases.map((c) => c.name).sort(), 'one export per schema')

  // A $ref is a reference to the named const, not a copy.
  const owner = schemas.Owner as { properties: Record<string, unknown> }
  t.equal(owner.properties.pet, schemas.Pet, 'Owner.pet is the Pet const itself')

  const strict = newAjv()
  for (const c of schemaCases) {
    t.test(c.name, async (t) => {
      const schema = schemas[c.name]
      t.same(json(schema), c.expected, 'evaluated JSON Schema')
      if (c.code) {
        const start = position(c.name)
        t.match(
          oneLine(out.schemas.slice(start, out.schemas.indexOf('\nexport type ', start))),
          c.code,
          'emitted code',
        )
      }
      const validate = (c.ajv ? newAjv(c.ajv) : strict).compile(schema as object)
      for (const v of c.valid) t.ok(validate(v), `valid: ${JSON.stringify(v)}`, { errors: validate.errors })
      for (const v of c.invalid) t.notOk(validate(v), `invalid: ${JSON.stringify(v)}`)
    })
  }

  t.test('static types', async (t) => {
    const withStatic = schemaCases.filter((c) => c.static !== undefined)
    writeFileSync(
      join(dir, 'types.ts'),
      [
        "import type * as S from './schemas.js'",
        'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false',
        'type Pet = S.Pet',
        ...withStatic.map((c) => `export const check${c.name}: Same<S.${c.name}, ${c.static}> = true`),
        '',
      ].join('\n'),
    )
    const result = await typecheck(dir)
    t.ok(result.ok, 'generated schemas.ts and the static type assertions typecheck', {
      output: result.output,
    })
  })
})

t.test('schemas: $ref cycles and unsupported input throw clear errors', async (t) => {
  const cases: Array<{ name: string; schemas: Record<string, unknown>; error: RegExp }> = [
    {
      name: 'cycle',
      schemas: { A: { type: 'object', properties: { b: ref('B') } }, B: { type: 'array', items: ref('A') } },
      error: /\$ref cycle A -> B -> A/,
    },
    {
      name: 'self reference',
      schemas: { Node: { type: 'object', properties: { next: ref('Node') } } },
      error: /cycle Node -> Node/,
    },
    {
      name: 'missing $ref target',
      schemas: { A: ref('Nope') },
      error: /#\/components\/schemas\/A\/\$ref: .*does not exist/,
    },
    {
      name: 'external $ref',
      schemas: { A: { $ref: 'other.yaml#/X' } },
      error: /unsupported \$ref "other\.yaml#\/X"/,
    },
    {
      name: 'OpenAPI 3.0 nullable',
      schemas: { A: { type: 'string', nullable: true } },
      error: /`nullable` is not supported in OpenAPI 3\.1/,
    },
    {
      name: 'unknown keyword',
      schemas: { A: { type: 'object', properties: { x: { type: 'string', maxlength: 3 } } } },
      error: /#\/components\/schemas\/A\/properties\/x: unsupported schema keyword "maxlength"/,
    },
    {
      name: '$dynamicRef',
      schemas: { A: { $dynamicRef: '#meta' } },
      error: /unsupported schema keyword "\$dynamicRef"/,
    },
    { name: 'bad type', schemas: { A: { type: 'text' } }, error: /invalid type "text"/ },
    {
      name: 'non-array examples',
      schemas: { A: { type: 'string', examples: { a: { value: 'x' } } } },
      error: /examples: must be an array/,
    },
    {
      name: 'name not an identifier',
      schemas: { 'my-schema': { type: 'string' } },
      error: /not usable as a TypeScript identifier/,
    },
    {
      name: 'name clashes with the import',
      schemas: { Type: { type: 'string' } },
      error: /"Type" is not usable/,
    },
  ]
  for (const c of cases) t.throws(() => generateTypeBox(doc(c.schemas)), c.error, c.name)
  t.throws(() => generateTypeBox({ ...doc({}), openapi: '3.0.3' }), /only OpenAPI 3\.1 is supported/)
})

t.test('schemas: output is deterministic', async (t) => {
  const spec = doc(Object.fromEntries(schemaCases.map((c) => [c.name, c.schema])))
  const a = generateTypeBox(spec)
  const b = generateTypeBox(structuredClone(spec))
  t.equal(a.schemas, b.schemas)
  t.equal(a.routes, b.routes)
})

// ---------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------

const problemRef = { $ref: '#/components/responses/Problem' }

function routesFixture(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: { title: 'fixture', version: '1.0.0' },
    security: [{ poolKey: [] }],
    components: {
      securitySchemes: {
        poolKey: { type: 'http', scheme: 'bearer' },
        instanceToken: { type: 'apiKey', in: 'header', name: 'x-instance-token' },
      },
      schemas: {
        Id: { type: 'string', minLength: 1, maxLength: 8, pattern: '^[a-z0-9-]+$' },
        Thing: {
          type: 'object',
          required: ['id'],
          properties: { id: ref('Id'), name: { type: ['string', 'null'] } },
        },
        CreateThing: {
          type: 'object',
          required: ['id'],
          properties: { id: ref('Id') },
          additionalProperties: false,
        },
        Problem: {
          type: 'object',
          required: ['type', 'status'],
          properties: { type: { type: 'string', format: 'uri' }, status: { type: 'integer' } },
        },
      },
      parameters: {
        IdParam: { name: 'id', in: 'path', required: true, schema: ref('Id') },
        Limit: {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        },
        LimitAlias: { $ref: '#/components/parameters/Limit' },
      },
      requestBodies: {
        CreateThingBody: {
          required: true,
          content: { 'application/json': { schema: ref('CreateThing') } },
        },
      },
      responses: {
        Problem: {
          description: 'problem',
          content: { 'application/problem+json': { schema: ref('Problem') } },
        },
        NotFound: { $ref: '#/components/responses/Problem' },
      },
    },
    paths: {
      '/things': {
        get: {
          operationId: 'listThings',
          parameters: [
            { $ref: '#/components/parameters/LimitAlias' },
            { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 100 } },
            { name: 'Prefer', in: 'header', schema: { type: 'string', enum: ['respond-async'] } },
            { name: 'X-Trace-Id', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'Accept', in: 'header', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { type: 'array', items: ref('Thing') } } },
            },
            '4XX': problemRef,
            default: problemRef,
          },
        },
        post: {
          operationId: 'createThing',
          security: [{ instanceToken: [] }, { poolKey: [] }],
          requestBody: { $ref: '#/components/requestBodies/CreateThingBody' },
          responses: {
            '201': {
              description: 'created',
              content: { 'application/json': { schema: ref('Thing') } },
            },
            '204': { description: 'nothing' },
            '400': problemRef,
          },
        },
      },
      '/things/{id}': {
        parameters: [{ $ref: '#/components/parameters/IdParam' }],
        get: {
          operationId: 'getThing',
          security: [],
          responses: {
            '200': { description: 'ok', content: { 'application/json': { schema: ref('Thing') } } },
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
        patch: {
          operationId: 'updateThing',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 3 } }],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { name: { type: 'string' } },
                  additionalProperties: false,
                },
              },
            },
          },
          responses: {
            '200': { description: 'ok', content: { 'application/json': { schema: ref('Thing') } } },
          },
        },
        'x-ignored': { note: 'extensions on path items are not operations' },
      },
      '/things/{id}/events/{kind}': {
        parameters: [{ $ref: '#/components/parameters/IdParam' }],
        get: {
          operationId: 'thingEvents',
          parameters: [{ name: 'kind', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'events',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '404': problemRef,
          },
        },
      },
    },
  }
}

interface RouteShape {
  method: string
  url: string
  security: readonly string[]
  bodyRequired: boolean
  schema: Record<string, unknown> & { response?: Record<string, unknown> }
}

t.test('routes: methods, urls, params, bodies, responses, security', async (t) => {
  const out = generateTypeBox(routesFixture())
  t.ok(out.routes.startsWith(`${GENERATED_HEADER}\n`), 'header comment')
  t.match(out.routes, /^import \* as S from '\.\/schemas\.js'$/m)
  t.match(out.routes, /\} as const\n\nexport type OperationId = keyof typeof routes\n$/)
  t.match(out.routes, /body: S\.CreateThing,/, 'a $ref body is emitted as S.<Name>')
  t.match(out.routes, /"4xx": S\.Problem,/)
  t.notMatch(out.routes, /event-stream/)

  const dir = t.testdir()
  const { schemas: S, routes: mod } = await load(dir, out)
  const routes = mod.routes as Record<string, RouteShape>
  t.same(
    Object.keys(routes),
    ['listThings', 'createThing', 'getThing', 'updateThing', 'thingEvents'],
    'spec order',
  )

  const list = routes.listThings as RouteShape
  t.same(
    { method: list.method, url: list.url, security: list.security, bodyRequired: list.bodyRequired },
    { method: 'GET', url: '/things', security: ['poolKey'], bodyRequired: false },
    'document-level security inherited',
  )
  t.same(Object.keys(list.schema), ['headers', 'querystring', 'response'])
  t.same(
    json(list.schema.headers),
    {
      type: 'object',
      required: ['x-trace-id'],
      properties: {
        prefer: { type: 'string', enum: ['respond-async'] },
        'x-trace-id': { type: 'string' },
      },
    },
    'header names lower-cased, Accept ignored (OpenAPI rule), optional headers not required',
  )
  t.same(json(list.schema.querystring), {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      cursor: { type: 'string', maxLength: 100 },
    },
  })
  t.same(Object.keys(list.schema.response ?? {}), ['200', '4xx', 'default'])
  t.equal(list.schema.response?.['4xx'], S.Problem, "'4XX' → '4xx', resolved through components.responses")
  t.same(json(list.schema.response?.['200']), { type: 'array', items: json(S.Thing) })

  const create = routes.createThing as RouteShape
  t.same(create.security, ['instanceToken', 'poolKey'], 'operation security overrides the document')
  t.equal(create.bodyRequired, true, 'required body through components.requestBodies')
  t.equal(create.schema.body, S.CreateThing, 'body is the named schema, not a copy')
  t.same(Object.keys(create.schema.response ?? {}), ['201', '400'], 'response without content (204) left out')

  const get = routes.getThing as RouteShape
  t.same(get.security, [], 'security: [] → []')
  t.equal(get.url, '/things/:id')
  t.same(json(get.schema.params), { type: 'object', required: ['id'], properties: { id: json(S.Id) } })
  t.equal((get.schema.params as { properties: { id: unknown } }).properties.id, S.Id)
  t.equal(get.schema.response?.['404'], S.Problem, 'response $ref chain NotFound → Problem')

  const update = routes.updateThing as RouteShape
  t.equal(update.method, 'PATCH')
  t.equal(update.bodyRequired, false, 'optional body')
  t.same(
    json(update.schema.params),
    {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', maxLength: 3 } },
    },
    'operation parameter overrides the path-level one',
  )
  t.same(json(update.schema.body), {
    type: 'object',
    properties: { name: { type: 'string' } },
    additionalProperties: false,
  })

  const events = routes.thingEvents as RouteShape
  t.equal(events.url, '/things/:id/events/:kind')
  t.same(Object.keys(json(events.schema.params) as { properties: object }).sort(), [
    'properties',
    'required',
    'type',
  ])
  t.same((json(events.schema.params) as { required: string[] }).required, ['id', 'kind'])
  t.same(Object.keys(events.schema.response ?? {}), ['404'], 'text/event-stream response left out')

  // Every emitted route schema compiles in strict mode.
  const ajv = newAjv()
  for (const [id, route] of Object.entries(routes)) {
    for (const [part, schema] of Object.entries(route.schema)) {
      const schemasOfPart = part === 'response' ? Object.values(schema as object) : [schema]
      for (const s of schemasOfPart) t.doesNotThrow(() => ajv.compile(s as object), `${id}.${part} compiles`)
    }
  }

  const typeCheck = await typecheck(dir)
  t.ok(typeCheck.ok, 'generated routes.ts typechecks', { output: typeCheck.output })
})

t.test('routes: unsupported input throws clear errors', async (t) => {
  type Mutation = (d: OpenApiDocument) => void
  const thingsGet = (d: OpenApiDocument) => d.paths['/things'].get
  const cases: Array<{ name: string; mutate: Mutation; error: RegExp }> = [
    {
      name: 'missing operationId',
      mutate: (d) => delete thingsGet(d).operationId,
      error: /\/get: operationId is required/,
    },
    {
      name: 'duplicate operationId',
      mutate: (d) => {
        d.paths['/things'].post.operationId = 'listThings'
      },
      error: /duplicate operationId "listThings"/,
    },
    {
      name: 'undeclared path parameter',
      mutate: (d) => {
        d.paths['/things/{id}/events/{kind}'].get.parameters = []
      },
      error: /path parameter \{kind\} is not declared/,
    },
    {
      name: 'declared path parameter not in the template',
      mutate: (d) => {
        thingsGet(d).parameters.push({
          name: 'ghost',
          in: 'path',
          required: true,
          schema: { type: 'string' },
        })
      },
      error: /path parameter ghost is not in the path template/,
    },
    {
      name: 'cookie parameter',
      mutate: (d) => {
        thingsGet(d).parameters.push({ name: 'session', in: 'cookie', schema: { type: 'string' } })
      },
      error: /cookie parameter "session" is not supported/,
    },
    {
      name: 'non-default parameter style',
      mutate: (d) => {
        thingsGet(d).parameters.push({
          name: 'tags',
          in: 'query',
          style: 'pipeDelimited',
          schema: { type: 'array' },
        })
      },
      error: /style "pipeDelimited" is not supported/,
    },
    {
      name: 'unknown security scheme',
      mutate: (d) => {
        thingsGet(d).security = [{ apiKey: [] }]
      },
      error: /security scheme "apiKey" is not defined/,
    },
    {
      name: 'AND-combined security',
      mutate: (d) => {
        thingsGet(d).security = [{ poolKey: [], instanceToken: [] }]
      },
      error: /combining poolKey AND instanceToken is not supported/,
    },
    {
      name: 'optional authentication',
      mutate: (d) => {
        thingsGet(d).security = [{ poolKey: [] }, {}]
      },
      error: /empty security requirement/,
    },
    {
      name: 'non-JSON request body',
      mutate: (d) => {
        d.paths['/things'].post.requestBody = { content: { 'text/plain': { schema: { type: 'string' } } } }
      },
      error: /request body without application\/json content is not supported/,
    },
    {
      name: 'mixed request body media types',
      mutate: (d) => {
        d.paths['/things'].post.requestBody = {
          content: {
            'application/json': { schema: ref('CreateThing') },
            'multipart/form-data': { schema: {} },
          },
        }
      },
      error: /media types other than application\/json are not supported/,
    },
    {
      name: 'json and problem+json with different schemas',
      mutate: (d) => {
        thingsGet(d).responses['200'].content['application/problem+json'] = { schema: ref('Problem') }
      },
      error: /have different schemas/,
    },
    {
      name: 'dangling parameter $ref',
      mutate: (d) => {
        thingsGet(d).parameters.push({ $ref: '#/components/parameters/Nope' })
      },
      error: /\$ref #\/components\/parameters\/Nope does not exist/,
    },
    {
      name: 'invalid status code',
      mutate: (d) => {
        thingsGet(d).responses['2xx0'] = { description: 'x' }
      },
      error: /invalid response status code "2xx0"/,
    },
    {
      name: 'literal colon in the path',
      mutate: (d) => {
        d.paths['/things:search'] = { get: { operationId: 'search', responses: {} } }
      },
      error: /unsupported characters in path/,
    },
    {
      name: 'unsupported schema inside a parameter',
      mutate: (d) => {
        thingsGet(d).parameters.push({ name: 'q', in: 'query', schema: { type: 'string', nullable: true } })
      },
      error: /#\/paths\/~1things\/get\/parameters\/5\/schema: OpenAPI 3\.0 `nullable`/,
    },
  ]
  for (const c of cases) {
    const spec = routesFixture()
    c.mutate(spec)
    t.throws(() => generateTypeBox(spec), c.error, c.name)
  }
})

// ---------------------------------------------------------------------------------------------------
// generate.ts: write, --check
// ---------------------------------------------------------------------------------------------------

function writeSpec(root: string, spec: OpenApiDocument): void {
  mkdirSync(join(root, 'openapi'), { recursive: true })
  writeFileSync(join(root, SPEC_PATH), stringify(spec))
}

t.test(
  'generate: writes the three files, then --check passes; stale/missing files fail --check',
  async (t) => {
    const root = t.testdir()
    writeSpec(root, routesFixture())
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(`out ${l}`), err: (l: string) => lines.push(`err ${l}`) }

    t.equal(await main(['--check', '--root', root], io), 1, 'nothing generated yet')
    for (const p of [SCHEMAS_PATH, ROUTES_PATH, CLIENT_PATH])
      t.ok(lines.includes(`err missing: ${p}`), `names ${p}`)

    lines.length = 0
    t.equal(await main(['--root', root], io), 0)
    t.same(lines, [`out wrote ${SCHEMAS_PATH}`, `out wrote ${ROUTES_PATH}`, `out wrote ${CLIENT_PATH}`])
    for (const p of [SCHEMAS_PATH, ROUTES_PATH, CLIENT_PATH]) {
      t.ok(readFileSync(join(root, p), 'utf8').startsWith(`${GENERATED_HEADER}\n`), `${p} has the header`)
    }
    const client = readFileSync(join(root, CLIENT_PATH), 'utf8')
    t.match(client, /export interface paths \{/)
    t.match(client, /listThings: \{/)

    lines.length = 0
    t.equal(await main(['--root', root], io), 0, 'second run is a no-op')
    t.same(lines, [
      `out unchanged ${SCHEMAS_PATH}`,
      `out unchanged ${ROUTES_PATH}`,
      `out unchanged ${CLIENT_PATH}`,
    ])
    t.equal(await main(['--check', '--root', root], io), 0, 'fresh files pass --check')

    // stale after a spec change, and the check writes nothing
    const spec = routesFixture()
    spec.components.schemas.Thing.properties.extra = { type: 'boolean' }
    writeSpec(root, spec)
    const before = readFileSync(join(root, SCHEMAS_PATH), 'utf8')
    const files = await renderFiles(spec, root)
    t.same(await findStale(root, files), [
      { path: SCHEMAS_PATH, reason: 'stale' },
      { path: CLIENT_PATH, reason: 'stale' },
    ])
    t.equal(readFileSync(join(root, SCHEMAS_PATH), 'utf8'), before, '--check logic writes nothing')
    t.same(await writeFiles(root, files), [SCHEMAS_PATH, CLIENT_PATH])
    t.same(await findStale(root, files), [])

    lines.length = 0
    t.equal(await main(['--root', root, '--bogus'], io), 2, 'unknown argument')
    writeFileSync(join(root, SPEC_PATH), stringify({ ...spec, openapi: '3.0.0' }))
    t.equal(await main(['--root', root], io), 1, 'generator errors exit 1')
    t.match(lines.join('\n'), /err generate: only OpenAPI 3\.1 is supported/)
  },
)

t.test('generate: the CLI exits 1 naming each stale or missing file (child process)', async (t) => {
  const root = t.testdir()
  writeSpec(root, routesFixture())
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', generateScript, '--root', root, ...args], { cwd: repoRoot })

  const written = await cli()
  t.match(written.stdout, `wrote ${ROUTES_PATH}`)
  const ok = await cli('--check')
  t.match(ok.stdout, 'up to date')

  writeFileSync(join(root, ROUTES_PATH), `${readFileSync(join(root, ROUTES_PATH), 'utf8')}// edited\n`)
  rmSync(join(root, CLIENT_PATH))
  let failed: { code?: number; stderr?: string } = {}
  try {
    await cli('--check')
    t.fail('--check should exit 1')
  } catch (err) {
    failed = err as typeof failed
  }
  t.equal(failed.code, 1)
  t.match(failed.stderr, `stale: ${ROUTES_PATH}`)
  t.match(failed.stderr, `missing: ${CLIENT_PATH}`)
  t.notMatch(failed.stderr, SCHEMAS_PATH, 'fresh files are not named')
  t.match(readFileSync(join(root, ROUTES_PATH), 'utf8'), /\/\/ edited\n$/, '--check wrote nothing')
})
