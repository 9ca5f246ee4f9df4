import { classifyBy, classifyNetworkError, ConnectorError, type ErrorRow, type FailureKind } from '../../connector-api/index.js'

/** `connect`: opening a connection (Test, start, health, the pool); `query`: a rule action's statement. */
export type MysqlPhase = 'connect' | 'query'
type Facts = { err: unknown; key: number; code: string; message: string; target: string; user: string; phase: MysqlPhase }

// Server error numbers, shared by MySQL and MariaDB unless noted (4025 MariaDB, 3159/3819 MySQL).
const DATA = [1264, 1265, 1292, 1300, 1366, 1367, 1406, 1411, 1690, 1918, 4078]
const CONSTRAINT = [1048, 1062, 1216, 1217, 1263, 1364, 1451, 1452, 1557, 1586, 1859, 3819, 4025]
/** Errors of one row's data (1644: a trigger's SIGNAL): the other rows of a batch may still succeed. */
const ROW = new Set([...DATA, ...CONSTRAINT, 1644])
const byPhase = (f: Facts): FailureKind => (f.phase === 'connect' ? 'not_connected' : 'permanent')
const LOST = 'Junction reconnects when the server is back.'
// Server errors by number, then mysql2's own codes; socket, DNS and TLS errors are the kit's.
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  [[1045, 1698, 1130], 'AUTHENTICATION_FAILED', 'not_connected', '{target} refused the login of user "{user}": {message}',
    "Check the username and password, and that the user may connect from Junction's host. A server with require_secure_transport also answers this to a connection without TLS."],
  [[3159], 'TLS_REQUIRED', 'not_connected', '{target} accepts only TLS connections: {message}', 'Turn on TLS (tls.enable) for this connector.'],
  [[1049], 'DATABASE_NOT_FOUND', 'not_connected', '{target} has no such database: {message}', 'Check the database name.'],
  [[1044, 1142, 1143, 1227, 1370], 'NOT_PERMITTED', byPhase, '{target} does not permit user "{user}" this: {message}', 'Grant the user the privileges it needs (e.g. GRANT INSERT ON db.table TO ...).'],
  [[1040, 1203, 1129], 'CONNECTION_FAILED', 'retryable', '{target} refuses more connections: {message}', 'Lower poolSize or raise max_connections / max_user_connections; a blocked host needs FLUSH HOSTS.'],
  [DATA, 'INVALID_DATA', 'permanent', '{target} rejected a value: {message}', 'A value of the message does not fit its column (type, range, length); check the rule output and the SQL.'],
  [CONSTRAINT, 'CONSTRAINT_VIOLATION', 'permanent', '{target} rejected a row: {message}',
    'The row breaks a constraint (NOT NULL, UNIQUE, FOREIGN KEY, CHECK); check the rule output, or use INSERT IGNORE / ON DUPLICATE KEY UPDATE.'],
  [[1054, 1064, 1109, 1110, 1136, 1146, 1149, 1210, 1295, 1305, 1318, 1347, 1356, 1415, 1421, 1471], 'INVALID_STATEMENT', 'permanent', '{target} rejected the SQL: {message}',
    "Fix the action's SQL statement (table and column names, syntax)."],
  [[1213], 'TRANSACTION_CONFLICT', 'retryable', '{target} aborted the statement (deadlock): {message}', 'The statement is retried.'],
  [[1205, 1317, 1969, 3024], 'TIMEOUT', 'retryable', '{target} stopped the statement: {message}', 'A lock wait or statement timeout; the statement is retried. Check for long locks on the table.'],
  [[1290, 1792, 1836], 'READ_ONLY', 'retryable', '{target} is read-only: {message}', 'Point the connector at the primary; retried while it may be a failover.'],
  [[1021, 1037, 1038, 1041, 1114, 1461], 'SERVER_RESOURCES', 'retryable', '{target} is out of resources: {message}',
    'The server is short of disk, memory, table space or prepared statements (max_prepared_stmt_count); delivery is retried.'],
  [[1153, 1301], 'MESSAGE_TOO_LARGE', 'permanent', '{target} refused a too large packet: {message}', "Raise the server's max_allowed_packet, or lower the action's batch size."],
  [[1053, 1077, 1152, 1158, 1159, 1160, 1161, 1184, 1927, 2006, 2013], 'CONNECTION_LOST', 'not_connected', '{target} closed the connection: {message}', LOST],
  [(f) => f.key !== 0, 'QUERY_FAILED', 'permanent', '{target} rejected the statement: {message} (error {key})', "Check the action's SQL and the message data."],
  [(f) => f.code === 'HANDSHAKE_NO_SSL_SUPPORT', 'TLS_NOT_SUPPORTED', 'not_connected', '{target} does not support TLS connections', 'Turn off TLS (tls.enable), or configure ssl_cert and ssl_key on the server.'],
  [(f) => f.code === 'HANDSHAKE_SSL_ERROR', 'TLS_FAILED', 'not_connected', 'TLS handshake with {target} failed: {message}',
    'Check the CA certificate and server name, or turn off certificate verification for a self-signed server you trust.'],
  [(f) => f.code.startsWith('PROTOCOL_') || /closed state|Pool is closed/i.test(f.message), 'CONNECTION_LOST', 'not_connected', 'Connection to {target} was closed: {message}', LOST],
]
const byRule = classifyBy(RULES)

/** The one switch from mysql2 and Node errors to codes and kinds. `target` is `host:port/database`. */
export function classifyMysqlError(err: unknown, target: string, user: string, phase: MysqlPhase): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { errno?: unknown; code?: unknown; message?: unknown; sqlState?: unknown }
  // Only errors the server sent carry an SQLSTATE (Node's own have negative errnos).
  const key = typeof e.sqlState === 'string' && typeof e.errno === 'number' ? e.errno : 0
  const message = typeof e.message === 'string' ? e.message : String(err)
  return byRule({ err, key, code: typeof e.code === 'string' ? e.code : '', message, target, user, phase }) ?? classifyNetworkError(err, target)
    ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${message}`, { hint: 'Check the connector configuration and that the server is reachable from Junction.', cause: err })
}

/** Whether a failure belongs to one row's data (so the other rows of a batch may still succeed). */
export function isRowError(e: ConnectorError): boolean {
  const cause = e.cause as { errno?: unknown; sqlState?: unknown } | undefined
  return e.kind === 'permanent' && typeof cause?.sqlState === 'string' && ROW.has(Number(cause.errno))
}
