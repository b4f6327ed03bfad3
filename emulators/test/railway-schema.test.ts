import { readFileSync } from 'node:fs'
import {
  buildSchema,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isScalarType,
  isUnionType,
  parse,
  validate,
} from 'graphql'
import t from 'tap'
import { CONTRACTS_MISSING, DOCS, railwayContractSchema } from './railway-client.js'

const SDL = readFileSync(new URL('../src/railway/schema.graphql', import.meta.url), 'utf8')
const railway = railwayContractSchema()

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'object'
  if (isInputObjectType(type)) return 'input'
  if (isEnumType(type)) return 'enum'
  if (isScalarType(type)) return 'scalar'
  if (isInterfaceType(type)) return 'interface'
  if (isUnionType(type)) return 'union'
  return 'unknown'
}

t.test(
  'every type, field, argument and enum value of schema.graphql is Railway’s',
  { skip: railway ? false : CONTRACTS_MISSING },
  async (t) => {
    if (!railway) return
    const mine = buildSchema(SDL)
    const problems: string[] = []
    let checked = 0
    for (const type of Object.values(mine.getTypeMap())) {
      if (type.name.startsWith('__')) continue
      const theirs = railway.getType(type.name)
      checked += 1
      if (!theirs) {
        problems.push(`type ${type.name} is not in Railway's schema`)
        continue
      }
      if (kindOf(type) !== kindOf(theirs))
        problems.push(`${type.name} is a ${kindOf(type)}, Railway's a ${kindOf(theirs)}`)
      if (
        (isObjectType(type) || isInterfaceType(type)) &&
        (isObjectType(theirs) || isInterfaceType(theirs))
      ) {
        const theirFields = theirs.getFields()
        for (const field of Object.values(type.getFields())) {
          const their = theirFields[field.name]
          checked += 1
          if (!their) {
            problems.push(`${type.name}.${field.name} is not in Railway's schema`)
            continue
          }
          if (String(field.type) !== String(their.type)) {
            problems.push(`${type.name}.${field.name}: ${field.type} here, ${their.type} at Railway`)
          }
          for (const arg of field.args) {
            const theirArg = their.args.find((a) => a.name === arg.name)
            checked += 1
            if (!theirArg) problems.push(`${type.name}.${field.name}(${arg.name}) is not in Railway's schema`)
            else if (String(arg.type) !== String(theirArg.type)) {
              problems.push(
                `${type.name}.${field.name}(${arg.name}): ${arg.type} here, ${theirArg.type} at Railway`,
              )
            }
          }
          // A required argument left out here would let a document validate here and fail at Railway.
          for (const theirArg of their.args.filter(isRequiredArgument)) {
            if (!field.args.some((a) => a.name === theirArg.name)) {
              problems.push(`${type.name}.${field.name} lacks Railway's required argument ${theirArg.name}`)
            }
          }
        }
        for (const iface of type.getInterfaces()) {
          if (!theirs.getInterfaces().some((i) => i.name === iface.name)) {
            problems.push(`${type.name} implements ${iface.name}, Railway's does not`)
          }
        }
      }
      if (isInputObjectType(type) && isInputObjectType(theirs)) {
        const theirFields = theirs.getFields()
        for (const field of Object.values(type.getFields())) {
          const their = theirFields[field.name]
          checked += 1
          if (!their) problems.push(`${type.name}.${field.name} is not in Railway's schema`)
          else if (String(field.type) !== String(their.type)) {
            problems.push(`${type.name}.${field.name}: ${field.type} here, ${their.type} at Railway`)
          } else if (JSON.stringify(field.defaultValue) !== JSON.stringify(their.defaultValue)) {
            problems.push(
              `${type.name}.${field.name}: default ${field.defaultValue} here, ${their.defaultValue} at Railway`,
            )
          }
        }
        for (const their of Object.values(theirFields).filter(isRequiredInputField)) {
          if (!type.getFields()[their.name])
            problems.push(`${type.name} lacks Railway's required field ${their.name}`)
        }
      }
      if (isEnumType(type) && isEnumType(theirs)) {
        for (const value of type.getValues()) {
          checked += 1
          if (!theirs.getValue(value.name))
            problems.push(`${type.name}.${value.name} is not in Railway's enum`)
        }
      }
    }
    t.same(problems, [], 'nothing here that Railway does not have')
    t.ok(checked > 200, `checked ${checked} types, fields, arguments and values`)
    t.equal(mine.getQueryType()?.name, 'Query')
    t.equal(mine.getMutationType()?.name, 'Mutation')
  },
)

t.test(
  'every document the tests send validates against Railway’s own schema',
  { skip: railway ? false : CONTRACTS_MISSING },
  async (t) => {
    if (!railway) return
    for (const [name, document] of Object.entries(DOCS)) {
      t.same(validate(railway, parse(document)).map(String), [], name)
    }
  },
)

t.test(
  'the old code’s deploymentRedeploy(id, environmentId) does not validate at Railway either',
  { skip: railway ? false : CONTRACTS_MISSING },
  async (t) => {
    if (!railway) return
    const old = 'mutation { deploymentRedeploy(id: "d", environmentId: "e") { id } }'
    t.ok(validate(railway, parse(old)).length > 0, 'so the emulator is right to reject it')
  },
)
