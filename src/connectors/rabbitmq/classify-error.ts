import { classifyBy, type ConnectorError, type ErrorRow } from '../../connector-api/index.js'

/** The AMQP reply code (or a library's code) as the key; `name` tells amqplib's errors apart. */
type Facts = { err: unknown; key: string | number | undefined; message: string; name: unknown; target: string; vhost: string }
const LOST = 'Check that the server is up; Junction reconnects.'
// amqplib reports a refused handshake only by its message text and channel/connection closes by
// the AMQP reply code in `code`, so both are read here and nowhere else.
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  [/^Handshake terminated by server: 403\b/, 'AUTHENTICATION_FAILED', undefined, 'RabbitMQ at {target} refused the login',
    'Check the username and password (RabbitMQ\'s "guest" user may log in only from localhost).'],
  // RabbitMQ answers connection.open with a close (530 NOT_ALLOWED) both for a vhost that does not
  // exist and for one the user has no permissions on; amqplib keeps neither the code nor the text.
  [/^Expected ConnectionOpenOk; got <ConnectionClose/, 'NOT_PERMITTED', undefined, 'RabbitMQ at {target} refused to open virtual host "{vhost}"',
    'The virtual host does not exist, or the user has no permissions on it: check the name (the default is "/") and the user\'s permissions.'],
  [['ERR_SSL_WRONG_VERSION_NUMBER'], 'TLS_NOT_SUPPORTED', undefined, '{target} does not speak TLS', 'Turn TLS off, or use the TLS port (usually 5671).'],
  [/^Socket closed abruptly during opening handshake/, 'CONNECTION_FAILED', undefined, '{target} closed the connection during the AMQP handshake',
    'Check that the port is an AMQP port; a TLS-only port needs TLS on.'],
  [/^connect ETIMEDOUT$/, 'TIMEOUT', undefined, 'No answer from {target} in time', 'Check the address, or raise the connect timeout.'],
  [/^Heartbeat timeout$/, 'CONNECTION_LOST', undefined, 'Connection to RabbitMQ at {target} lost: missed heartbeats', LOST],
  [(f) => f.name === 'IllegalOperationError', 'CONNECTION_LOST', undefined, 'Connection to RabbitMQ at {target} lost: {message}', LOST],
  [/^message nacked$/, 'PUBLISH_NACKED', 'retryable', 'RabbitMQ refused responsibility for the message (basic.nack)',
    'A queue it routes to may be full (x-overflow reject-publish) or unavailable.'],
  [(f) => f.err instanceof TypeError, 'INVALID_DATA', 'permanent', 'The message cannot be published: {message}', 'Fix the template or the rule output it reads.'],
  [[404], 'EXCHANGE_NOT_FOUND', 'permanent', 'RabbitMQ: {message}', 'Declare the exchange in RabbitMQ (Junction never declares it), or fix its name in the action.'],
  [[403], 'NOT_PERMITTED', 'permanent', 'RabbitMQ: {message}', 'Give the user write permission on the exchange.'],
  [(f) => f.key === 406 && /max size/.test(f.message), 'MESSAGE_TOO_LARGE', 'permanent', 'RabbitMQ: {message}', 'The broker refused the message.'],
  [[406], 'INVALID_DATA', 'permanent', 'RabbitMQ: {message}', 'The broker refused the message.'],
  [[320], 'CONNECTION_LOST', undefined, 'Connection to RabbitMQ at {target} lost: the server closed the connection (shutting down, or closed by an operator)', LOST],
  [/Connection closed|Unexpected close|channel closed|Channel ended/i, 'CONNECTION_LOST', undefined, 'Connection to RabbitMQ at {target} lost: {message}', LOST],
]
const byRule = classifyBy(RULES)

/** The one switch from amqplib and AMQP errors to codes. Undefined leaves socket, DNS and TLS errors to the kit. */
export function classifyAmqpError(err: unknown, target: string, vhost: string): ConnectorError | undefined {
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | undefined
  const key = typeof e?.code === 'string' || typeof e?.code === 'number' ? e.code : undefined
  return byRule({ err, key, message: typeof e?.message === 'string' ? e.message : String(err), name: e?.name, target, vhost })
}
