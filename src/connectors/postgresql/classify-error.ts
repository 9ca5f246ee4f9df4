import { ConnectorError, classifyNetworkError } from '../../connector-api/index.js'

/** Thrown by the password callback when the server asks for a password and none is configured. */
export class NoPasswordError extends Error {
  constructor() {
    super('the server asks for a password, but none is configured')
    this.name = 'NoPasswordError'
  }
}

/**
 * Every failure the PostgreSQL connector reports goes through this one switch: server errors by
 * SQLSTATE, then the client library's own messages, then socket/DNS/TLS errors. `target` names
 * the server (`host:port/database`) in messages; it never holds a secret.
 */
export function classifyPgError(err: unknown, target: string, user: string): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { code?: unknown; message?: unknown; severity?: unknown }
  // Only errors the server sent carry a severity; Node's own codes (EPIPE...) are not SQLSTATEs.
  const sqlstate = typeof e.severity === 'string' && typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  const opts = (hint: string) => ({ hint, cause: err })

  switch (true) {
    // --- errors the server sent (SQLSTATE) ---
    case sqlstate === '28P01':
      return new ConnectorError('AUTHENTICATION_FAILED', `Authentication of user "${user}" on ${target} failed: ${message}`,
        opts('Check the username and password.'))
    case sqlstate === '28000' && /no pg_hba\.conf entry.*no encryption/i.test(message):
      return new ConnectorError('TLS_REQUIRED', `${target} accepts only TLS connections from this address: ${message}`,
        opts('Turn on TLS (tls.enable) for this connector.'))
    case sqlstate === '28000' && /no pg_hba\.conf entry/i.test(message):
      return new ConnectorError('AUTHENTICATION_FAILED', `${target} does not accept user "${user}" from this address: ${message}`,
        opts("Ask the database administrator to allow this user and address in the server's pg_hba.conf."))
    case sqlstate === '28000':
      return new ConnectorError('AUTHENTICATION_FAILED', `Authentication of user "${user}" on ${target} failed: ${message}`,
        opts('Check the username and password, and that the role exists and may log in.'))
    case sqlstate === '3D000':
      return new ConnectorError('DATABASE_NOT_FOUND', `Database not found on ${target}: ${message}`,
        opts('Check the database name; PostgreSQL names are case-sensitive when created quoted.'))
    case sqlstate === '42501':
      return new ConnectorError('NOT_PERMITTED', `User "${user}" is not permitted on ${target}: ${message}`,
        opts('Grant the user the privileges it needs (CONNECT on the database, and those the rule SQL uses).'))
    case sqlstate === '53300':
      return new ConnectorError('CONNECTION_FAILED', `${target} has no free connection slots: ${message}`,
        opts("Lower this connector's pool size, or raise max_connections on the server."))
    case sqlstate === '57P01' || sqlstate === '57P02' || sqlstate === '57P03' || sqlstate.startsWith('08'):
      return new ConnectorError('CONNECTION_LOST', `${target} is not available: ${message}`,
        opts('The server is shutting down, starting up or restarting; Junction reconnects when it is back.'))

    // --- errors of the client library (no SQLSTATE) ---
    case err instanceof NoPasswordError || /client password must be a (non-empty )?string/i.test(message):
      return new ConnectorError('AUTHENTICATION_FAILED', `${target} asks user "${user}" for a password, but none is configured`,
        opts('Set the password.'))
    case /server does not support SSL/i.test(message):
      return new ConnectorError('TLS_NOT_SUPPORTED', `${target} does not support TLS connections`,
        opts('Turn off TLS (tls.enable) for this connector, or enable ssl on the server.'))
    case /error establishing an SSL connection/i.test(message):
      return new ConnectorError('TLS_FAILED', `TLS negotiation with ${target} failed: ${message}`,
        opts('Check that the server has TLS (ssl = on) configured correctly.'))
    case /connection timeout|timeout expired|timeout exceeded when trying to connect|query read timeout/i.test(message):
      return new ConnectorError('TIMEOUT', `Timed out talking to ${target}`,
        opts('Check that the server is up and reachable, or raise the connect timeout.'))
    case /Connection terminated/i.test(message):
      return new ConnectorError('CONNECTION_LOST', `Connection to ${target} was closed: ${message}`,
        opts('Check that the server is running; Junction reconnects when it is back.'))

    // --- socket, DNS and TLS errors (certificate problems -> TLS_FAILED) ---
    default:
      return classifyNetworkError(err, target) ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${message}`,
        opts('Check the connector configuration and that the server is reachable from Junction.'))
  }
}
