/**
 * What the embedded broker and the layers around it agree on: what the rule engine is told
 * (BrokerSink, PublishedMessage, ClientEvent), how the control layer decides who may connect and
 * what they may do (DeviceAccess), and the limits a deployment's broker enforces. The broker
 * implementation behind these types can change without the rules or the runtime noticing.
 */
import type { Duplex } from 'node:stream'
import type { PublishProperties } from '../connector-api/index.js'

/**
 * MQTT 5 PUBLISH properties a message carries (names as mqtt-packet spells them): the same type
 * actions build from templates, read-only here because one message goes to many subscribers.
 */
export type MessageProperties = Readonly<PublishProperties>

/**
 * MQTT 5 properties of a control packet (CONNECT, DISCONNECT, PUBACK), as mqtt-packet decodes
 * them (`sessionExpiryInterval`, `reasonString`, `userProperties`...); rules see them with EMQX's
 * names (`conn_props`, `disconn_props`, `puback_props`).
 */
export type PacketProperties = Readonly<Record<string, unknown>>

/** What a broker tells the rule engine: client publishes and client lifecycle events. */
export interface BrokerSink {
  /**
   * A message a client published (not the broker's own, e.g. $SYS or republished ones). For a
   * QoS 1/2 message the sink may answer a pending acknowledgement: the broker then sends the
   * PUBACK/PUBREC only once it settles (end-to-end acknowledgement, docs/delivery.md).
   */
  published(message: PublishedMessage): PendingAcknowledgement | void
  clientEvent(event: ClientEvent): void
  /**
   * Whether anything listens to events of this kind now. The broker asks before building the
   * per-message events (delivered, dropped, authorization of a publish), which would otherwise
   * cost every message.
   */
  wants(kind: ClientEvent['kind']): boolean
}

/**
 * How a held acknowledgement ended: `committed` (every action that asked for it delivered the
 * message or wrote it to its disk buffer), `failed` (one finally failed or dropped it) or
 * `quota_exceeded` (one dropped it because its queue was full).
 */
export type AcknowledgementOutcome = 'committed' | 'failed' | 'quota_exceeded'

/** An acknowledgement the sink holds back until the message is committed where the user asked. */
export interface PendingAcknowledgement {
  /** Calls `settled` once, when the last commitment settles (at once if that already happened). */
  whenSettled(settled: (outcome: AcknowledgementOutcome) => void): void
}

export interface PublishedMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly dup: boolean
  readonly clientid: string
  readonly username: string | undefined
  readonly peerhost: string | undefined
  readonly receivedAt: number
  /** MQTT 5 properties; undefined for MQTT 3.1.1 clients and v5 messages without any. */
  readonly properties?: MessageProperties
}

/** The client an event is about. */
export interface Who {
  readonly clientid: string
  readonly username: string | undefined
  readonly peerhost: string | undefined
}

/** A client's connection as events report it. */
export interface Session extends Who {
  readonly protoVer: number
  readonly cleanStart: boolean
  /** Seconds, as the CONNECT packet asked. */
  readonly keepalive: number
  /** MQTT 5 session expiry interval (s); 0 for 3.1.1 clean sessions. */
  readonly expiryInterval?: number
  /** MQTT 5 CONNECT properties, if the client sent any. */
  readonly connectProperties?: PacketProperties
}

/** A message as the delivery events report it; `from` is its publisher (none for the broker's own). */
export interface Carried {
  readonly topic: string
  readonly qos: number
  readonly payload: Buffer
  readonly retain: boolean
  readonly dup: boolean
  readonly from: { readonly clientid: string; readonly username: string | undefined } | undefined
  readonly properties?: MessageProperties
}

/** EMQX's reasons a message is lost for one subscriber. */
export type DeliveryDropReason = 'queue_full' | 'expired' | 'no_local' | 'qos0_msg'

/**
 * EMQX's names of CONNACK reason codes, as `$events/client_connack` and
 * `$events/client_check_authn_complete` report them (`success`, `bad_username_or_password`,
 * `not_authorized`, `server_busy`, `banned`, `client_identifier_not_valid`, ...).
 */
export type ConnackReason = string

export type ClientEvent =
  | ({ readonly kind: 'client_connected' | 'client_ping' } & Session)
  | ({ readonly kind: 'client_disconnected'; readonly reason?: string; readonly disconnectProperties?: PacketProperties } & Session)
  | ({ readonly kind: 'client_connack'; readonly reasonCode?: ConnackReason } & Session)
  | ({ readonly kind: 'client_check_authn_complete'; readonly anonymous: boolean; readonly reasonCode?: ConnackReason; readonly superuser?: boolean } & Who)
  | ({ readonly kind: 'client_check_authz_complete'; readonly action: 'publish' | 'subscribe'; readonly topic: string; readonly result: 'allow' | 'deny'; readonly source?: string } & Who)
  | ({ readonly kind: 'session_subscribed' | 'session_unsubscribed'; readonly topic: string; readonly qos: number } & Who)
  /** A message about to be written to a subscriber (`clientid` is the subscriber), and one it acknowledged. */
  | ({ readonly kind: 'message_delivered' } & Who & Carried)
  | ({ readonly kind: 'message_acked'; readonly pubackProperties?: PacketProperties } & Who & Carried)
  /** A client's message no subscriber (online or offline) takes; `clientid` is the publisher. */
  | ({ readonly kind: 'message_dropped'; readonly reason: 'no_subscribers'; readonly receivedAt: number } & Who & Omit<Carried, 'from'>)
  /** A message lost for one subscriber (`clientid`), with EMQX's reason. */
  | ({ readonly kind: 'delivery_dropped'; readonly reason: DeliveryDropReason; readonly receivedAt: number } & Who & Carried)

export interface OutgoingMessage {
  readonly topic: string
  readonly payload: string | Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly properties?: MessageProperties
}

/** How a connection reached the broker; listeners pass it with each stream. */
export interface ConnectionInfo {
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss'
  readonly peerhost: string | undefined
  readonly peerport: number | undefined
}

/** A broker takes connections from any listener as duplex byte streams. */
export interface ConnectionHandler {
  handle(stream: Duplex, info: ConnectionInfo): void
}

/** The outcome of checking a CONNECT's credentials. */
export type AuthnResult =
  | { readonly ok: true; readonly anonymous: boolean; readonly superuser: boolean }
  | { readonly ok: false; readonly reason: 'bad_username_or_password' | 'not_authorized' | 'banned' }

/** What one connected client may do; asked per PUBLISH and SUBSCRIBE, so answers are cached. */
export interface ClientPermissions {
  canPublish(topic: string): boolean
  /** `filter` is the subscription's topic filter (without a `$share/group/` prefix). */
  canSubscribe(filter: string): boolean
}

/**
 * Device authentication and authorization of a deployment, owned by the control layer. The
 * broker asks `authenticate` once per CONNECT, then `permissions` once per connection.
 */
export interface DeviceAccess {
  authenticate(request: { readonly clientid: string; readonly username: string | undefined; readonly password: Buffer | undefined; readonly peerhost: string | undefined }): Promise<AuthnResult>
  permissions(client: { readonly clientid: string; readonly username: string | undefined; readonly superuser: boolean }): ClientPermissions
}

export { DEFAULT_BROKER_LIMITS, type BrokerLimits } from '../core/domain.js'
