import { ConnectorError, classifyNetworkError, type ConnectorErrorCode, type FailureKind } from '../../connector-api/index.js'

/** The one switch from undici's and Node's errors on the way to an HTTP server (no answer) to codes and kinds. */
export function classifyHttpError(err: unknown, target: string, https: boolean): ConnectorError | undefined {
  if (err instanceof ConnectorError) return err
  const code = String((err as { code?: unknown } | undefined)?.code ?? '')
  const message = err instanceof Error ? err.message : String(err)
  const fail = (c: ConnectorErrorCode, text: string, hint: string, kind?: FailureKind) => new ConnectorError(c, text, { hint, cause: err, ...(kind ? { kind } : {}) })
  switch (true) {
    case code === 'UND_ERR_CONNECT_TIMEOUT':
      return fail('TIMEOUT', `Timed out connecting to ${target}`, 'Check the address and any firewall, or raise connectTimeoutMs.')
    case code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT':
      return fail('TIMEOUT', `${target} did not answer within requestTimeoutMs`, 'The server is slow or stuck; the message is retried.', 'retryable')
    case code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_HEADERS_OVERFLOW':
      return fail('INVALID_DATA', `The request cannot be sent: ${message}`, 'A header or the path rendered from this message has characters HTTP does not allow.', 'permanent')
    case code.startsWith('HPE_') || code === 'UND_ERR_INFO':
      return fail('CONNECTION_FAILED', `${target} did not answer with HTTP: ${message}`, `Check that this port speaks HTTP${https ? 'S' : '; for HTTPS use an https:// URL'}.`)
    case https && /wrong version number|packet length too long|unknown protocol/i.test(message):
      return fail('TLS_NOT_SUPPORTED', `${target} does not speak TLS on this port`, "Use an http:// URL, or the server's HTTPS port.")
    case code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED':
      return fail('CONNECTION_LOST', `The connection to ${target} was closed before it answered`, 'Check that the server is up; Junction reconnects.')
    default:
      return classifyNetworkError(err, target)
  }
}

/** An HTTP answer that is not a success (2xx), with its code and kind; the message has the status and the body's start. */
export function statusError(status: number, target: string, excerpt: string, retryAfterMs: number | undefined): ConnectorError {
  const fail = (code: ConnectorErrorCode, kind: FailureKind, hint: string) =>
    new ConnectorError(code, `${target} answered ${status}${excerpt ? `: ${excerpt}` : ''}`, { kind, hint, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
  switch (true) {
    case status === 429:
      return fail('RATE_LIMITED', 'retryable', 'The server asked to slow down; the message is retried after its Retry-After.')
    case status === 408:
      return fail('TIMEOUT', 'retryable', 'The server timed out waiting for the request; it is retried.')
    case status >= 500:
      return fail('SERVER_ERROR', 'retryable', 'The server failed or is unavailable; the message is retried while the request TTL allows.')
    case status === 401:
      return fail('AUTHENTICATION_FAILED', 'permanent', "The server refused the credentials: check the connector's authorization (and headers).")
    case status === 403:
      return fail('NOT_PERMITTED', 'permanent', 'The credentials are not allowed to do this request; check them, the method and the path.')
    case status === 413 || status === 414 || status === 431:
      return fail('MESSAGE_TOO_LARGE', 'permanent', 'The request (body, URL or headers) is larger than the server accepts.')
    case status < 400 || status === 404 || status === 405 || status === 410:
      return fail('INVALID_PARAMS', 'permanent', `Check the connector's URL and the action's method and path${status < 400 ? ' (redirects are not followed)' : ''}.`)
    default:
      return fail('INVALID_DATA', 'permanent', 'The server refused this message (its answer starts above); check the body and headers templates.')
  }
}

/** `Retry-After` (a delay in seconds or an HTTP date) in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim()
  if (!v) return undefined
  const at = /^\d+$/.test(v) ? now + Number(v) * 1_000 : Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
