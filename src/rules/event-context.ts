import { hostname } from 'node:os'
import type { ClientEvent, MessageProperties, PacketProperties, PublishedMessage, Session } from '../broker/broker-types.js'

/**
 * The objects rule SQL sees, with EMQX's field names, so the same SQL reads the same fields:
 * `message.publish` for topics, and one shape per `$events/...` topic.
 */

export const NODE_NAME = `junction@${hostname()}`

let sequence = 0
const prefix = (Date.now() * 1000 + process.pid).toString(16).padStart(16, '0').slice(-16)

/** A unique message ID in EMQX's style (hex), cheap enough for every message. */
export function messageId(): string {
  return prefix + (sequence++).toString(16).padStart(16, '0')
}

export function publishContext(m: PublishedMessage): Record<string, unknown> {
  return {
    id: messageId(),
    event: 'message.publish',
    clientid: m.clientid,
    username: m.username ?? null,
    payload: m.payload.toString('utf8'),
    peerhost: m.peerhost ?? null,
    // EMQX's peername is ip:port; the broker reports no port here, so it is the address alone.
    peername: m.peerhost ?? null,
    topic: m.topic,
    qos: m.qos,
    flags: { retain: m.retain, dup: m.dup },
    pub_props: emqxProps(m.properties),
    timestamp: m.receivedAt,
    publish_received_at: m.receivedAt,
    node: NODE_NAME,
    client_attrs: {},
  }
}

/** `$events/<name>` topic and context of a client event. */
export function eventContext(e: ClientEvent): { topic: string; context: Record<string, unknown> } {
  const now = Date.now()
  const common = { clientid: e.clientid, username: e.username ?? null, timestamp: now, node: NODE_NAME }
  switch (e.kind) {
    case 'client_connected':
      return {
        topic: '$events/client_connected',
        context: {
          ...common, ...session(e), event: 'client.connected', mountpoint: null, is_bridge: false, connected_at: now, client_attrs: {},
          // EMQX's conninfo receive_maximum: the client's Receive Maximum (0 when it sent none, as EMQX's default here).
          receive_maximum: receiveMaximum(e),
        },
      }
    case 'client_connack':
      return {
        topic: '$events/client_connack',
        context: { ...common, ...session(e), event: 'client.connack', reason_code: e.reasonCode ?? 'success', connected_at: now },
      }
    case 'client_ping':
      return {
        topic: '$events/client/ping',
        context: { ...common, ...session(e), event: 'client.ping', connected_at: null },
      }
    case 'client_disconnected':
      return {
        topic: '$events/client_disconnected',
        context: {
          ...common, event: 'client.disconnected', reason: e.reason ?? 'normal', peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT',
          proto_ver: e.protoVer, disconn_props: emqxProps(e.disconnectProperties), connected_at: null, disconnected_at: now, client_attrs: {},
        },
      }
    case 'client_check_authn_complete':
      return {
        topic: '$events/client_check_authn_complete',
        context: {
          ...common, event: 'client.check_authn_complete', peername: e.peerhost ?? null, reason_code: e.reasonCode ?? 'success',
          is_superuser: e.superuser ?? false, is_anonymous: e.anonymous, client_attrs: {},
        },
      }
    case 'client_check_authz_complete':
      return {
        topic: '$events/client_check_authz_complete',
        context: {
          ...common, event: 'client.check_authz_complete', peerhost: e.peerhost ?? null, peername: e.peerhost ?? null,
          topic: e.topic, action: e.action, authz_source: e.source ?? 'default', result: e.result, client_attrs: {},
        },
      }
    case 'session_subscribed':
    case 'session_unsubscribed':
      return {
        topic: `$events/${e.kind}`,
        context: {
          ...common, event: e.kind === 'session_subscribed' ? 'session.subscribed' : 'session.unsubscribed', peerhost: e.peerhost ?? null, peername: e.peerhost ?? null,
          topic: e.topic, qos: e.qos, [e.kind === 'session_subscribed' ? 'sub_props' : 'unsub_props']: emqxProps(undefined), client_attrs: {},
        },
      }
    case 'message_delivered':
    case 'message_acked':
      return {
        topic: `$events/${e.kind}`,
        context: {
          ...common, id: messageId(), event: e.kind === 'message_delivered' ? 'message.delivered' : 'message.acked',
          from_clientid: e.from?.clientid ?? null, from_username: e.from?.username ?? null,
          peerhost: e.peerhost ?? null, peername: e.peerhost ?? null, topic: e.topic, qos: e.qos, payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup },
          pub_props: emqxProps(e.properties), ...(e.kind === 'message_acked' ? { puback_props: emqxProps(e.pubackProperties) } : {}), publish_received_at: now,
        },
      }
    case 'delivery_dropped':
      return {
        topic: '$events/delivery_dropped',
        context: {
          ...common, id: messageId(), event: 'delivery.dropped', reason: e.reason,
          from_clientid: e.from?.clientid ?? null, from_username: e.from?.username ?? null,
          peerhost: e.peerhost ?? null, peername: e.peerhost ?? null, topic: e.topic, qos: e.qos, payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup },
          pub_props: emqxProps(e.properties), publish_received_at: e.receivedAt,
        },
      }
    case 'message_dropped':
      return {
        topic: '$events/message_dropped',
        context: {
          ...common, id: messageId(), event: 'message.dropped', reason: e.reason, peerhost: e.peerhost ?? null, peername: e.peerhost ?? null, topic: e.topic, qos: e.qos,
          payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup }, pub_props: emqxProps(e.properties), publish_received_at: e.receivedAt,
        },
      }
  }
}

/** The connection fields of the client events (EMQX's conninfo). */
function session(e: Session) {
  return {
    peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT', proto_ver: e.protoVer, keepalive: e.keepalive,
    clean_start: e.cleanStart, expiry_interval: e.expiryInterval ?? 0, conn_props: connProps(e),
  }
}

function receiveMaximum(e: Session): number {
  const value = (e.connectProperties as { receiveMaximum?: unknown } | undefined)?.receiveMaximum
  return typeof value === 'number' ? value : 0
}

/** CONNECT properties; from the session expiry when the broker does not pass them (it is one). */
function connProps(e: Session): Record<string, unknown> {
  if (e.connectProperties) return emqxProps(e.connectProperties)
  const props = emqxProps(undefined)
  if (e.protoVer === 5 && e.expiryInterval !== undefined && e.expiryInterval > 0) props['Session-Expiry-Interval'] = e.expiryInterval
  return props
}

/** MQTT 5 property names as EMQX's rules see them (emqx_mqtt_props), by mqtt-packet's names. */
const EMQX_PROPERTY_NAMES: Readonly<Record<string, string>> = {
  payloadFormatIndicator: 'Payload-Format-Indicator',
  messageExpiryInterval: 'Message-Expiry-Interval',
  contentType: 'Content-Type',
  responseTopic: 'Response-Topic',
  correlationData: 'Correlation-Data',
  subscriptionIdentifier: 'Subscription-Identifier',
  sessionExpiryInterval: 'Session-Expiry-Interval',
  assignedClientIdentifier: 'Assigned-Client-Identifier',
  serverKeepAlive: 'Server-Keep-Alive',
  authenticationMethod: 'Authentication-Method',
  requestProblemInformation: 'Request-Problem-Information',
  willDelayInterval: 'Will-Delay-Interval',
  requestResponseInformation: 'Request-Response-Information',
  responseInformation: 'Response-Information',
  serverReference: 'Server-Reference',
  reasonString: 'Reason-String',
  receiveMaximum: 'Receive-Maximum',
  topicAliasMaximum: 'Topic-Alias-Maximum',
  topicAlias: 'Topic-Alias',
  maximumQoS: 'Maximum-QoS',
  retainAvailable: 'Retain-Available',
  maximumPacketSize: 'Maximum-Packet-Size',
  wildcardSubscriptionAvailable: 'Wildcard-Subscription-Available',
  subscriptionIdentifiersAvailable: 'Subscription-Identifier-Available',
  sharedSubscriptionAvailable: 'Shared-Subscription-Available',
}

/**
 * Packet properties as EMQX shows them to rules (emqx_utils_maps:printable_props): EMQX's names,
 * flags as 0/1, binary data as text, and always a `User-Property` map (empty for MQTT 3.1.1 and
 * messages without properties). With user properties, `User-Property` keeps the last value of a
 * repeated name (it is for `pub_props.'User-Property'.name`) and `User-Property-Pairs` lists every
 * one as `{key, value}`, in order.
 */
export function emqxProps(props: MessageProperties | PacketProperties | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { 'User-Property': {} }
  if (props === undefined) return out
  // Spelled out for PUBLISH's properties: this runs for every message a rule matches.
  const p = props as MessageProperties & PacketProperties
  if (p.payloadFormatIndicator !== undefined) out['Payload-Format-Indicator'] = p.payloadFormatIndicator ? 1 : 0
  if (p.messageExpiryInterval !== undefined) out['Message-Expiry-Interval'] = p.messageExpiryInterval
  if (p.contentType !== undefined) out['Content-Type'] = p.contentType
  if (p.responseTopic !== undefined) out['Response-Topic'] = p.responseTopic
  if (p.correlationData !== undefined) out['Correlation-Data'] = Buffer.isBuffer(p.correlationData) ? p.correlationData.toString('utf8') : p.correlationData
  if (p.userProperties !== undefined) userProps(p.userProperties, out)
  for (const key in p) {
    // Authentication data (enhanced authentication) can be a credential: rules never see it.
    if (PUBLISH_KEYS.has(key) || key === 'authenticationData') continue
    const value = p[key]
    if (value === undefined || value === null) continue
    out[EMQX_PROPERTY_NAMES[key] ?? key] = typeof value === 'boolean' ? (value ? 1 : 0) : Buffer.isBuffer(value) ? value.toString('utf8') : value
  }
  return out
}

const PUBLISH_KEYS = new Set(['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'userProperties'])

function userProps(user: Readonly<Record<string, string | readonly string[]>>, out: Record<string, unknown>): void {
  const map: Record<string, unknown> = {}
  const pairs: Array<{ key: string; value: string }> = []
  for (const name in user) {
    const v = user[name]!
    if (typeof v === 'string') {
      map[name] = v
      pairs.push({ key: name, value: v })
    } else if (v.length > 0) {
      for (const one of v) pairs.push({ key: name, value: one })
      map[name] = v[v.length - 1]
    }
  }
  out['User-Property'] = map
  if (pairs.length > 0) out['User-Property-Pairs'] = pairs
}

/** The EMQX event name (rule-engine hook) of each kind of broker event. */
export const EVENT_OF_KIND: Readonly<Record<ClientEvent['kind'], string>> = {
  client_connected: 'client.connected',
  client_disconnected: 'client.disconnected',
  client_connack: 'client.connack',
  client_ping: 'client.ping',
  client_check_authn_complete: 'client.check_authn_complete',
  client_check_authz_complete: 'client.check_authz_complete',
  session_subscribed: 'session.subscribed',
  session_unsubscribed: 'session.unsubscribed',
  message_delivered: 'message.delivered',
  message_acked: 'message.acked',
  message_dropped: 'message.dropped',
  delivery_dropped: 'delivery.dropped',
}
