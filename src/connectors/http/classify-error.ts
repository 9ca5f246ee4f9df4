import { classifyBy, classifyNetworkError, ConnectorError, type ErrorRow } from '../../connector-api/index.js'

type Failure = { err: unknown; key: string; message: string; target: string; https: boolean }
// undici's and Node's errors on the way to an HTTP server (no answer), by undici's code.
const FAILURES: ReadonlyArray<ErrorRow<Failure>> = [
  [['UND_ERR_CONNECT_TIMEOUT'], 'TIMEOUT', undefined, 'Timed out connecting to {target}', 'Check the address and any firewall, or raise connectTimeoutMs.'],
  [['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'], 'TIMEOUT', 'retryable', '{target} did not answer within requestTimeoutMs', 'The server is slow or stuck; the message is retried.'],
  [['UND_ERR_INVALID_ARG', 'UND_ERR_HEADERS_OVERFLOW'], 'INVALID_DATA', 'permanent', 'The request cannot be sent: {message}',
    'A header or the path rendered from this message has characters HTTP does not allow.'],
  [(f) => f.key.startsWith('HPE_') || f.key === 'UND_ERR_INFO', 'CONNECTION_FAILED', undefined, '{target} did not answer with HTTP: {message}',
    (f) => `Check that this port speaks HTTP${f.https ? 'S' : '; for HTTPS use an https:// URL'}.`],
  [(f) => f.https && /wrong version number|packet length too long|unknown protocol/i.test(f.message), 'TLS_NOT_SUPPORTED', undefined, '{target} does not speak TLS on this port',
    "Use an http:// URL, or the server's HTTPS port."],
  [['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'], 'CONNECTION_LOST', undefined, 'The connection to {target} was closed before it answered', 'Check that the server is up; Junction reconnects.'],
]
const byFailure = classifyBy(FAILURES)

/** A failure to get an answer from an HTTP server, as a code and kind. */
export function classifyHttpError(err: unknown, target: string, https: boolean): ConnectorError | undefined {
  if (err instanceof ConnectorError) return err
  const key = String((err as { code?: unknown } | undefined)?.code ?? '')
  return byFailure({ err, key, message: err instanceof Error ? err.message : String(err), target, https }) ?? classifyNetworkError(err, target)
}
