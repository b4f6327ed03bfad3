import { notImplementedHandlers } from './not-implemented.js'

/** Tool provisioning and configure (issue 5) land here; until then each answers 501. */
export const toolHandlers = () =>
  notImplementedHandlers(['provisionTool', 'destroyTool', 'configureInstance'])
