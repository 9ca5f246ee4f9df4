import { hostname } from 'node:os'
import type { ClientEvent, PublishedMessage } from '../broker/broker-types.js'

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
    topic: m.topic,
    qos: m.qos,
    flags: { retain: m.retain, dup: m.dup },
    pub_props: {},
    timestamp: m.receivedAt,
    publish_received_at: m.receivedAt,
    node: NODE_NAME,
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
        context: { ...common, ...session(e), event: 'client.connected', mountpoint: null, is_bridge: false, connected_at: now },
      }
    case 'client_connack':
      return {
        topic: '$events/client_connack',
        context: { ...common, ...session(e), event: 'client.connack', reason_code: 'success', connected_at: now },
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
          ...common, event: 'client.disconnected', reason: 'normal', peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT',
          proto_ver: e.protoVer, disconn_props: {}, disconnected_at: now,
        },
      }
    case 'client_check_authn_complete':
      return {
        topic: '$events/client_check_authn_complete',
        context: { ...common, event: 'client.check_authn_complete', peername: e.peerhost ?? null, reason_code: 'success', is_superuser: false, is_anonymous: e.anonymous },
      }
    case 'client_check_authz_complete':
      return {
        topic: '$events/client_check_authz_complete',
        context: {
          ...common, event: 'client.check_authz_complete', peerhost: e.peerhost ?? null, peername: e.peerhost ?? null,
          topic: e.topic, action: e.action, authz_source: 'default', result: e.result,
        },
      }
    case 'session_subscribed':
    case 'session_unsubscribed':
      return {
        topic: `$events/${e.kind}`,
        context: { ...common, event: e.kind === 'session_subscribed' ? 'session.subscribed' : 'session.unsubscribed', peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos },
      }
    case 'message_delivered':
    case 'message_acked':
      return {
        topic: `$events/${e.kind}`,
        context: {
          ...common, id: messageId(), event: e.kind === 'message_delivered' ? 'message.delivered' : 'message.acked',
          from_clientid: e.from?.clientid ?? null, from_username: e.from?.username ?? null,
          peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos, payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup },
          pub_props: {}, ...(e.kind === 'message_acked' ? { puback_props: {} } : {}), publish_received_at: now,
        },
      }
    case 'delivery_dropped':
      return {
        topic: '$events/delivery_dropped',
        context: {
          ...common, id: messageId(), event: 'delivery.dropped', reason: e.reason,
          from_clientid: e.from?.clientid ?? null, from_username: e.from?.username ?? null,
          peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos, payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup },
          pub_props: {}, publish_received_at: e.receivedAt,
        },
      }
    case 'message_dropped':
      return {
        topic: '$events/message_dropped',
        context: {
          ...common, id: messageId(), event: 'message.dropped', reason: e.reason, peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos,
          payload: e.payload.toString('utf8'), flags: { retain: e.retain, dup: e.dup }, pub_props: {}, publish_received_at: e.receivedAt,
        },
      }
  }
}

/** The connection fields of the client events (EMQX's conninfo). */
function session(e: { peerhost: string | undefined; protoVer: number; keepalive: number; cleanStart: boolean }) {
  return {
    peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT', proto_ver: e.protoVer, keepalive: e.keepalive,
    clean_start: e.cleanStart, expiry_interval: 0, conn_props: {},
  }
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
