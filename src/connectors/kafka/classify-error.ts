import { ConnectorError, classifyNetworkError, toConnectorError } from '../../connector-api/index.js'

/** Where the error happened; it changes what the user should check. */
export type KafkaPhase =
  /** Opening a connection to a bootstrap server: TCP, TLS, SASL handshake. */
  | 'handshake'
  /** Talking to the brokers the cluster metadata advertises (not the bootstrap address). */
  | 'metadata'
  /** A request on an established connection (health, produce). */
  | 'request'

export interface ClassifyContext {
  /** The bootstrap server (host:port) being talked to, for messages. */
  readonly target: string
  readonly phase: KafkaPhase
  readonly tls: boolean
  /** The SASL mechanism configured (`none`, `plain`...). */
  readonly mechanism: string
}

interface ErrorLike {
  name?: string
  type?: string
  /** A socket error code (string) or, on protocol errors, Kafka's numeric error code. */
  code?: string | number
  retriable?: boolean
  message?: string
  broker?: string
  cause?: unknown
}

/** kafkajs wraps the real error in these (`retry: { retries: 0 }` still wraps once). */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError'])

const TLS_HINT_PLAINTEXT_PORT =
  "This port does not seem to speak TLS (a Kafka PLAINTEXT or SASL_PLAINTEXT listener): turn TLS off, or use the broker's SSL / SASL_SSL listener port."
const ADVERTISED_HINT =
  "The bootstrap server answered, but the broker address it advertises cannot be reached from Junction: check the broker's advertised.listeners."

/**
 * Any error of a Kafka operation as a ConnectorError, in the kit's order: a ConnectorError as it
 * is, an abort or timeout as TIMEOUT, then classifyKafkaError.
 */
export function toKafkaError(err: unknown, ctx: ClassifyContext, signal?: AbortSignal): ConnectorError {
  return toConnectorError(err, ctx.target, { signal, classify: (e) => classifyKafkaError(e, ctx) })
}

/**
 * Maps an error from kafkajs (or from the probe's own socket steps) to a ConnectorError with a
 * stable code, a message and a hint. One switch, keyed by kafkajs's error name or, for errors the
 * broker answered with, the Kafka protocol error type.
 */
export function classifyKafkaError(err: unknown, ctx: ClassifyContext): ConnectorError {
  const e = innermost(err)
  const key = e.name === 'KafkaJSProtocolError' ? (e.type ?? e.name) : (e.name ?? '')
  const target = e.broker ?? ctx.target
  const detail = messageOf(e)

  switch (key) {
    case 'KafkaJSSASLAuthenticationError':
    case 'SASL_AUTHENTICATION_FAILED':
      return new ConnectorError('AUTHENTICATION_FAILED', `SASL ${ctx.mechanism.toUpperCase()} authentication to ${target} failed: ${stripPrefix(detail)}`, {
        kind: 'permanent', hint: 'Check the user name and password, and that the user exists for this SASL mechanism on the broker.', cause: err,
      })
    case 'UNSUPPORTED_SASL_MECHANISM':
      return new ConnectorError('AUTHENTICATION_FAILED', `The broker at ${target} does not enable SASL mechanism ${ctx.mechanism.toUpperCase()} on this listener`, {
        kind: 'permanent', hint: "Pick a mechanism listed in the listener's sasl.enabled.mechanisms.", cause: err,
      })
    case 'ILLEGAL_SASL_STATE':
      return new ConnectorError('AUTHENTICATION_FAILED', `The listener at ${target} does not use SASL, but SASL ${ctx.mechanism.toUpperCase()} is configured`, {
        kind: 'permanent', hint: "Set the authentication mechanism to none, or use the broker's SASL listener port.", cause: err,
      })

    case 'TOPIC_AUTHORIZATION_FAILED':
    case 'CLUSTER_AUTHORIZATION_FAILED':
    case 'GROUP_AUTHORIZATION_FAILED':
    case 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED':
    case 'DELEGATION_TOKEN_AUTHORIZATION_FAILED':
      return new ConnectorError('NOT_PERMITTED', `The broker at ${target} refused the request: ${detail}`, {
        kind: 'permanent', hint: "Grant this user the needed ACLs (e.g. WRITE and DESCRIBE on the topic, IDEMPOTENT_WRITE on the cluster for an idempotent producer).", cause: err,
      })
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new ConnectorError('TOPIC_NOT_FOUND', `The topic does not exist on ${target}`, {
        kind: 'permanent', hint: 'Create the topic, or enable auto.create.topics.enable on the brokers.', cause: err,
      })

    case 'KafkaJSRequestTimeoutError':
    case 'REQUEST_TIMED_OUT':
      return new ConnectorError('TIMEOUT', `Request to ${target} timed out: ${detail}`, {
        kind: 'retryable',
        hint: ctx.phase === 'handshake'
          ? 'The server accepted the connection but did not answer like a Kafka broker: check the port, the TLS setting, or raise the request timeout.'
          : 'The broker is slow or overloaded; raise the request timeout if it persists.',
        cause: err,
      })
    case 'KafkaJSConnectionClosedError':
      // While setting up, a broker that hangs up is nearly always a listener expecting SASL or
      // TLS (Kafka answers ApiVersions without SASL, then closes on the first real request).
      return ctx.phase === 'request'
        ? new ConnectorError('CONNECTION_LOST', `${target} closed the connection`, { hint: 'Check that the broker is running and healthy.', cause: err })
        : new ConnectorError('CONNECTION_FAILED', `${target} closed the connection before answering`, {
          hint: 'The listener may require SASL authentication or TLS: check the authentication and TLS settings against the listener on this port.', cause: err,
        })
    case 'KafkaJSConnectionError':
      return networkError(e, err, target, ctx)
    case 'KafkaJSServerDoesNotSupportApiKey':
    case 'UNSUPPORTED_VERSION':
      return new ConnectorError('CONNECTION_FAILED', `The broker at ${target} does not support a request Junction needs: ${detail}`, {
        kind: 'permanent', hint: 'Use Kafka 1.0 or newer (Kafka 4.x dropped request versions kafkajs speaks; 3.x works).', cause: err,
      })
    case 'KafkaJSNoBrokerAvailableError':
      return new ConnectorError('CONNECTION_LOST', `No broker of ${target} is reachable: ${detail}`, {
        hint: 'Check that the brokers are running and reachable; Junction reconnects when they are back.', cause: err,
      })
    case 'KafkaJSBrokerNotFound':
    case 'KafkaJSMetadataNotLoaded':
    case 'KafkaJSTopicMetadataNotLoaded':
    case 'LEADER_NOT_AVAILABLE':
    case 'NOT_LEADER_FOR_PARTITION':
      return new ConnectorError('CONNECTION_LOST', `No usable broker at ${target}: ${detail}`, {
        kind: 'retryable', hint: 'Check that the brokers are running; a restarting cluster recovers by itself.', cause: err,
      })

    // --- a write (produce) the broker refused ---
    case 'NOT_ENOUGH_REPLICAS':
    case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
    case 'REPLICA_NOT_AVAILABLE':
    case 'BROKER_NOT_AVAILABLE':
    case 'KAFKA_STORAGE_ERROR':
    case 'NETWORK_EXCEPTION':
    case 'NOT_CONTROLLER':
    case 'FENCED_LEADER_EPOCH':
    case 'UNKNOWN_LEADER_EPOCH':
    case 'PREFERRED_LEADER_NOT_AVAILABLE':
    case 'ELIGIBLE_LEADERS_NOT_AVAILABLE':
      return new ConnectorError('BROKER_UNAVAILABLE', `The broker at ${target} cannot take the write now: ${detail} (${key})`, {
        kind: 'retryable', hint: 'The cluster is electing leaders, short of in-sync replicas or restarting; the write is retried.', cause: err,
      })
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return new ConnectorError('MESSAGE_TOO_LARGE', `The broker at ${target} refused the record as too large: ${detail}`, {
        kind: 'permanent', hint: "Make the record smaller, or raise the topic's max.message.bytes (and the broker's message.max.bytes); keep producer.maxBatchBytes at or below them.", cause: err,
      })
    case 'INVALID_RECORD':
    case 'INVALID_TIMESTAMP':
    case 'INVALID_TOPIC_EXCEPTION':
    case 'CORRUPT_MESSAGE':
      return new ConnectorError('INVALID_DATA', `The broker at ${target} refused the record: ${detail} (${key})`, {
        kind: 'permanent', hint: "Check the action's topic, key and timestamp templates against the topic's rules (e.g. a compacted topic needs a key, message.timestamp.difference.max.ms bounds timestamps).", cause: err,
      })
    case 'KafkaJSLockTimeout':
      return new ConnectorError('TIMEOUT', `The producer for ${target} is busy: ${detail}`, {
        kind: 'retryable', hint: 'Too many writes wait for the same broker; they are retried.', cause: err,
      })
    case 'KafkaJSError':
    case 'KafkaJSNonRetriableError':
      // kafkajs's own refusals, not the broker's: a producer that is (being) disconnected, or a request it will not send.
      return /disconnect/i.test(detail)
        ? new ConnectorError('CONNECTION_LOST', `The producer for ${target} is not connected: ${detail}`, { hint: 'Junction reconnects the connector.', cause: err })
        : new ConnectorError('CONNECTION_FAILED', `kafkajs refused the request to ${target}: ${detail}`, {
          kind: e.retriable === true ? 'retryable' : 'permanent', hint: 'Check the action settings and the producer options.', cause: err,
        })
    default:
      if (e.name === 'KafkaJSProtocolError') {
        return new ConnectorError('CONNECTION_FAILED', `The broker at ${target} answered with an error: ${detail} (${key})`, {
          kind: e.retriable === false ? 'permanent' : 'retryable', hint: 'Check the broker logs for this error.', cause: err,
        })
      }
      // Node socket/DNS/TLS errors from the probe's own steps, and anything kafkajs did not wrap.
      return networkError(e, err, target, ctx)
  }
}

/** A failed connection: DNS, TCP, TLS, or a connect timeout. */
function networkError(e: ErrorLike, original: unknown, target: string, ctx: ClassifyContext): ConnectorError {
  const detail = messageOf(e).replace(/^Connection error: /, '')
  const code = typeof e.code === 'string' ? e.code : ''
  const tlsProblem = ctx.tls && (/TLS|SSL|certificate|secure/i.test(detail) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))
  if (tlsProblem) {
    const closedEarly = /disconnected before secure TLS connection/i.test(detail) || /wrong version number|packet length too long/i.test(detail)
    return new ConnectorError('TLS_FAILED', `TLS handshake with ${target} failed: ${detail}`, {
      hint: closedEarly
        ? TLS_HINT_PLAINTEXT_PORT
        : 'Check the CA certificate and server name, or turn off certificate verification for a self-signed broker you trust.',
      cause: original,
    })
  }
  if (detail === 'Connection timeout' || code === 'ETIMEDOUT') {
    return new ConnectorError('TIMEOUT', `Timed out connecting to ${target}`, {
      hint: ctx.tls
        ? `No TLS handshake within the connect timeout. ${TLS_HINT_PLAINTEXT_PORT} Otherwise check the address and firewalls.`
        : 'Check the address and any firewall between Junction and the broker, or raise the connect timeout.',
      cause: original,
    })
  }
  const net = classifyNetworkError({ code, message: detail }, target)
  if (net) {
    if (ctx.phase === 'metadata') return new ConnectorError(net.code, net.message, { kind: net.kind, hint: ADVERTISED_HINT, cause: original })
    return new ConnectorError(net.code, net.message, { kind: net.kind, hint: net.hint, cause: original })
  }
  return new ConnectorError('CONNECTION_FAILED', `Talking to ${target} failed: ${detail}`, {
    hint: 'Check the bootstrap servers, TLS and authentication settings, and that the brokers are healthy.', cause: original,
  })
}

function innermost(err: unknown): ErrorLike {
  if (typeof err !== 'object' || err === null) return { message: String(err) }
  let e = err as ErrorLike
  for (let i = 0; i < 5 && typeof e.cause === 'object' && e.cause !== null && WRAPPERS.has(e.name ?? ''); i++) e = e.cause as ErrorLike
  return e
}

function messageOf(e: ErrorLike): string {
  return typeof e.message === 'string' && e.message !== '' ? e.message : (e.name ?? 'unknown error')
}

/** kafkajs says "SASL PLAIN authentication failed: Authentication failed: Invalid..."; keep the broker's part. */
function stripPrefix(message: string): string {
  return message.replace(/^SASL [\w-]+ authentication failed: /i, '')
}
