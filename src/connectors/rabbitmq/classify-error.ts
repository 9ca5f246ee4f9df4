import { ConnectorError } from '../../connector-api/index.js'

/**
 * The one switch from amqplib and AMQP errors to codes. amqplib reports a refused handshake only
 * by its message text and channel/connection closes by the AMQP reply code in `code`, so both are
 * read here and nowhere else. Undefined leaves socket, DNS and TLS errors to the kit.
 */
export function classifyAmqpError(err: unknown, target: string, vhost: string): ConnectorError | undefined {
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const code = e?.code
  if (/^Handshake terminated by server: 403\b/.test(message)) {
    return new ConnectorError('AUTHENTICATION_FAILED', `RabbitMQ at ${target} refused the login`, {
      hint: 'Check the username and password (RabbitMQ\'s default "guest" user may log in only from localhost).', cause: err,
    })
  }
  // RabbitMQ answers connection.open with a close (530 NOT_ALLOWED) for a vhost that does not
  // exist and for one the user has no permissions on; amqplib keeps neither the code nor the text.
  if (/^Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return new ConnectorError('NOT_PERMITTED', `RabbitMQ at ${target} refused to open virtual host "${vhost}"`, {
      hint: 'The virtual host does not exist, or the user has no permissions on it: check the name (the default is "/") and the user\'s permissions.',
      cause: err,
    })
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new ConnectorError('TLS_NOT_SUPPORTED', `${target} does not speak TLS`, {
      hint: 'Turn TLS off, or use the TLS port (usually 5671).', cause: err,
    })
  }
  if (/^Socket closed abruptly during opening handshake/.test(message)) {
    return new ConnectorError('CONNECTION_FAILED', `${target} closed the connection during the AMQP handshake`, {
      hint: 'Check that the port is an AMQP port; a TLS-only port needs TLS on.', cause: err,
    })
  }
  if (message === 'connect ETIMEDOUT') return new ConnectorError('TIMEOUT', `No answer from ${target} in time`, { hint: 'Check the address, or raise the connect timeout.', cause: err })
  if (message === 'Heartbeat timeout') return lost(target, 'missed heartbeats', err)
  if (e?.name === 'IllegalOperationError') return lost(target, message, err)
  if (message === 'message nacked') {
    return new ConnectorError('PUBLISH_NACKED', 'RabbitMQ refused responsibility for the message (basic.nack)', {
      kind: 'retryable', hint: 'A queue it routes to may be full (x-overflow reject-publish) or unavailable.', cause: err,
    })
  }
  if (err instanceof TypeError) return new ConnectorError('INVALID_DATA', `The message cannot be published: ${message}`, { kind: 'permanent', cause: err })
  switch (code) {
    case 404:
      return new ConnectorError('EXCHANGE_NOT_FOUND', `RabbitMQ: ${message}`, {
        kind: 'permanent', hint: 'Declare the exchange in RabbitMQ (Junction never declares it), or fix its name in the action.', cause: err,
      })
    case 403:
      return new ConnectorError('NOT_PERMITTED', `RabbitMQ: ${message}`, { kind: 'permanent', hint: 'Give the user write permission on the exchange.', cause: err })
    case 406:
      return new ConnectorError(/max size/.test(message) ? 'MESSAGE_TOO_LARGE' : 'INVALID_DATA', `RabbitMQ: ${message}`, { kind: 'permanent', cause: err })
    case 320:
      return lost(target, 'the server closed the connection (shutting down, or closed by an operator)', err)
  }
  if (/Connection closed|Unexpected close|channel closed|Channel ended/i.test(message)) return lost(target, message, err)
  return undefined
}

function lost(target: string, why: string, cause: unknown): ConnectorError {
  return new ConnectorError('CONNECTION_LOST', `Connection to RabbitMQ at ${target} lost: ${why}`, { hint: 'Check that the server is up; Junction reconnects.', cause })
}
