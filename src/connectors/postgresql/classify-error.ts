import { ConnectorError, classifyNetworkError, type FailureKind } from '../../connector-api/index.js'

/** Thrown by the password callback when the server asks for a password and none is configured. */
export class NoPasswordError extends Error {
  constructor() {
    super('the server asks for a password, but none is configured')
    this.name = 'NoPasswordError'
  }
}

/**
 * Where the error happened. `connect`: opening a connection (probe, start, health, a pool that
 * opens a new connection); `query`: running a rule action's statement on an open connection.
 * It only changes the kind of a few errors (a permission error at login means no connection; at
 * a query it means this statement cannot work).
 */
export type PgPhase = 'connect' | 'query'

/**
 * Every failure the PostgreSQL connector reports goes through this one switch: server errors by
 * SQLSTATE, then the client library's own messages, then socket/DNS/TLS errors. Each answer has
 * a code (what happened), a kind (what the caller should do: `not_connected` pause and
 * reconnect, `retryable` try again later, `permanent` fail the message) and a hint. `target`
 * names the server (`host:port/database`) in messages; it never holds a secret.
 */
export function classifyPgError(err: unknown, target: string, user: string, phase: PgPhase = 'connect'): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { code?: unknown; message?: unknown; severity?: unknown; detail?: unknown; hint?: unknown }
  // Only errors the server sent carry a severity; Node's own codes (EPIPE...) are not SQLSTATEs.
  const sqlstate = typeof e.severity === 'string' && typeof e.code === 'string' ? e.code : ''
  const klass = sqlstate.slice(0, 2)
  const message = typeof e.message === 'string' ? e.message : String(err)
  // The server's own detail and hint (e.g. `Key (id)=(7) already exists.`) go with the message.
  const detail = typeof e.detail === 'string' && e.detail !== '' ? ` (${e.detail})` : ''
  const serverHint = typeof e.hint === 'string' && e.hint !== '' ? ` PostgreSQL says: ${e.hint}` : ''
  const opts = (hint: string, kind: FailureKind = 'not_connected') => ({ hint, kind, cause: err })

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
        opts('Grant the user the privileges it needs (CONNECT on the database, and those the rule SQL uses, e.g. INSERT on the table).',
          phase === 'connect' ? 'not_connected' : 'permanent'))
    case sqlstate === '53300':
      return new ConnectorError('CONNECTION_FAILED', `${target} has no free connection slots: ${message}`,
        opts("Lower this connector's pool size, or raise max_connections on the server.", 'retryable'))
    case klass === '53':
      // 53100 disk full, 53200 out of memory, 53400 configuration limit exceeded.
      return new ConnectorError('SERVER_RESOURCES', `${target} is out of resources: ${message}`,
        opts('The server is short of disk, memory or another resource; delivery is retried. Check the server.', 'retryable'))
    case sqlstate === '57P01':
      // This connection was terminated (pg_terminate_backend, or the server shutting down): a
      // new one may work at once; when the server is really going away the retry finds that.
      return new ConnectorError('CONNECTION_LOST', `${target} terminated the connection: ${message}`,
        opts('The server or an administrator ended the connection; Junction retries on a new one.', 'retryable'))
    case sqlstate === '57P02' || sqlstate === '57P03' || klass === '08':
      return new ConnectorError('CONNECTION_LOST', `${target} is not available: ${message}`,
        opts('The server is shutting down, starting up or restarting; Junction reconnects when it is back.'))
    case sqlstate === '40001' || sqlstate === '40P01':
      return new ConnectorError('TRANSACTION_CONFLICT', `${target} aborted the statement: ${message}`,
        opts('A serialization failure or deadlock with other sessions; the statement is retried.', 'retryable'))
    case sqlstate === '57014' || sqlstate === '55P03':
      // 57014 statement_timeout / cancelled, 55P03 lock_timeout.
      return new ConnectorError('TIMEOUT', `${target} cancelled the statement: ${message}`,
        opts('The statement hit a statement or lock timeout; it is retried. Check for long locks on the table.', 'retryable'))
    case sqlstate === '25006':
      return new ConnectorError('READ_ONLY', `${target} is read-only: ${message}`,
        opts('The server is a standby (or the database is read-only); point the connector at the primary. Retried while it may be a failover.', 'retryable'))
    case klass === '22':
      return new ConnectorError('INVALID_DATA', `${target} rejected a value: ${message}${detail}`,
        opts(`A value from the message does not fit its column or expression (wrong type, out of range, bad format); check the rule output and the SQL.${serverHint}`, 'permanent'))
    case klass === '23':
      return new ConnectorError('CONSTRAINT_VIOLATION', `${target} rejected a row: ${message}${detail}`,
        opts(`The row breaks a constraint of the table (NOT NULL, UNIQUE, FOREIGN KEY, CHECK); check the rule output, or use ON CONFLICT for duplicates.${serverHint}`, 'permanent'))
    case klass === '21':
      return new ConnectorError('INVALID_DATA', `${target} rejected the rows: ${message}${detail}`,
        opts(`For example ON CONFLICT DO UPDATE hit the same row twice in one statement.${serverHint}`, 'permanent'))
    case klass === '42' || klass === '0A':
      // 42P01 undefined table, 42703 undefined column, 42601 syntax error, 42804 datatype mismatch...
      return new ConnectorError('INVALID_STATEMENT', `${target} rejected the SQL: ${message}`,
        opts(`Fix the action's SQL statement (table and column names, types, syntax).${serverHint}`, 'permanent'))
    case klass === 'XX' || klass === '58':
      return new ConnectorError('SERVER_ERROR', `${target} failed internally: ${message}`,
        opts('An internal or I/O error on the server; delivery is retried. Check the server log.', 'retryable'))
    case sqlstate !== '':
      return new ConnectorError('QUERY_FAILED', `${target} rejected the statement: ${message}${detail} (SQLSTATE ${sqlstate})`,
        opts(`Check the action's SQL and the message data.${serverHint}`, 'permanent'))

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
    case /query read timeout/i.test(message):
      return new ConnectorError('TIMEOUT', `Timed out waiting for ${target} to answer`,
        opts('Check that the server is up and not overloaded.', 'retryable'))
    case /connection timeout|timeout expired|timeout exceeded when trying to connect/i.test(message):
      return new ConnectorError('TIMEOUT', `Timed out talking to ${target}`,
        opts('Check that the server is up and reachable, or raise the connect timeout.'))
    case /Connection terminated|not queryable|Client was closed/i.test(message):
      return new ConnectorError('CONNECTION_LOST', `Connection to ${target} was closed: ${message}`,
        opts('Check that the server is running; Junction reconnects when it is back.'))

    // --- socket, DNS and TLS errors (certificate problems -> TLS_FAILED); all mean no connection ---
    default:
      return classifyNetworkError(err, target) ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${message}`,
        opts('Check the connector configuration and that the server is reachable from Junction.'))
  }
}

/** SQLSTATE classes that belong to one row's data: 21 cardinality, 22 data, 23 integrity, 54 limits (a too large value), P0 raised by a trigger. */
const ROW_ERROR_CLASSES = new Set(['21', '22', '23', '54', 'P0'])

/**
 * Whether a failure belongs to one row's data (so the other rows of a batch may still succeed),
 * as opposed to the statement, the connection or the server.
 */
export function isRowError(e: ConnectorError): boolean {
  const cause = e.cause as { code?: unknown; severity?: unknown } | undefined
  return e.kind === 'permanent' && typeof cause?.severity === 'string' && typeof cause.code === 'string' && ROW_ERROR_CLASSES.has(cause.code.slice(0, 2))
}
