/** An emulator's answer: the status, the headers, and the body parsed as JSON (undefined when empty). */
export interface Answer<T = unknown> {
  status: number
  headers: Headers
  body: T
}

/** A request body: `body` sent as JSON, or `raw` sent as it is (for bodies that are not valid JSON). */
export interface RequestBody {
  body?: unknown
  raw?: string
}

/** What a test may vary in a call to a bearer-token API: `token` null sends none, undefined the default. */
export interface BearerInit extends RequestBody {
  token?: string | null
}

/** Sends one request as a client would (with a JSON content type when there is a body) and reads the answer. */
export async function send<T = unknown>(
  url: string,
  method: string,
  headers: Record<string, string>,
  init: RequestBody = {},
): Promise<Answer<T>> {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body !== undefined ? { body } : {}),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

/**
 * A call function for a bearer-token API at `baseUrl`: the token is `defaultToken` unless the call says
 * otherwise, and every answer is passed to `check` (the contract check) before it is returned.
 */
export function bearerCaller(
  baseUrl: string,
  defaultToken: string,
  check: (method: string, path: string, answer: Answer) => void = () => {},
) {
  return async <T = unknown>(method: string, path: string, init: BearerInit = {}): Promise<Answer<T>> => {
    const token = init.token === undefined ? defaultToken : init.token
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
    const answer = await send<T>(baseUrl + path, method, headers, init)
    check(method, path, answer)
    return answer
  }
}
