import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { components, operations, paths } from './generated/openapi.js'
import { type Fetch, type RetryOptions, retryingFetch } from './retrying-fetch.js'

export {
  type InstanceEvent,
  instanceEvents,
  ServicesProblemError,
  STATUS_BATCH_LIMIT,
  statusOf,
  waitUntilReady,
} from './helpers.js'
export type { RetryOptions } from './retrying-fetch.js'
export type { components, operations, paths }

type Schemas = components['schemas']
/** Every 4xx/5xx body: branch on `code` (the spec's table of codes), never on `title` or `detail`. */
export type Problem = Schemas['Problem']
export type Instance = Schemas['Instance']
export type CreateInstanceRequest = Schemas['CreateInstanceRequest']
export type InstanceStatus = Schemas['InstanceStatus']
export type StatusBatch = Schemas['StatusBatch']
export type ToolResource = Schemas['ToolResource']
export type ProvisionRequest = Schemas['ProvisionRequest']
export type ConfigureRequest = Schemas['ConfigureRequest']
export type ConfigureResult = Schemas['ConfigureResult']
export type Registry = Schemas['Registry']

/** The pool authenticates with its key; a running instance with its own INSTANCE_SERVICES_TOKEN. */
export type ServicesCredentials =
  | { baseUrl: string; apiKey: string }
  | { baseUrl: string; instanceToken: string }

export interface ServicesClientOptions {
  /** A fetch implementation to use instead of the global one (tests, custom dispatchers). */
  fetch?: Fetch
  /** Retries of 429s (always) and of 5xx/network failures (idempotent operations); `false` for none. */
  retry?: RetryOptions | false
  /** Time for each attempt, in ms (default 90 s: a create waits up to 60 s server-side). */
  timeoutMs?: number
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
    fetch: retryingFetch(options.fetch ?? ((request) => fetch(request)), {
      retry: options.retry ?? {},
      timeoutMs: options.timeoutMs ?? 90_000,
    }),
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
