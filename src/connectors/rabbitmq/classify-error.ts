import { ConnectorError } from '../../connector-api/index.js'

/**
 * The one switch from amqplib and AMQP errors to codes. amqplib reports a refused handshake only
 * by its message text and channel/connection closes by the AMQP reply code in `code`, so both are
 * read here and nowhere else. Undefined leaves socket, DNS and TLS errors to the kit.
 */
export function classifyAmqpError(err: unknown, target: string, vhost: string): ConnectorError | undefined {
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const fail = (code: ConstructorParameters<typeof ConnectorError>[0], text: string, hint: string, kind?: 'permanent' | 'retryable') =>
    new ConnectorError(code, text, { hint, cause: err, ...(kind ? { kind } : {}) })
  if (/^Handshake terminated by server: 403\b/.test(message)) {
    return fail('AUTHENTICATION_FAILED', `RabbitMQ at ${target} refused the login`, 'Check the username and password (RabbitMQ\'s "guest" user may log in only from localhost).')
  }
  // RabbitMQ answers connection.open with a close (530 NOT_ALLOWED) both for a vhost that does not
  // exist and for one the user has no permissions on; amqplib keeps neither the code nor the text.
  if (/^Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return fail('NOT_PERMITTED', `RabbitMQ at ${target} refused to open virtual host "${vhost}"`,
      'The virtual host does not exist, or the user has no permissions on it: check the name (the default is "/") and the user\'s permissions.')
  }
  if (e?.code === 'ERR_SSL_WRONG_VERSION_NUMBER') return fail('TLS_NOT_SUPPORTED', `${target} does not speak TLS`, 'Turn TLS off, or use the TLS port (usually 5671).')
  if (/^Socket closed abruptly during opening handshake/.test(message)) {
    return fail('CONNECTION_FAILED', `${target} closed the connection during the AMQP handshake`, 'Check that the port is an AMQP port; a TLS-only port needs TLS on.')
  }
  if (message === 'connect ETIMEDOUT') return fail('TIMEOUT', `No answer from ${target} in time`, 'Check the address, or raise the connect timeout.')
  const lost = (why: string) => fail('CONNECTION_LOST', `Connection to RabbitMQ at ${target} lost: ${why}`, 'Check that the server is up; Junction reconnects.')
  if (message === 'Heartbeat timeout') return lost('missed heartbeats')
  if (e?.name === 'IllegalOperationError') return lost(message)
  if (message === 'message nacked') {
    return fail('PUBLISH_NACKED', 'RabbitMQ refused responsibility for the message (basic.nack)', 'A queue it routes to may be full (x-overflow reject-publish) or unavailable.', 'retryable')
  }
  if (err instanceof TypeError) return fail('INVALID_DATA', `The message cannot be published: ${message}`, 'Fix the template or the rule output it reads.', 'permanent')
  switch (e?.code) {
    case 404: return fail('EXCHANGE_NOT_FOUND', `RabbitMQ: ${message}`, 'Declare the exchange in RabbitMQ (Junction never declares it), or fix its name in the action.', 'permanent')
    case 403: return fail('NOT_PERMITTED', `RabbitMQ: ${message}`, 'Give the user write permission on the exchange.', 'permanent')
    case 406: return fail(/max size/.test(message) ? 'MESSAGE_TOO_LARGE' : 'INVALID_DATA', `RabbitMQ: ${message}`, 'The broker refused the message.', 'permanent')
    case 320: return lost('the server closed the connection (shutting down, or closed by an operator)')
  }
  return /Connection closed|Unexpected close|channel closed|Channel ended/i.test(message) ? lost(message) : undefined
}
