import { classifyBy, ConnectorError, classifyNetworkError, type ErrorRow } from '../../connector-api/index.js'

/** Where the error happened; the same MQTT reason code means different things in each. */
export type MqttPhase =
  /** Opening the connection: TCP, TLS (the Test's own handshake too), CONNECT/CONNACK. */
  | 'connect'
  /** A PUBACK/PUBREC/PUBCOMP answering one publish. */
  | 'publish'
  /** An established connection that broke (a DISCONNECT from the broker, a reset, a keepalive timeout). */
  | 'connection'

export interface ClassifyContext {
  /** `host:port` of the broker, for messages. */
  readonly target: string
  readonly phase: MqttPhase
  readonly tls: boolean
  readonly clientId: string
  readonly username: string | undefined
}

/** MQTT reason codes by number: 3.1.1 CONNACK return codes (1-5) and MQTT 5 reason codes (>= 0x80). */
export const REASON_NAMES: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable', 4: 'bad user name or password', 5: 'not authorized',
  0x80: 'unspecified error', 0x81: 'malformed packet', 0x82: 'protocol error', 0x83: 'implementation specific error',
  0x84: 'unsupported protocol version', 0x85: 'client identifier not valid', 0x86: 'bad user name or password', 0x87: 'not authorized',
  0x88: 'server unavailable', 0x89: 'server busy', 0x8a: 'banned', 0x8b: 'server shutting down', 0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout', 0x8e: 'session taken over', 0x90: 'topic name invalid', 0x91: 'packet identifier in use',
  0x93: 'receive maximum exceeded', 0x94: 'topic alias invalid', 0x95: 'packet too large', 0x96: 'message rate too high',
  0x97: 'quota exceeded', 0x98: 'administrative action', 0x99: 'payload format invalid', 0x9a: 'retain not supported',
  0x9b: 'QoS not supported', 0x9c: 'use another server', 0x9d: 'server moved', 0x9f: 'connection rate exceeded', 0xa0: 'maximum connect time',
}

/** The broker closed the connection before answering CONNECT. */
export class ClosedBeforeConnackError extends Error {
  constructor() {
    super('the connection was closed before the broker answered CONNECT')
    this.name = 'ClosedBeforeConnackError'
  }
}

/** The broker sent DISCONNECT (MQTT 5) with a reason code. */
export class BrokerDisconnectError extends Error {
  constructor(readonly reasonCode: number, readonly reasonString: string | undefined) {
    super(`the broker disconnected: ${REASON_NAMES[reasonCode] ?? `reason code ${reasonCode}`}${reasonString ? ` (${reasonString})` : ''}`)
    this.name = 'BrokerDisconnectError'
  }
}

/**
 * What a row reads: the MQTT reason code as the key (a CONNACK's, a PUBACK's or a DISCONNECT's),
 * its name, the Node or mqtt.js error code, and the context the messages name.
 */
type Facts = Omit<ClassifyContext, 'username'> & {
  err: unknown
  key: number | undefined
  message: string
  code: string
  /** The reason code's name, for messages. */
  name: string
  /** The client as messages name it: the user, or an anonymous client. */
  who: string
  anonymous: boolean
  /** ` (EPIPE)`: the Node error code after "closed the connection", when there is one. */
  codeSaid: string
}

/** A reason code answering `phase` (one of `codes`, or any); the same code means different things in each phase. */
const at = (phase: MqttPhase, codes?: readonly number[]) => (f: Facts) => f.phase === phase && f.key !== undefined && (codes === undefined || codes.includes(f.key))
const tlsHint = (withTls: string, without: string) => (f: Facts) => (f.tls ? withTls : without)
const TLS_HINT_PLAIN_PORT = 'This port does not seem to speak TLS: turn TLS off, or use the broker\'s TLS port (usually 8883).'
/** What Node's TLS says when the other end answers a ClientHello with something else than TLS. */
const PLAIN_PORT_TLS = /wrong version number|packet length too long|disconnected before secure TLS connection|unknown protocol/i
const REFUSED_LOGIN = '{target} refused the login of {who}: {name}'

/** MQTT reason codes by phase first, then mqtt.js's own errors, then TLS against a plain port; the first row that matches wins. */
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  // --- CONNACK: the broker refused the connection ---
  [at('connect', [4, 0x86, 0x8c]), 'AUTHENTICATION_FAILED', undefined, REFUSED_LOGIN, 'Check the username and password.'],
  // Mosquitto (and others) answer "not authorized" for a wrong password too, so this is a login failure.
  [at('connect', [5, 0x87]), 'AUTHENTICATION_FAILED', undefined, REFUSED_LOGIN, (f) => (f.anonymous
    ? 'The broker does not accept anonymous clients: set a username and password.'
    : 'Check the username and password; the broker may also not allow this user or client ID to connect.')],
  [at('connect', [0x8a]), 'NOT_PERMITTED', undefined, '{target} refused the connection: banned', 'The broker has banned this client ID, user or address; ask its administrator.'],
  [at('connect', [2, 0x85]), 'CONNECTION_FAILED', undefined, '{target} rejected client ID "{clientId}": {name}',
    'Set clientId to one the broker accepts; strict MQTT 3.1.1 brokers accept only 1 to 23 letters and digits.'],
  [at('connect', [1, 0x84]), 'CONNECTION_FAILED', undefined, '{target} does not support this MQTT protocol version: {name}', 'Set protocolVersion to 3.1.1 for brokers without MQTT 5.'],
  [at('connect', [3, 0x88, 0x89, 0x9f]), 'CONNECTION_FAILED', 'retryable', '{target} cannot take the connection now: {name}', 'The broker is overloaded or not ready; Junction tries again.'],
  [at('connect', [0x9c, 0x9d]), 'CONNECTION_FAILED', undefined, '{target} refused the connection: {name}', 'The broker redirects its clients elsewhere: point server at the broker it names.'],
  [at('connect'), 'CONNECTION_FAILED', undefined, '{target} refused the connection: {name}', 'Check the broker logs for why it refused this client.'],

  // --- PUBACK/PUBREC: the broker refused one message (MQTT 5) ---
  [at('publish', [0x87]), 'NOT_PERMITTED', 'permanent', '{target} does not allow {who} to publish to this topic',
    "Allow publishing to the topic in the broker's ACL for this user, or change the action's topic."],
  [at('publish', [0x90]), 'INVALID_TOPIC', 'permanent', '{target} refused the topic name: {name}', "Change the action's topic template."],
  [at('publish', [0x97, 0x91]), 'BROKER_UNAVAILABLE', 'retryable', '{target} cannot take the message now: {name}', 'The broker limits this client for now; the message is retried.'],
  [at('publish', [0x99]), 'INVALID_DATA', 'permanent', '{target} refused the payload: {name}',
    'The broker checks payloads (e.g. UTF-8); check the rule output and the payload template.'],
  [at('publish'), 'PUBLISH_REFUSED', 'permanent', '{target} refused the message: {name}', 'Check the broker logs for why it refused this message.'],

  // --- an established connection that broke ---
  [[0x8e], 'CONNECTION_LOST', undefined, '{target} closed the connection: another client connected with client ID "{clientId}"', 'Give this connector a client ID no other client uses.'],
  [[0x8b], 'CONNECTION_LOST', undefined, '{target} is shutting down', 'Junction reconnects when the broker is back.'],
  [[0x87, 0x98], 'NOT_PERMITTED', undefined, '{target} closed the connection: {name}',
    'The broker refused something this client did (an ACL, or an administrator); check the broker logs.'],
  [[0x95, 0x93, 0x96, 0x97], 'CONNECTION_LOST', undefined, '{target} closed the connection: {name}',
    "The client exceeded a limit of the broker (packet size, in-flight messages, rate); check the broker's limits."],
  [(f) => f.key !== undefined, 'CONNECTION_LOST', undefined, '{target} closed the connection: {name}', 'Check the broker logs; Junction reconnects.'],

  // --- mqtt.js's own errors ---
  [/^connack timeout$/, 'TIMEOUT', undefined, '{target} accepted the connection but did not answer CONNECT in time', tlsHint(
    'Check that this port speaks MQTT over TLS, or raise the connect timeout.',
    'Check that this port speaks MQTT (not MQTT over TLS or WebSocket), or raise the connect timeout.')],
  [/^Keepalive timeout$/, 'TIMEOUT', undefined, '{target} stopped answering keepalive pings', 'Check that the broker is up and reachable; Junction reconnects.'],
  [(f) => f.err instanceof ClosedBeforeConnackError, 'CONNECTION_FAILED', undefined, '{target} closed the connection before answering CONNECT', tlsHint(
    'Check the TLS settings (a client certificate the broker wants?) and that this port speaks MQTT over TLS.',
    'The port may require TLS, or not speak MQTT; check the broker logs.')],
  [/^TLS not authorized$/, 'TLS_FAILED', undefined, 'TLS handshake with {target} failed: the certificate was not verified',
    'Check the CA certificate and server name, or turn off certificate verification for a self-signed broker you trust.'],
  [/^Username is required to use password$/, 'AUTHENTICATION_FAILED', 'permanent', 'A password is set without a username', 'Set the username too.'],
  // Brokers close without a DISCONNECT when another client takes the client ID over (Mosquitto 2.0 does);
  // a write racing the close sees EPIPE or ECONNRESET instead of a clean close.
  [(f) => f.phase === 'connection' && (f.message === 'Connection closed' || f.code === 'EPIPE' || f.code === 'ECONNRESET'), 'CONNECTION_LOST', undefined,
    '{target} closed the connection{codeSaid}: the broker stopped or restarted, or another client connected with client ID "{clientId}"',
    'Junction reconnects when the broker is back. If this repeats while the broker is up, give this connector a client ID no other client uses.'],
  [/^(Connection closed|client disconnecting|No connection to broker)$/, 'CONNECTION_LOST', undefined, 'The connection to {target} was closed', 'Junction reconnects when the broker is back.'],

  // --- socket, DNS and TLS errors: the kit's, but for this one ---
  // A TLS handshake that the server resets or hangs up on is nearly always TLS against a plain port.
  [(f) => f.tls && f.phase === 'connect' && (f.code === 'ECONNRESET' || PLAIN_PORT_TLS.test(f.message)),
    'TLS_FAILED', undefined, 'TLS handshake with {target} failed: {message}', TLS_HINT_PLAIN_PORT],
]
const byRule = classifyBy(RULES)
const ANY: ReadonlyArray<ErrorRow<Facts>> = [[() => true, 'CONNECTION_FAILED', undefined, '{target}: {message}', 'Check the connector configuration and that the broker is reachable from Junction.']]
const anyOther = classifyBy(ANY)

/**
 * Maps any failure of the MQTT connector (mqtt.js errors, MQTT reason codes, socket/DNS/TLS
 * errors) to a ConnectorError with a stable code, a kind, a message and a hint: this type's table,
 * then the kit's network errors, then CONNECTION_FAILED with the error's text.
 */
export function classifyMqttError(err: unknown, ctx: ClassifyContext): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as { code?: unknown; message?: unknown }
  const rc = err instanceof BrokerDisconnectError ? err.reasonCode : typeof e.code === 'number' ? e.code : undefined
  const code = typeof e.code === 'string' ? e.code : ''
  const facts: Facts = {
    err, key: rc, message: typeof e.message === 'string' ? e.message : String(err), code, codeSaid: code ? ` (${code})` : '',
    name: rc === undefined ? '' : (REASON_NAMES[rc] ?? `reason code ${rc}`),
    who: ctx.username === undefined ? 'an anonymous client' : `user "${ctx.username}"`, anonymous: ctx.username === undefined,
    target: ctx.target, phase: ctx.phase, tls: ctx.tls, clientId: ctx.clientId,
  }
  return byRule(facts) ?? classifyNetworkError(err, ctx.target) ?? anyOther(facts)!
}
