import { adoptInstanceHandlers } from './adopt-instance.js'
import type { RouteDeps } from './deps.js'
import { instanceLifecycleHandlers } from './instance-lifecycle.js'
import { instanceViewHandlers } from './instance-view.js'
import { notImplementedHandlers } from './not-implemented.js'
import { redeployInstanceHandlers } from './redeploy-instance.js'
import { statusHandlers } from './status.js'

/** The `instances` tag, one file per job; token rotation (issue 5) still answers 501. */
export const instanceHandlers = (deps: RouteDeps) => ({
  ...instanceLifecycleHandlers(deps),
  ...statusHandlers(deps),
  ...instanceViewHandlers(deps),
  ...adoptInstanceHandlers(deps),
  ...redeployInstanceHandlers(deps),
  ...notImplementedHandlers(['rotateInstanceToken']),
})
