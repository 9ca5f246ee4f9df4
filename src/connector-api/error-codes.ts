/**
 * What the caller should do with a failed operation. Declared here, not in errors.ts: errors.ts
 * reads this table, so the table taking the type from there made an import cycle.
 */
export type FailureKind =
  /** The connection is gone: pause, reconnect, resume. */
  | 'not_connected'
  /** Try the same thing again later. */
  | 'retryable'
  /** Retrying will not help (bad data, bad config, no permission). */
  | 'permanent'

/**
 * Every code a connector may raise, in one table: `ConnectorError` takes only these, so a new code
 * is a line here and a row in docs/errors.md (a test compares the two). `connection` codes come
 * from probe, start and health (a Test's `error.code`, a connector's `statusCode`); the others
 * from deliveries, with the kind that docs/errors.md promises for them.
 */
export const connectorErrorCodes = {
  // connection
  UNKNOWN_HOST: 'connection',
  CONNECTION_REFUSED: 'connection',
  TIMEOUT: 'connection',
  TLS_FAILED: 'connection',
  TLS_REQUIRED: 'connection',
  TLS_NOT_SUPPORTED: 'connection',
  AUTHENTICATION_FAILED: 'connection',
  NOT_PERMITTED: 'connection',
  DATABASE_NOT_FOUND: 'connection',
  TOPIC_NOT_FOUND: 'connection',
  CONNECTION_LOST: 'connection',
  CONNECTION_FAILED: 'connection',
  // delivery
  INVALID_STATEMENT: 'permanent',
  STATEMENT_WRITES_NOTHING: 'permanent',
  INVALID_DATA: 'permanent',
  CONSTRAINT_VIOLATION: 'permanent',
  INVALID_PARAMS: 'permanent',
  INVALID_TOPIC: 'permanent',
  MESSAGE_TOO_LARGE: 'permanent',
  PUBLISH_REFUSED: 'permanent',
  STREAM_NOT_FOUND: 'permanent',
  READ_ONLY: 'permanent',
  QUERY_FAILED: 'permanent',
  EXCHANGE_NOT_FOUND: 'permanent',
  UNROUTABLE: 'permanent',
  TRANSACTION_CONFLICT: 'retryable',
  SERVER_RESOURCES: 'retryable',
  SERVER_ERROR: 'retryable',
  BROKER_UNAVAILABLE: 'retryable',
  PUBLISH_NACKED: 'retryable',
  RATE_LIMITED: 'retryable',
} as const satisfies Record<string, 'connection' | Exclude<FailureKind, 'not_connected'>>

export type ConnectorErrorCode = keyof typeof connectorErrorCodes
