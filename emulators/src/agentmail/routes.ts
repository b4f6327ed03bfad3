import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { agentMailError } from './errors.js'
import type { InboxStore } from './inboxes.js'
import { parseCreateInbox, parseListQuery, parseUpdateInbox } from './validate.js'

export const BASE_PATH = '/v0'
// AgentMail publishes neither the default nor the maximum page size [I].
export const DEFAULT_PAGE_LIMIT = 10
export const MAX_PAGE_LIMIT = 100

interface State {
  store: InboxStore
  /** API key → the pod (organisation) it opens. */
  pods: Map<string, string>
}

type InboxParams = { Params: { inbox_id: string } }

/** The inbox routes of AgentMail's v0 API, with Bearer auth and AgentMail's error bodies. */
export function registerRoutes(app: FastifyInstance, { store, pods }: State) {
  const send = (reply: FastifyReply, status: number, code: string, message: string, path?: string[]) =>
    reply.code(status).send(agentMailError(code, message, path))

  /** The caller's pod, or undefined once a 401 has been sent. */
  const podOf = (request: FastifyRequest, reply: FastifyReply): string | undefined => {
    const header = request.headers.authorization
    if (!header) return void send(reply, 401, 'missing_authorization', 'Missing Authorization header')
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ''
    const pod = pods.get(token)
    if (!pod) return void send(reply, 401, 'unknown_api_key', 'API key not recognized')
    return pod
  }

  app.post(`${BASE_PATH}/inboxes`, { config: { operation: 'inboxes_create' } }, async (request, reply) => {
    const pod = podOf(request, reply)
    if (!pod) return reply
    const parsed = parseCreateInbox(request.body)
    if (!parsed.ok) return send(reply, 400, 'validation_error', parsed.message, parsed.path)
    const outcome = store.create(pod, parsed.value)
    switch (outcome.kind) {
      case 'created':
      case 'existing':
        return reply.code(200).send(outcome.inbox)
      case 'taken':
        return send(reply, 403, 'resource_taken', outcome.message)
      // The status of a plan's inbox cap is not published; 403 limit_exceeded is the documented code [I].
      case 'limit':
        return send(reply, 403, 'limit_exceeded', outcome.message)
      case 'domain':
        return send(reply, 400, 'validation_error', outcome.message, ['domain'])
    }
  })

  app.get<{ Querystring: Record<string, string | undefined> }>(
    `${BASE_PATH}/inboxes`,
    { config: { operation: 'inboxes_list' } },
    async (request, reply) => {
      const pod = podOf(request, reply)
      if (!pod) return reply
      const query = parseListQuery(request.query, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)
      if (!query.ok) return send(reply, 400, 'validation_error', query.message, query.path)
      const page = store.list(pod, query.value)
      if (!page) return send(reply, 400, 'validation_error', 'Invalid page_token', ['page_token'])
      return {
        count: page.inboxes.length,
        limit: query.value.limit,
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        inboxes: page.inboxes,
      }
    },
  )

  // `inbox_id` is an address; clients URL-encode the `@` (%40), which the router decodes.
  app.get<InboxParams>(
    `${BASE_PATH}/inboxes/:inbox_id`,
    { config: { operation: 'inboxes_get' } },
    async (request, reply) => {
      const pod = podOf(request, reply)
      if (!pod) return reply
      const inbox = store.getInPod(pod, request.params.inbox_id)
      if (!inbox) return send(reply, 404, 'not_found', 'Inbox not found')
      return inbox
    },
  )

  app.patch<InboxParams>(
    `${BASE_PATH}/inboxes/:inbox_id`,
    { config: { operation: 'inboxes_update' } },
    async (request, reply) => {
      const pod = podOf(request, reply)
      if (!pod) return reply
      const inbox = store.getInPod(pod, request.params.inbox_id)
      if (!inbox) return send(reply, 404, 'not_found', 'Inbox not found')
      const parsed = parseUpdateInbox(request.body)
      if (!parsed.ok) return send(reply, 400, 'validation_error', parsed.message, parsed.path)
      return store.update(inbox, parsed.value)
    },
  )

  app.delete<InboxParams>(
    `${BASE_PATH}/inboxes/:inbox_id`,
    { config: { operation: 'inboxes_delete' } },
    async (request, reply) => {
      const pod = podOf(request, reply)
      if (!pod) return reply
      const inbox = store.getInPod(pod, request.params.inbox_id)
      if (!inbox) return send(reply, 404, 'not_found', 'Inbox not found')
      store.delete(inbox)
      return reply.code(204).send()
    },
  )
}
