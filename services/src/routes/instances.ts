import { notImplementedHandlers } from './not-implemented.js'

/** The lifecycle engine (issue 4) and token rotation (issue 5) land here; until then each answers 501. */
export const instanceHandlers = () =>
  notImplementedHandlers([
    'createInstance',
    'adoptInstance',
    'destroyInstance',
    'getStatusBatch',
    'redeployInstance',
    'listInstances',
    'getInstance',
    'streamInstanceEvents',
    'rotateInstanceToken',
  ])
