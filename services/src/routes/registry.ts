import type { Config } from '../config.js'
import { registryView } from '../plugins/tool-catalog.js'
import type { Handlers } from './handler-types.js'

export function registryHandlers(deps: { config: Config }): Pick<Handlers, 'getRegistry'> {
  const tools = registryView(deps.config)
  return { getRegistry: async () => ({ tools }) }
}
