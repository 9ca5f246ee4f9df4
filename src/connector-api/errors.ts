import type { ConnectorErrorCode, FailureKind } from './error-codes.js'

export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode
  readonly kind: FailureKind
  /** What the user can do about it; shown next to the message. */
  readonly hint: string | undefined
  /** The least time before a retry that the resource asked for (HTTP Retry-After); the runtime waits at least this long. */
  readonly retryAfterMs: number | undefined
  /**
   * The action param the error is about (`sql`, `topic`), when it is one: a rule save that an
   * action's check refuses names the field `actions.<i>.params.<param>`.
   */
  readonly param: string | undefined
  constructor(code: ConnectorErrorCode, message: string, opts: { kind?: FailureKind; hint?: string; cause?: unknown; retryAfterMs?: number; param?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ConnectorError'
    this.code = code
    this.kind = opts.kind ?? 'not_connected'
    this.hint = opts.hint
    this.retryAfterMs = opts.retryAfterMs
    this.param = opts.param
  }
}

/** `err` as the refusal of the action param `param` (a rule's save names that field), when it is a permanent ConnectorError; anything else as it is. */
export function aboutParam(err: unknown, param: string): unknown {
  if (!(err instanceof ConnectorError) || err.kind !== 'permanent' || err.param !== undefined) return err
  return new ConnectorError(err.code, err.message, { kind: err.kind, ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err, param })
}

const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_TLS_HANDSHAKE_TIMEOUT', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
])

/**
 * Maps a Node.js socket/DNS/TLS error to a connection code with a user-facing message and hint.
 * Returns undefined when the error is not a network-level one (the connector classifies it).
 */
export function classifyNetworkError(err: unknown, target: string): ConnectorError | undefined {
  const e = err as { code?: string; message?: string } | undefined
  const code = e?.code ?? ''
  const detail = e?.message ?? String(err)
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return new ConnectorError('UNKNOWN_HOST', `Cannot resolve host of ${target}: ${detail}`, {
      hint: 'Check the host name for typos, or use an IP address.', cause: err,
    })
  }
  if (code === 'ECONNREFUSED') {
    return new ConnectorError('CONNECTION_REFUSED', `Connection to ${target} was refused`, {
      hint: 'Check that the server is running and listening on this port, and that the port is right.', cause: err,
    })
  }
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ABORT_ERR' || code === 'TIMEOUT') {
    return new ConnectorError('TIMEOUT', `Timed out connecting to ${target}`, {
      hint: 'Check the address and any firewall between Junction and the server, or raise the connect timeout.', cause: err,
    })
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new ConnectorError('CONNECTION_LOST', `Connection to ${target} failed: ${detail}`, {
      hint: 'Check that the server is reachable and healthy.', cause: err,
    })
  }
  if (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(detail)) {
    return new ConnectorError('TLS_FAILED', `TLS handshake with ${target} failed: ${detail}`, {
      hint: 'Check the CA certificate and server name, or turn off certificate verification for a self-signed server you trust.',
      cause: err,
    })
  }
  return undefined
}

/** A batch where only some messages failed: the others were delivered and must not be resent. */
export class BatchError extends ConnectorError {
  readonly failures: ReadonlyArray<{ readonly index: number; readonly error: ConnectorError }>
  constructor(failures: ReadonlyArray<{ index: number; error: ConnectorError }>, message = `${failures.length} message(s) of the batch failed`) {
    const first = failures[0]?.error
    super(first?.code ?? 'CONNECTION_FAILED', message, { kind: first?.kind ?? 'permanent' })
    this.name = 'BatchError'
    this.failures = failures
  }
}
