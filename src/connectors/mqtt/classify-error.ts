import { ConnectorError, classifyNetworkError } from '../../connector-api/index.js'

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

const TLS_HINT_PLAIN_PORT = 'This port does not seem to speak TLS: turn TLS off, or use the broker\'s TLS port (usually 8883).'

/**
 * Maps any failure of the MQTT connector (mqtt.js errors, MQTT reason codes, socket/DNS/TLS
 * errors) to a ConnectorError with a stable code, a kind, a message and a hint. One switch: MQTT
 * reason codes by phase first, then mqtt.js's own errors, then network errors.
 */
export function classifyMqttError(err: unknown, ctx: ClassifyContext): ConnectorError {
  if (err instanceof ConnectorError) return err
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as { code?: unknown; message?: unknown }
  const rc = err instanceof BrokerDisconnectError ? err.reasonCode : typeof e.code === 'number' ? e.code : undefined
  const message = typeof e.message === 'string' ? e.message : String(err)
  const code = typeof e.code === 'string' ? e.code : ''
  const name = rc === undefined ? '' : (REASON_NAMES[rc] ?? `reason code ${rc}`)
  const t = ctx.target
  const who = ctx.username === undefined ? 'an anonymous client' : `user "${ctx.username}"`
  const opts = (hint: string, kind?: 'not_connected' | 'retryable' | 'permanent') => ({ hint, cause: err, ...(kind ? { kind } : {}) })
  const connack = ctx.phase === 'connect' && rc !== undefined
  const puback = ctx.phase === 'publish' && rc !== undefined

  switch (true) {
    // --- CONNACK: the broker refused the connection ---
    case connack && (rc === 4 || rc === 0x86 || rc === 0x8c):
      return new ConnectorError('AUTHENTICATION_FAILED', `${t} refused the login of ${who}: ${name}`,
        opts('Check the username and password.'))
    case connack && (rc === 5 || rc === 0x87):
      // Mosquitto (and others) answer "not authorized" for a wrong password too, so this is a login failure.
      return new ConnectorError('AUTHENTICATION_FAILED', `${t} refused the login of ${who}: ${name}`,
        opts(ctx.username === undefined
          ? 'The broker does not accept anonymous clients: set a username and password.'
          : 'Check the username and password; the broker may also not allow this user or client ID to connect.'))
    case connack && rc === 0x8a:
      return new ConnectorError('NOT_PERMITTED', `${t} refused the connection: banned`,
        opts('The broker has banned this client ID, user or address; ask its administrator.'))
    case connack && (rc === 2 || rc === 0x85):
      return new ConnectorError('CONNECTION_FAILED', `${t} rejected client ID "${ctx.clientId}": ${name}`,
        opts('Set clientId to one the broker accepts; strict MQTT 3.1.1 brokers accept only 1 to 23 letters and digits.'))
    case connack && (rc === 1 || rc === 0x84):
      return new ConnectorError('CONNECTION_FAILED', `${t} does not support this MQTT protocol version: ${name}`,
        opts('Set protocolVersion to 3.1.1 for brokers without MQTT 5.'))
    case connack && (rc === 3 || rc === 0x88 || rc === 0x89 || rc === 0x9f):
      return new ConnectorError('CONNECTION_FAILED', `${t} cannot take the connection now: ${name}`,
        opts('The broker is overloaded or not ready; Junction tries again.', 'retryable'))
    case connack && (rc === 0x9c || rc === 0x9d):
      return new ConnectorError('CONNECTION_FAILED', `${t} refused the connection: ${name}`,
        opts('The broker redirects its clients elsewhere: point server at the broker it names.'))
    case connack:
      return new ConnectorError('CONNECTION_FAILED', `${t} refused the connection: ${name}`,
        opts('Check the broker logs for why it refused this client.'))

    // --- PUBACK/PUBREC: the broker refused one message (MQTT 5) ---
    case puback && rc === 0x87:
      return new ConnectorError('NOT_PERMITTED', `${t} does not allow ${who} to publish to this topic`,
        opts("Allow publishing to the topic in the broker's ACL for this user, or change the action's topic.", 'permanent'))
    case puback && rc === 0x90:
      return new ConnectorError('INVALID_TOPIC', `${t} refused the topic name: ${name}`,
        opts("Change the action's topic template.", 'permanent'))
    case puback && (rc === 0x97 || rc === 0x91):
      return new ConnectorError('BROKER_UNAVAILABLE', `${t} cannot take the message now: ${name}`,
        opts('The broker limits this client for now; the message is retried.', 'retryable'))
    case puback && rc === 0x99:
      return new ConnectorError('INVALID_DATA', `${t} refused the payload: ${name}`,
        opts('The broker checks payloads (e.g. UTF-8); check the rule output and the payload template.', 'permanent'))
    case puback:
      return new ConnectorError('PUBLISH_REFUSED', `${t} refused the message: ${name}`,
        opts('Check the broker logs for why it refused this message.', 'permanent'))

    // --- an established connection that broke ---
    case rc === 0x8e:
      return new ConnectorError('CONNECTION_LOST', `${t} closed the connection: another client connected with client ID "${ctx.clientId}"`,
        opts('Give this connector a client ID no other client uses.'))
    case rc === 0x8b:
      return new ConnectorError('CONNECTION_LOST', `${t} is shutting down`,
        opts('Junction reconnects when the broker is back.'))
    case rc === 0x87 || rc === 0x98:
      return new ConnectorError('NOT_PERMITTED', `${t} closed the connection: ${name}`,
        opts('The broker refused something this client did (an ACL, or an administrator); check the broker logs.'))
    case rc === 0x95 || rc === 0x93 || rc === 0x96 || rc === 0x97:
      return new ConnectorError('CONNECTION_LOST', `${t} closed the connection: ${name}`,
        opts("The client exceeded a limit of the broker (packet size, in-flight messages, rate); check the broker's limits."))
    case rc !== undefined:
      return new ConnectorError('CONNECTION_LOST', `${t} closed the connection: ${name}`,
        opts('Check the broker logs; Junction reconnects.'))

    // --- mqtt.js's own errors ---
    case message === 'connack timeout':
      return new ConnectorError('TIMEOUT', `${t} accepted the connection but did not answer CONNECT in time`,
        opts(ctx.tls
          ? 'Check that this port speaks MQTT over TLS, or raise the connect timeout.'
          : 'Check that this port speaks MQTT (not MQTT over TLS or WebSocket), or raise the connect timeout.'))
    case message === 'Keepalive timeout':
      return new ConnectorError('TIMEOUT', `${t} stopped answering keepalive pings`,
        opts('Check that the broker is up and reachable; Junction reconnects.'))
    case err instanceof ClosedBeforeConnackError:
      return new ConnectorError('CONNECTION_FAILED', `${t} closed the connection before answering CONNECT`,
        opts(ctx.tls
          ? 'Check the TLS settings (a client certificate the broker wants?) and that this port speaks MQTT over TLS.'
          : 'The port may require TLS, or not speak MQTT; check the broker logs.'))
    case message === 'TLS not authorized':
      return new ConnectorError('TLS_FAILED', `TLS handshake with ${t} failed: the certificate was not verified`,
        opts('Check the CA certificate and server name, or turn off certificate verification for a self-signed broker you trust.'))
    case message === 'Username is required to use password':
      return new ConnectorError('AUTHENTICATION_FAILED', 'A password is set without a username', opts('Set the username too.', 'permanent'))
    case ctx.phase === 'connection' && (message === 'Connection closed' || code === 'EPIPE' || code === 'ECONNRESET'):
      // Brokers close without a DISCONNECT when another client takes the client ID over (Mosquitto 2.0 does);
      // a write racing the close sees EPIPE or ECONNRESET instead of a clean close.
      return new ConnectorError('CONNECTION_LOST', `${t} closed the connection${code ? ` (${code})` : ''}: the broker stopped or restarted, or another client connected with client ID "${ctx.clientId}"`,
        opts('Junction reconnects when the broker is back. If this repeats while the broker is up, give this connector a client ID no other client uses.'))
    case message === 'Connection closed' || message === 'client disconnecting' || message === 'No connection to broker':
      return new ConnectorError('CONNECTION_LOST', `The connection to ${t} was closed`, opts('Junction reconnects when the broker is back.'))

    // --- socket, DNS and TLS errors ---
    // A TLS handshake that the server resets or hangs up on is nearly always TLS against a plain port.
    case ctx.tls && ctx.phase !== 'connection' && ctx.phase !== 'publish'
      && (code === 'ECONNRESET' || /wrong version number|packet length too long|disconnected before secure TLS connection|unknown protocol/i.test(message)):
      return new ConnectorError('TLS_FAILED', `TLS handshake with ${t} failed: ${message}`, opts(TLS_HINT_PLAIN_PORT))
    default:
      return classifyNetworkError(err, t) ?? new ConnectorError('CONNECTION_FAILED', `${t}: ${message}`,
        opts('Check the connector configuration and that the broker is reachable from Junction.'))
  }
}
