import { ConnectorError, classifyBy, classifyNetworkError, toConnectorError, type ErrorRow, type FailureKind } from '../../connector-api/index.js'

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

/**
 * What a row reads off the innermost error: the key (kafkajs's error name or, for errors the
 * broker answered with, the Kafka protocol error type), its text, and the context messages name.
 */
type Facts = Omit<ClassifyContext, 'mechanism'> & {
  err: unknown
  key: string | number
  /** The error's message (its name when it has none). */
  message: string
  /** The broker answered with a protocol error no row before names. */
  answered: boolean
  retriable: unknown
  /** The socket or TLS error code (`ECONNREFUSED`), or ''. */
  code: string
  /** The message without kafkajs's `Connection error: ` prefix. */
  said: string
  /** The message without kafkajs's `SASL PLAIN authentication failed: ` prefix: the broker's part. */
  saslSaid: string
  /** The configured SASL mechanism, upper case (`PLAIN`). */
  mechanism: string
}

/** kafkajs wraps the real error in these (`retry: { retries: 0 }` still wraps once). */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError'])

const TLS_HINT_PLAINTEXT_PORT =
  "This port does not seem to speak TLS (a Kafka PLAINTEXT or SASL_PLAINTEXT listener): turn TLS off, or use the broker's SSL / SASL_SSL listener port."
const ADVERTISED_HINT =
  "The bootstrap server answered, but the broker address it advertises cannot be reached from Junction: check the broker's advertised.listeners."
const retryableUnless = (f: Facts): FailureKind => (f.retriable === false ? 'permanent' : 'retryable')
const KAFKAJS_OWN = ['KafkaJSError', 'KafkaJSNonRetriableError']
const isKey = (keys: readonly string[], test: (f: Facts) => boolean) => (f: Facts) => keys.includes(f.key as string) && test(f)
const tlsTrouble = (f: Facts) => f.tls && (/TLS|SSL|certificate|secure/i.test(f.said) || f.code.startsWith('ERR_TLS') || f.code.startsWith('ERR_SSL'))

/** kafkajs's error names and the broker's error types first, then a connection's DNS, TCP and TLS failures; the first row that matches wins. */
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  [['KafkaJSSASLAuthenticationError', 'SASL_AUTHENTICATION_FAILED'], 'AUTHENTICATION_FAILED', 'permanent', 'SASL {mechanism} authentication to {target} failed: {saslSaid}',
    'Check the user name and password, and that the user exists for this SASL mechanism on the broker.'],
  [['UNSUPPORTED_SASL_MECHANISM'], 'AUTHENTICATION_FAILED', 'permanent', 'The broker at {target} does not enable SASL mechanism {mechanism} on this listener',
    "Pick a mechanism listed in the listener's sasl.enabled.mechanisms."],
  [['ILLEGAL_SASL_STATE'], 'AUTHENTICATION_FAILED', 'permanent', 'The listener at {target} does not use SASL, but SASL {mechanism} is configured',
    "Set the authentication mechanism to none, or use the broker's SASL listener port."],

  [['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED'],
    'NOT_PERMITTED', 'permanent', 'The broker at {target} refused the request: {message}',
    'Grant this user the needed ACLs (e.g. WRITE and DESCRIBE on the topic, IDEMPOTENT_WRITE on the cluster for an idempotent producer).'],
  [['UNKNOWN_TOPIC_OR_PARTITION'], 'TOPIC_NOT_FOUND', 'permanent', 'The topic does not exist on {target}', 'Create the topic, or enable auto.create.topics.enable on the brokers.'],

  [['KafkaJSRequestTimeoutError', 'REQUEST_TIMED_OUT'], 'TIMEOUT', 'retryable', 'Request to {target} timed out: {message}', (f) => (f.phase === 'handshake'
    ? 'The server accepted the connection but did not answer like a Kafka broker: check the port, the TLS setting, or raise the request timeout.'
    : 'The broker is slow or overloaded; raise the request timeout if it persists.')],
  [isKey(['KafkaJSConnectionClosedError'], (f) => f.phase === 'request'), 'CONNECTION_LOST', undefined, '{target} closed the connection', 'Check that the broker is running and healthy.'],
  // While setting up, a broker that hangs up is nearly always a listener expecting SASL or TLS
  // (Kafka answers ApiVersions without SASL, then closes on the first real request).
  [['KafkaJSConnectionClosedError'], 'CONNECTION_FAILED', undefined, '{target} closed the connection before answering',
    'The listener may require SASL authentication or TLS: check the authentication and TLS settings against the listener on this port.'],
  [['KafkaJSServerDoesNotSupportApiKey', 'UNSUPPORTED_VERSION'], 'CONNECTION_FAILED', 'permanent', 'The broker at {target} does not support a request Junction needs: {message}',
    'Use Kafka 1.0 or newer (Kafka 4.x dropped request versions kafkajs speaks; 3.x works).'],
  [['KafkaJSNoBrokerAvailableError'], 'CONNECTION_LOST', undefined, 'No broker of {target} is reachable: {message}',
    'Check that the brokers are running and reachable; Junction reconnects when they are back.'],
  [['KafkaJSBrokerNotFound', 'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION'],
    'CONNECTION_LOST', 'retryable', 'No usable broker at {target}: {message}', 'Check that the brokers are running; a restarting cluster recovers by itself.'],

  // --- a write (produce) the broker refused ---
  [['NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'REPLICA_NOT_AVAILABLE', 'BROKER_NOT_AVAILABLE', 'KAFKA_STORAGE_ERROR', 'NETWORK_EXCEPTION',
    'NOT_CONTROLLER', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'PREFERRED_LEADER_NOT_AVAILABLE', 'ELIGIBLE_LEADERS_NOT_AVAILABLE'],
    'BROKER_UNAVAILABLE', 'retryable', 'The broker at {target} cannot take the write now: {message} ({key})',
    'The cluster is electing leaders, short of in-sync replicas or restarting; the write is retried.'],
  [['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'], 'MESSAGE_TOO_LARGE', 'permanent', 'The broker at {target} refused the record as too large: {message}',
    "Make the record smaller, or raise the topic's max.message.bytes (and the broker's message.max.bytes); keep producer.maxBatchBytes at or below them."],
  [['INVALID_RECORD', 'INVALID_TIMESTAMP', 'INVALID_TOPIC_EXCEPTION', 'CORRUPT_MESSAGE'], 'INVALID_DATA', 'permanent', 'The broker at {target} refused the record: {message} ({key})',
    "Check the action's topic, key and timestamp templates against the topic's rules (e.g. a compacted topic needs a key, message.timestamp.difference.max.ms bounds timestamps)."],
  [['KafkaJSLockTimeout'], 'TIMEOUT', 'retryable', 'The producer for {target} is busy: {message}', 'Too many writes wait for the same broker; they are retried.'],
  // kafkajs's own refusals, not the broker's: a producer that is (being) disconnected, or a request it will not send.
  [isKey(KAFKAJS_OWN, (f) => /disconnect/i.test(f.message)), 'CONNECTION_LOST', undefined, 'The producer for {target} is not connected: {message}', 'Junction reconnects the connector.'],
  [KAFKAJS_OWN, 'CONNECTION_FAILED', (f) => (f.retriable === true ? 'retryable' : 'permanent'), 'kafkajs refused the request to {target}: {message}',
    'Check the action settings and the producer options.'],
  [(f) => f.answered, 'CONNECTION_FAILED', retryableUnless, 'The broker at {target} answered with an error: {message} ({key})', 'Check the broker logs for this error.'],

  // --- a failed connection (KafkaJSConnectionError, the probe's own socket steps, anything kafkajs did not wrap) ---
  [(f) => tlsTrouble(f) && /disconnected before secure TLS connection|wrong version number|packet length too long/i.test(f.said),
    'TLS_FAILED', undefined, 'TLS handshake with {target} failed: {said}', TLS_HINT_PLAINTEXT_PORT],
  [tlsTrouble, 'TLS_FAILED', undefined, 'TLS handshake with {target} failed: {said}',
    'Check the CA certificate and server name, or turn off certificate verification for a self-signed broker you trust.'],
  [(f) => f.said === 'Connection timeout' || f.code === 'ETIMEDOUT', 'TIMEOUT', undefined, 'Timed out connecting to {target}', (f) => (f.tls
    ? `No TLS handshake within the connect timeout. ${TLS_HINT_PLAINTEXT_PORT} Otherwise check the address and firewalls.`
    : 'Check the address and any firewall between Junction and the broker, or raise the connect timeout.')],
]
const byRule = classifyBy(RULES)
const ANY: ReadonlyArray<ErrorRow<Facts>> = [[() => true, 'CONNECTION_FAILED', undefined, 'Talking to {target} failed: {said}',
  'Check the bootstrap servers, TLS and authentication settings, and that the brokers are healthy.']]
const anyOther = classifyBy(ANY)

/**
 * Any error of a Kafka operation as a ConnectorError, in the kit's order: a ConnectorError as it
 * is, an abort or timeout as TIMEOUT, then classifyKafkaError.
 */
export function toKafkaError(err: unknown, ctx: ClassifyContext, signal?: AbortSignal): ConnectorError {
  return toConnectorError(err, ctx.target, { signal, classify: (e) => classifyKafkaError(e, ctx) })
}

/**
 * Maps an error from kafkajs (or from the probe's own socket steps) to a ConnectorError with a
 * stable code, a message and a hint: this type's table on the innermost error, then the kit's
 * network errors (another hint while reading the metadata), then CONNECTION_FAILED with its text.
 */
export function classifyKafkaError(err: unknown, ctx: ClassifyContext): ConnectorError {
  const e = innermost(err)
  const key = e.name === 'KafkaJSProtocolError' ? (e.type ?? e.name) : (e.name ?? '')
  const message = messageOf(e)
  const facts: Facts = {
    err, key, message, retriable: e.retriable, target: e.broker ?? ctx.target, phase: ctx.phase, tls: ctx.tls, mechanism: ctx.mechanism.toUpperCase(),
    // A protocol error typed as a kafkajs connection error is a failed connection, as kafkajs means it.
    answered: e.name === 'KafkaJSProtocolError' && key !== 'KafkaJSConnectionError',
    code: typeof e.code === 'string' ? e.code : '', said: message.replace(/^Connection error: /, ''), saslSaid: message.replace(/^SASL [\w-]+ authentication failed: /i, ''),
  }
  const rule = byRule(facts)
  if (rule) return rule
  const net = classifyNetworkError({ code: facts.code, message: facts.said }, facts.target)
  if (net) return new ConnectorError(net.code, net.message, { kind: net.kind, hint: ctx.phase === 'metadata' ? ADVERTISED_HINT : net.hint, cause: err })
  return anyOther(facts)!
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
