import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { type OpenApiDocument, OpenApiValidator } from '../../../services/test/helpers/openapi-validator.js'

/** The providers' published contracts, kept outside the repository (`../shared/contracts`). */
export const CONTRACTS_DIR = fileURLToPath(new URL('../../../../shared/contracts/', import.meta.url))
export const CONTRACTS_MISSING = `provider contracts not found at ${CONTRACTS_DIR}: contract checks skipped`

const FILES = {
  openrouter: 'openrouter-openapi.yaml',
  agentmail: 'agentmail-openapi.json',
  telnyx: 'telnyx-openapi-subset.yml',
} as const

export type ProviderContract = Pick<
  OpenApiValidator,
  'requestViolations' | 'responseViolations' | 'templateFor'
>

const loaded = new Map<keyof typeof FILES, ProviderContract>()

/** The provider's OpenAPI document as a validator; undefined when the contracts folder is absent. */
export function loadProviderContract(name: keyof typeof FILES): ProviderContract | undefined {
  const file = CONTRACTS_DIR + FILES[name]
  if (!existsSync(file)) return undefined
  let contract = loaded.get(name)
  if (!contract) {
    const text = readFileSync(file, 'utf8')
    const doc = (
      file.endsWith('.json') ? JSON.parse(text) : parse(text, { maxAliasCount: -1 })
    ) as OpenApiDocument
    contract = new OpenApiValidator(doc, name)
    loaded.set(name, contract)
  }
  return contract
}
