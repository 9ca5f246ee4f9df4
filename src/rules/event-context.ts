import { hostname } from 'node:os'
import type { ClientEvent, PublishedMessage } from '../broker/embedded-broker.js'

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
        context: {
          ...common, event: 'client.connected', peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT',
          proto_ver: e.protoVer, keepalive: null, clean_start: e.cleanStart, expiry_interval: 0, is_bridge: false, connected_at: now,
        },
      }
    case 'client_disconnected':
      return {
        topic: '$events/client_disconnected',
        context: { ...common, event: 'client.disconnected', reason: 'normal', peername: e.peerhost ?? null, sockname: null, proto_name: 'MQTT', proto_ver: e.protoVer, disconnected_at: now },
      }
    case 'session_subscribed':
    case 'session_unsubscribed':
      return {
        topic: `$events/${e.kind}`,
        context: { ...common, event: e.kind === 'session_subscribed' ? 'session.subscribed' : 'session.unsubscribed', peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos },
      }
    case 'message_acked':
      return {
        topic: '$events/message_acked',
        context: {
          ...common, id: messageId(), event: 'message.acked', peerhost: e.peerhost ?? null, topic: e.topic, qos: e.qos,
          payload: e.payload.toString('utf8'), flags: {}, pub_props: {}, puback_props: {}, publish_received_at: now,
        },
      }
  }
}
