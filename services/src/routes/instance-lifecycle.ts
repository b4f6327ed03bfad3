import type { RouteDeps } from './deps.js'
import { notImplementedHandlers } from './not-implemented.js'

/** Placeholder until its lifecycle code lands (issue 4). */
export const instanceLifecycleHandlers = (_deps: RouteDeps) =>
  notImplementedHandlers(['createInstance', 'destroyInstance', 'streamInstanceEvents'])
