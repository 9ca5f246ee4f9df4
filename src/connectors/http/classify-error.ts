import { ConnectorError, classifyNetworkError, type ConnectorErrorCode, type FailureKind } from '../../connector-api/index.js'

/**
 * The one switch from what went wrong on the way to an HTTP server (undici's and Node's errors)
 * and from the server's answers (status codes) to codes and kinds.
 */
export function classifyHttpError(err: unknown, target: string, https: boolean): ConnectorError | undefined {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { code?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  const opts = (hint: string, kind?: FailureKind) => ({ hint, cause: err, ...(kind ? { kind } : {}) })
  switch (true) {
    case code === 'UND_ERR_CONNECT_TIMEOUT':
      return new ConnectorError('TIMEOUT', `Timed out connecting to ${target}`, opts('Check the address and any firewall, or raise connectTimeoutMs.'))
    case code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT':
      return new ConnectorError('TIMEOUT', `${target} did not answer within requestTimeoutMs`, opts('The server is slow or stuck; the message is retried. Raise requestTimeoutMs if it is just slow.', 'retryable'))
    case code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_HEADERS_OVERFLOW':
      return new ConnectorError('INVALID_DATA', `The request cannot be sent: ${message}`, opts('A header or the path rendered from this message has characters HTTP does not allow.', 'permanent'))
    case code.startsWith('HPE_') || code === 'UND_ERR_INFO':
      return new ConnectorError('CONNECTION_FAILED', `${target} did not answer with HTTP: ${message}`, opts(https ? 'Check that this port speaks HTTPS.' : 'Check that this port speaks HTTP; for HTTPS use an https:// URL.'))
    case https && /wrong version number|packet length too long|unknown protocol/i.test(message):
      return new ConnectorError('TLS_NOT_SUPPORTED', `${target} does not speak TLS on this port`, opts('Use an http:// URL, or the server\'s HTTPS port.'))
    case code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED':
      return new ConnectorError('CONNECTION_LOST', `The connection to ${target} was closed before it answered`, opts(https
        ? 'Check that the server is up; Junction reconnects.'
        : 'Check that the server is up; Junction reconnects. A server that closes every plain connection may want HTTPS: use an https:// URL.'))
    default:
      return classifyNetworkError(err, target)
  }
}

/** An HTTP answer that is not a success, as a ConnectorError; undefined for 2xx. */
export function statusError(status: number, target: string, excerpt: string, retryAfterMs: number | undefined): ConnectorError | undefined {
  if (status >= 200 && status < 300) return undefined
  const said = `${target} answered ${status}${excerpt ? `: ${excerpt}` : ''}`
  const fail = (code: ConnectorErrorCode, kind: FailureKind, hint: string) =>
    new ConnectorError(code, said, { kind, hint, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
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
    case status === 404 || status === 405 || status === 410 || status < 400:
      return fail('INVALID_PARAMS', 'permanent', status < 400
        ? 'Redirects are not followed: point the URL and path at where the server redirects.'
        : "Check the connector's URL and the action's method and path.")
    default:
      return fail('INVALID_DATA', 'permanent', 'The server refused this message (the text above is the start of its answer); check the body and headers templates.')
  }
}

/** `Retry-After` (delay in seconds or an HTTP date) in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim()
  if (!v) return undefined
  if (/^\d+$/.test(v)) return Number(v) * 1_000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
