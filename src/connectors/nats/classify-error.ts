import { ConnectorError, classifyNetworkError } from '../../connector-api/index.js'

/** `tls`: TLS is on in the config (a TLS failure with it off means the server wants TLS); `subject`: of the failed publish. */
export type NatsErrorContext = { readonly target: string; readonly tls: boolean; readonly subject?: string }

/** The one switch from nats.js errors (by class name), PubAck errors, NATS -ERR texts and Node socket/TLS errors to codes and kinds. */
export function classifyNatsError(err: unknown, ctx: NatsErrorContext): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown }
  const name = typeof e.name === 'string' ? e.name : '', message = typeof e.message === 'string' ? e.message : String(err)
  const t = ctx.target
  const opts = (hint: string, kind?: 'retryable' | 'permanent') => ({ hint, cause: err, ...(kind ? { kind } : {}) })
  const apiCode = name === 'JetStreamApiError' ? e.code : undefined, subject = ctx.subject === undefined ? 'the subject' : `subject "${ctx.subject}"`
  // nats.js wraps a refused connect in a ConnectionError whose cause has the socket's code.
  const network = classifyNetworkError(typeof e.code === 'string' ? err : e.cause, t)

  switch (true) {
    case name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' || /authorization violation/i.test(message):
      return new ConnectorError('AUTHENTICATION_FAILED', `${t} refused the login: ${message}`, opts('Check the authentication settings: username and password, token or NKey seed, as the server is configured.'))
    case name === 'PermissionViolationError':
      return new ConnectorError('NOT_PERMITTED', `${t} does not allow this user to publish to ${subject}`, opts("Allow publishing to the subject in the server's permissions for this user, or change the action's subject.", 'permanent'))
    // A JetStream publish nobody answered: no stream captures the subject.
    case name === 'NoRespondersError':
      return new ConnectorError('STREAM_NOT_FOUND', `No JetStream stream on ${t} captures ${subject}`, opts('Create a stream whose subjects include this subject, or use mode "core" for a plain publish; Junction never creates streams.', 'permanent'))
    case apiCode === 10054 || /message size exceeds|max_payload|maximum payload/i.test(message):
      return new ConnectorError('MESSAGE_TOO_LARGE', `${t} refused the message as too large: ${message}`, opts("Shorten the payload, or raise the stream's max_msg_size or the server's max_payload.", 'permanent'))
    case apiCode === 10077 || /maximum (messages|bytes) exceeded|resource limits exceeded/i.test(message):
      return new ConnectorError('SERVER_RESOURCES', `${t} cannot store the message now: ${message}`, opts('The stream is full and discards new messages, or the account is at its storage limit; the message is retried.', 'retryable'))
    case apiCode !== undefined:
      return new ConnectorError('PUBLISH_REFUSED', `${t} refused the message: ${message}`, opts('Check the stream settings and the server log.', 'permanent'))
    case /does not support 'tls'|tls.*not available/i.test(message):
      return new ConnectorError('TLS_NOT_SUPPORTED', `TLS is on, but ${t} does not offer TLS`, opts('Turn tls.enable off, or enable TLS on the server.'))
    case !ctx.tls && network?.code === 'TLS_FAILED':
      return new ConnectorError('TLS_REQUIRED', `${t} requires TLS, and TLS is off`, opts('Turn tls.enable on (with caCert for a private CA).'))
    case name === 'ClosedConnectionError' || name === 'DrainingConnectionError' || /connection closed|disconnect/i.test(message):
      return new ConnectorError('CONNECTION_LOST', `The connection to ${t} is closed`, opts('Junction reconnects when the server is back.'))
    default:
      return network ?? new ConnectorError('CONNECTION_FAILED', `${t}: ${message}`, opts('Check the connector configuration and that the server is reachable from Junction.'))
  }
}
