/**
 * Telnyx's error body: `{errors: [{code, title, detail, source?, meta?}]}`, `code` a numeric string.
 * 10009 (authentication) and 10011 (rate limit) are documented; the others are the codes Telnyx uses in
 * its error pages (10005 not found, 10007 unexpected, 10015 bad request, 10004 missing parameter) [I].
 */
export interface TelnyxError {
  code: string
  title: string
  detail: string
  source?: { pointer?: string; parameter?: string }
  meta?: { url: string }
}

export function telnyxErrors(
  code: string,
  title: string,
  detail: string,
  source?: TelnyxError['source'],
): { errors: TelnyxError[] } {
  return {
    errors: [
      {
        code,
        title,
        detail,
        ...(source ? { source } : {}),
        meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` },
      },
    ],
  }
}

const BY_STATUS: Record<number, [code: string, title: string]> = {
  400: ['10015', 'Bad Request'],
  401: ['10009', 'Authentication failed'],
  403: ['10010', 'Authorization failed'],
  404: ['10005', 'Resource not found'],
  422: ['10015', 'Bad Request'],
  429: ['10011', 'Too many requests'],
}

/** The body for an error known only by its status (injected faults, framework errors). */
export function errorBodyForStatus(status: number, detail: string) {
  const [code, title] = BY_STATUS[status] ?? ['10007', 'Unexpected error']
  return telnyxErrors(code, title, detail)
}

/** Thrown while reading a request: the error handler answers Telnyx's 400/422 body with `source`. */
export class BadRequest extends Error {
  constructor(
    readonly status: 400 | 422,
    readonly detail: string,
    readonly source: { pointer?: string; parameter?: string },
  ) {
    super(detail)
  }
}
