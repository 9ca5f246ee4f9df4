import { classifyBy, classifyNetworkError, ConnectorError, type ErrorRow } from '../../connector-api/index.js'

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

type Facts = { err: unknown; key: string; klass: string; message: string; detail: string; serverHint: string; target: string; user: string; phase: PgPhase }
const inClass = (...classes: string[]) => (f: Facts) => classes.includes(f.klass)
const RETRY = 'retryable'
const FAIL = 'permanent'
const CONNECT = 'not_connected'
// Server errors by SQLSTATE (only errors the server sent have one), then the client library's own messages.
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  [['28P01'], 'AUTHENTICATION_FAILED', CONNECT, 'Authentication of user "{user}" on {target} failed: {message}', 'Check the username and password.'],
  [(f) => f.key === '28000' && /no pg_hba\.conf entry.*no encryption/i.test(f.message), 'TLS_REQUIRED', CONNECT, '{target} accepts only TLS connections from this address: {message}',
    'Turn on TLS (tls.enable) for this connector.'],
  [(f) => f.key === '28000' && /no pg_hba\.conf entry/i.test(f.message), 'AUTHENTICATION_FAILED', CONNECT, '{target} does not accept user "{user}" from this address: {message}',
    "Ask the database administrator to allow this user and address in the server's pg_hba.conf."],
  [['28000'], 'AUTHENTICATION_FAILED', CONNECT, 'Authentication of user "{user}" on {target} failed: {message}', 'Check the username and password, and that the role exists and may log in.'],
  [['3D000'], 'DATABASE_NOT_FOUND', CONNECT, 'Database not found on {target}: {message}', 'Check the database name; PostgreSQL names are case-sensitive when created quoted.'],
  [['42501'], 'NOT_PERMITTED', (f) => (f.phase === 'connect' ? CONNECT : FAIL), 'User "{user}" is not permitted on {target}: {message}',
    'Grant the user the privileges it needs (CONNECT on the database, and those the rule SQL uses, e.g. INSERT on the table).'],
  [['53300'], 'CONNECTION_FAILED', RETRY, '{target} has no free connection slots: {message}', "Lower this connector's pool size, or raise max_connections on the server."],
  // 53100 disk full, 53200 out of memory, 53400 configuration limit exceeded.
  [inClass('53'), 'SERVER_RESOURCES', RETRY, '{target} is out of resources: {message}', 'The server is short of disk, memory or another resource; delivery is retried. Check the server.'],
  // This connection was terminated (pg_terminate_backend, or the server shutting down): a new one may work at once; when the server is really going away the retry finds that.
  [['57P01'], 'CONNECTION_LOST', RETRY, '{target} terminated the connection: {message}', 'The server or an administrator ended the connection; Junction retries on a new one.'],
  [(f) => f.key === '57P02' || f.key === '57P03' || f.klass === '08', 'CONNECTION_LOST', CONNECT, '{target} is not available: {message}',
    'The server is shutting down, starting up or restarting; Junction reconnects when it is back.'],
  [['40001', '40P01'], 'TRANSACTION_CONFLICT', RETRY, '{target} aborted the statement: {message}', 'A serialization failure or deadlock with other sessions; the statement is retried.'],
  // 57014 statement_timeout / cancelled, 55P03 lock_timeout.
  [['57014', '55P03'], 'TIMEOUT', RETRY, '{target} cancelled the statement: {message}', 'The statement hit a statement or lock timeout; it is retried. Check for long locks on the table.'],
  [['25006'], 'READ_ONLY', RETRY, '{target} is read-only: {message}',
    'The server is a standby (or the database is read-only); point the connector at the primary. Retried while it may be a failover.'],
  [inClass('22'), 'INVALID_DATA', FAIL, '{target} rejected a value: {message}{detail}',
    'A value from the message does not fit its column or expression (wrong type, out of range, bad format); check the rule output and the SQL.{serverHint}'],
  [inClass('23'), 'CONSTRAINT_VIOLATION', FAIL, '{target} rejected a row: {message}{detail}',
    'The row breaks a constraint of the table (NOT NULL, UNIQUE, FOREIGN KEY, CHECK); check the rule output, or use ON CONFLICT for duplicates.{serverHint}'],
  [inClass('21'), 'INVALID_DATA', FAIL, '{target} rejected the rows: {message}{detail}', 'For example ON CONFLICT DO UPDATE hit the same row twice in one statement.{serverHint}'],
  // 42P01 undefined table, 42703 undefined column, 42601 syntax error, 42804 datatype mismatch...
  [inClass('42', '0A'), 'INVALID_STATEMENT', FAIL, '{target} rejected the SQL: {message}', "Fix the action's SQL statement (table and column names, types, syntax).{serverHint}"],
  [inClass('XX', '58'), 'SERVER_ERROR', RETRY, '{target} failed internally: {message}', 'An internal or I/O error on the server; delivery is retried. Check the server log.'],
  [(f) => f.key !== '', 'QUERY_FAILED', FAIL, '{target} rejected the statement: {message}{detail} (SQLSTATE {key})', "Check the action's SQL and the message data.{serverHint}"],
  [(f) => f.err instanceof NoPasswordError || /client password must be a (non-empty )?string/i.test(f.message), 'AUTHENTICATION_FAILED', CONNECT,
    '{target} asks user "{user}" for a password, but none is configured', 'Set the password.'],
  [/server does not support SSL/i, 'TLS_NOT_SUPPORTED', CONNECT, '{target} does not support TLS connections', 'Turn off TLS (tls.enable) for this connector, or enable ssl on the server.'],
  [/error establishing an SSL connection/i, 'TLS_FAILED', CONNECT, 'TLS negotiation with {target} failed: {message}', 'Check that the server has TLS (ssl = on) configured correctly.'],
  [/query read timeout/i, 'TIMEOUT', RETRY, 'Timed out waiting for {target} to answer', 'Check that the server is up and not overloaded.'],
  [/connection timeout|timeout expired|timeout exceeded when trying to connect/i, 'TIMEOUT', CONNECT, 'Timed out talking to {target}', 'Check that the server is up and reachable, or raise the connect timeout.'],
  [/Connection terminated|not queryable|Client was closed/i, 'CONNECTION_LOST', CONNECT, 'Connection to {target} was closed: {message}', 'Check that the server is running; Junction reconnects when it is back.'],
]
const byRule = classifyBy(RULES)

/**
 * Every failure the PostgreSQL connector reports goes through this one table: server errors by
 * SQLSTATE, then the client library's messages, then socket/DNS/TLS errors (the kit's). `target`
 * names the server (`host:port/database`) in messages; it never holds a secret.
 */
export function classifyPgError(err: unknown, target: string, user: string, phase: PgPhase = 'connect'): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { code?: unknown; message?: unknown; severity?: unknown; detail?: unknown; hint?: unknown }
  // Only errors the server sent carry a severity; Node's own codes (EPIPE...) are not SQLSTATEs.
  const key = typeof e.severity === 'string' && typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  // The server's own detail and hint (e.g. `Key (id)=(7) already exists.`) go with the message.
  const detail = typeof e.detail === 'string' && e.detail !== '' ? ` (${e.detail})` : ''
  const serverHint = typeof e.hint === 'string' && e.hint !== '' ? ` PostgreSQL says: ${e.hint}` : ''
  return byRule({ err, key, klass: key.slice(0, 2), message, detail, serverHint, target, user, phase }) ?? classifyNetworkError(err, target)
    ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${message}`, { hint: 'Check the connector configuration and that the server is reachable from Junction.', cause: err })
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
