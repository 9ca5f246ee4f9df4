import { ConnectorError, classifyNetworkError, type ConnectorErrorCode, type FailureKind } from '../../connector-api/index.js'

/** `connect`: opening a connection (Test, start, health, the pool); `query`: a rule action's statement. */
export type MysqlPhase = 'connect' | 'query'

// Server error numbers, shared by MySQL and MariaDB unless noted (4025 MariaDB, 3159/3819 MySQL).
const DATA = [1264, 1265, 1292, 1300, 1366, 1367, 1406, 1411, 1690, 1918, 4078]
const CONSTRAINT = [1048, 1062, 1216, 1217, 1263, 1364, 1451, 1452, 1557, 1586, 1859, 3819, 4025]
/** Errors of one row's data (1644: a trigger's SIGNAL): the other rows of a batch may still succeed. */
const ROW = new Set([...DATA, ...CONSTRAINT, 1644])
type Rule = [errnos: number[], code: ConnectorErrorCode, kind: FailureKind | 'by_phase', what: string, hint: string]
const RULES: Rule[] = [
  [[1045, 1698, 1130], 'AUTHENTICATION_FAILED', 'not_connected', 'refused the login of user "%u"',
    "Check the username and password, and that the user may connect from Junction's host. A server with require_secure_transport also answers this to a connection without TLS."],
  [[3159], 'TLS_REQUIRED', 'not_connected', 'accepts only TLS connections', 'Turn on TLS (tls.enable) for this connector.'],
  [[1049], 'DATABASE_NOT_FOUND', 'not_connected', 'has no such database', 'Check the database name.'],
  [[1044, 1142, 1143, 1227, 1370], 'NOT_PERMITTED', 'by_phase', 'does not permit user "%u" this', 'Grant the user the privileges it needs (e.g. GRANT INSERT ON db.table TO ...).'],
  [[1040, 1203, 1129], 'CONNECTION_FAILED', 'retryable', 'refuses more connections', 'Lower poolSize or raise max_connections / max_user_connections; a blocked host needs FLUSH HOSTS.'],
  [DATA, 'INVALID_DATA', 'permanent', 'rejected a value', 'A value of the message does not fit its column (type, range, length); check the rule output and the SQL.'],
  [CONSTRAINT, 'CONSTRAINT_VIOLATION', 'permanent', 'rejected a row', 'The row breaks a constraint (NOT NULL, UNIQUE, FOREIGN KEY, CHECK); check the rule output, or use INSERT IGNORE / ON DUPLICATE KEY UPDATE.'],
  [[1054, 1064, 1109, 1110, 1136, 1146, 1149, 1210, 1295, 1305, 1318, 1347, 1356, 1415, 1421, 1471], 'INVALID_STATEMENT', 'permanent', 'rejected the SQL',
    "Fix the action's SQL statement (table and column names, syntax)."],
  [[1213], 'TRANSACTION_CONFLICT', 'retryable', 'aborted the statement (deadlock)', 'The statement is retried.'],
  [[1205, 1317, 1969, 3024], 'TIMEOUT', 'retryable', 'stopped the statement', 'A lock wait or statement timeout; the statement is retried. Check for long locks on the table.'],
  [[1290, 1792, 1836], 'READ_ONLY', 'retryable', 'is read-only', 'Point the connector at the primary; retried while it may be a failover.'],
  [[1021, 1037, 1038, 1041, 1114, 1461], 'SERVER_RESOURCES', 'retryable', 'is out of resources',
    'The server is short of disk, memory, table space or prepared statements (max_prepared_stmt_count); delivery is retried.'],
  [[1153, 1301], 'MESSAGE_TOO_LARGE', 'permanent', 'refused a too large packet', "Raise the server's max_allowed_packet, or lower the action's batch size."],
  [[1053, 1077, 1152, 1158, 1159, 1160, 1161, 1184, 1927, 2006, 2013], 'CONNECTION_LOST', 'not_connected', 'closed the connection', 'Junction reconnects when the server is back.'],
]
const BY_ERRNO = new Map(RULES.flatMap((r) => r[0].map((n) => [n, r] as const)))

/**
 * The one switch from mysql2 and Node errors to codes and kinds: server errors by error number,
 * then mysql2's own codes, then socket, DNS and TLS errors. `target` is `host:port/database`.
 */
export function classifyMysqlError(err: unknown, target: string, user: string, phase: MysqlPhase): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (err ?? {}) as { errno?: unknown; code?: unknown; message?: unknown; sqlState?: unknown }
  // Only errors the server sent carry an SQLSTATE (Node's own have negative errnos).
  const errno = typeof e.sqlState === 'string' && typeof e.errno === 'number' ? e.errno : 0
  const code = typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  const make = (c: ConnectorErrorCode, text: string, hint: string, kind: FailureKind = 'not_connected') => new ConnectorError(c, text, { hint, kind, cause: err })
  const rule = BY_ERRNO.get(errno)
  if (rule) {
    const kind = rule[2] === 'by_phase' ? (phase === 'connect' ? 'not_connected' : 'permanent') : rule[2]
    return make(rule[1], `${target} ${rule[3].replace('%u', user)}: ${message}`, rule[4], kind)
  }
  if (errno !== 0) return make('QUERY_FAILED', `${target} rejected the statement: ${message} (error ${errno})`, "Check the action's SQL and the message data.", 'permanent')
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return make('TLS_NOT_SUPPORTED', `${target} does not support TLS connections`, 'Turn off TLS (tls.enable), or configure ssl_cert and ssl_key on the server.')
  if (code === 'HANDSHAKE_SSL_ERROR') {
    return make('TLS_FAILED', `TLS handshake with ${target} failed: ${message}`, 'Check the CA certificate and server name, or turn off certificate verification for a self-signed server you trust.')
  }
  if (code.startsWith('PROTOCOL_') || /closed state|Pool is closed/i.test(message)) return make('CONNECTION_LOST', `Connection to ${target} was closed: ${message}`, 'Junction reconnects when the server is back.')
  return classifyNetworkError(err, target) ?? make('CONNECTION_FAILED', `${target}: ${message}`, 'Check the connector configuration and that the server is reachable from Junction.')
}

/** Whether a failure belongs to one row's data (so the other rows of a batch may still succeed). */
export function isRowError(e: ConnectorError): boolean {
  const cause = e.cause as { errno?: unknown; sqlState?: unknown } | undefined
  return e.kind === 'permanent' && typeof cause?.sqlState === 'string' && ROW.has(Number(cause.errno))
}
