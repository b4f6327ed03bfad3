import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { components, operations, paths } from './generated/openapi.js'

export type { components, operations, paths }
export type Problem = components['schemas']['Problem']

/** The pool authenticates with its key; a running instance with its own INSTANCE_SERVICES_TOKEN. */
export type ServicesCredentials =
  | { baseUrl: string; apiKey: string }
  | { baseUrl: string; instanceToken: string }

export interface ServicesClientOptions {
  /** A fetch implementation to use instead of the global one (tests, custom dispatchers). */
  fetch?: (input: Request) => Promise<Response>
}

export type ServicesClient = Client<paths>

/** Creates a typed client for the services API; every request carries the given credential. */
export function createServicesClient(
  credentials: ServicesCredentials,
  options: ServicesClientOptions = {},
): ServicesClient {
  const secret = 'apiKey' in credentials ? credentials.apiKey : credentials.instanceToken
  const client = createClient<paths>({
    baseUrl: credentials.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${secret}`)
      return request
    },
  }
  client.use(auth)
  return client
}
