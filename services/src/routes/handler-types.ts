import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  ContextConfigDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify'
import type { OperationId, routes } from '../generated/routes.js'

/** A handler typed from its operation's generated schema: params, query, body and replies. */
export type Handler<K extends OperationId> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  (typeof routes)[K]['schema'],
  TypeBoxTypeProvider
>

/** One handler per operation of the spec: a missing one is a compile error. */
export type Handlers = { [K in OperationId]: Handler<K> }
