import { ConnectorError, classifyNetworkError } from '../../connector-api/index.js'

export interface NatsErrorContext {
  /** `host:port` (or the server list) for messages. */
  readonly target: string
  /** TLS is on in the config: a TLS failure with it off means the server wants TLS. */
  readonly tls: boolean
  /** The subject of the publish that failed, when there is one. */
  readonly subject?: string
}

/** The first Node error code (ECONNREFUSED, a certificate code...) along an error's cause chain. */
function nodeCause(err: unknown): (Error & { code: string }) | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e as Error & { code: string }
  }
  return undefined
}

/**
 * The one switch from nats.js errors (by class name, as its classes come from nats-core and
 * @nats-io/jetstream), NATS -ERR texts and Node socket/TLS errors to codes and kinds.
 */
export function classifyNatsError(err: unknown, ctx: NatsErrorContext): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown }
  const name = typeof e.name === 'string' ? e.name : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  const t = ctx.target
  const opts = (hint: string, kind?: 'retryable' | 'permanent') => ({ hint, cause: err, ...(kind ? { kind } : {}) })
  const apiCode = name.endsWith('ApiError') || name.endsWith('NotFoundError') ? (e.code as number | undefined) : undefined
  const subject = ctx.subject === undefined ? 'the subject' : `subject "${ctx.subject}"`
  const socket = nodeCause(err)
  const tlsSocketError = socket !== undefined && classifyNetworkError(socket, t)?.code === 'TLS_FAILED'

  switch (true) {
    case name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' || /authorization violation/i.test(message):
      return new ConnectorError('AUTHENTICATION_FAILED', `${t} refused the login: ${message}`,
        opts('Check the authentication settings: username and password, token or NKey seed, as the server is configured.'))
    case name === 'PermissionViolationError':
      return new ConnectorError('NOT_PERMITTED', `${t} does not allow this user to publish to ${subject}`,
        opts("Allow publishing to the subject in the server's permissions for this user, or change the action's subject.", 'permanent'))
    case name === 'JetStreamNotEnabled' && ctx.subject !== undefined:
      // A JetStream publish that nobody answered: no stream captures the subject (nats.js calls it "not enabled").
      return new ConnectorError('STREAM_NOT_FOUND', `No JetStream stream on ${t} captures ${subject}`,
        opts("Create a stream whose subjects include this subject, or use mode \"core\" for a plain publish; Junction never creates streams.", 'permanent'))
    case name === 'StreamNotFoundError' || apiCode === 10059:
      return new ConnectorError('STREAM_NOT_FOUND', `${t}: ${message}`, opts('Check the stream named by the action.', 'permanent'))
    case apiCode === 10054 || /message size exceeds|max_payload|maximum payload/i.test(message):
      return new ConnectorError('MESSAGE_TOO_LARGE', `${t} refused the message as too large: ${message}`,
        opts("Shorten the payload, or raise the stream's max_msg_size or the server's max_payload.", 'permanent'))
    case apiCode === 10077 || /maximum (messages|bytes) exceeded|resource limits exceeded/i.test(message):
      return new ConnectorError('SERVER_RESOURCES', `${t} cannot store the message now: ${message}`,
        opts("The stream is full and discards new messages, or the account is at its storage limit; the message is retried.", 'retryable'))
    case name === 'JetStreamApiError':
      return new ConnectorError('PUBLISH_REFUSED', `${t} refused the message: ${message}`, opts('Check the stream settings and the server log.', 'permanent'))
    case name === 'InvalidSubjectError':
      return new ConnectorError('INVALID_TOPIC', `Invalid subject: ${message}`, opts("Change the action's subject template.", 'permanent'))
    case name === 'TimeoutError':
      return new ConnectorError('TIMEOUT', `No answer from ${t} in time`, opts('Check that the server is up and reachable, or raise the timeout.', 'retryable'))
    case /does not support 'tls'|tls.*not available/i.test(message):
      return new ConnectorError('TLS_NOT_SUPPORTED', `TLS is on, but ${t} does not offer TLS`, opts('Turn tls.enable off, or enable TLS on the server.'))
    case !ctx.tls && tlsSocketError:
      return new ConnectorError('TLS_REQUIRED', `${t} requires TLS, and TLS is off`, opts('Turn tls.enable on (with caCert for a private CA).'))
    case socket !== undefined && classifyNetworkError(socket, t) !== undefined:
      return classifyNetworkError(socket, t)!
    case name === 'ClosedConnectionError' || name === 'DrainingConnectionError' || /connection (closed|refused)|disconnect/i.test(message):
      return new ConnectorError('CONNECTION_LOST', `The connection to ${t} is closed`, opts('Junction reconnects when the server is back.'))
    case /maximum connections exceeded/i.test(message):
      return new ConnectorError('CONNECTION_FAILED', `${t} has reached its maximum number of connections`, opts('Raise max_connections on the server; Junction tries again.'))
    default:
      return classifyNetworkError(err, t) ?? new ConnectorError('CONNECTION_FAILED', `${t}: ${message}`,
        opts('Check the connector configuration and that the server is reachable from Junction.'))
  }
}
