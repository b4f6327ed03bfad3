import { EventEmitter } from 'node:events'
import type { Operation } from '../db/schema.js'

export type InstanceEvent =
  | { kind: 'step'; operation: Operation; name: string }
  /** The operation in flight ended (done, failed, or interrupted by shutdown). */
  | { kind: 'end' }

/**
 * In-process notifications of step changes, for the `/events` stream. They carry only which step changed:
 * listeners read the step itself from the database, which stays the one source of truth.
 */
export function createInstanceEvents() {
  const emitter = new EventEmitter()
  // One listener per open stream; dashboards may watch many instances.
  emitter.setMaxListeners(0)
  return {
    emit(instanceId: string, event: InstanceEvent) {
      emitter.emit(instanceId, event)
    },
    subscribe(instanceId: string, listener: (event: InstanceEvent) => void): () => void {
      emitter.on(instanceId, listener)
      return () => emitter.off(instanceId, listener)
    },
  }
}

export type InstanceEvents = ReturnType<typeof createInstanceEvents>
