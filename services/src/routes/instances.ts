import { adoptInstanceHandlers } from './adopt-instance.js'
import type { RouteDeps } from './deps.js'
import { instanceLifecycleHandlers } from './instance-lifecycle.js'
import { instanceViewHandlers } from './instance-view.js'
import { redeployInstanceHandlers } from './redeploy-instance.js'
import { rotateTokenHandlers } from './rotate-token.js'
import { statusHandlers } from './status.js'

/** The `instances` tag, one file per job. */
export const instanceHandlers = (deps: RouteDeps) => ({
  ...instanceLifecycleHandlers(deps),
  ...statusHandlers(deps),
  ...instanceViewHandlers(deps),
  ...adoptInstanceHandlers(deps),
  ...redeployInstanceHandlers(deps),
  ...rotateTokenHandlers(deps),
})
