/**
 * The event topics a rule can select FROM and the fields each event carries, as EMQX documents them
 * ("Data Sources and Fields") and as its rule engine fills them (emqx_rule_events columns).
 *
 * EMQX 5 names events `$events/client_connected`, ...; newer releases add namespaced names
 * (`$events/client/connected`, ...) for the same events and keep the old ones. Both are accepted.
 */

/** The EMQX event name (hook point) of each event topic. */
export const EVENT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '$events/client_connected': 'client.connected',
  '$events/client_disconnected': 'client.disconnected',
  '$events/client_connack': 'client.connack',
  '$events/client_check_authz_complete': 'client.check_authz_complete',
  '$events/client_check_authn_complete': 'client.check_authn_complete',
  '$events/session_subscribed': 'session.subscribed',
  '$events/session_unsubscribed': 'session.unsubscribed',
  '$events/message_delivered': 'message.delivered',
  '$events/message_acked': 'message.acked',
  '$events/message_dropped': 'message.dropped',
  '$events/delivery_dropped': 'delivery.dropped',
  '$events/message_transformation_failed': 'message.transformation_failed',
  '$events/schema_validation_failed': 'schema.validation_failed',
  // Namespaced names of newer EMQX releases (same events, plus alarms and ping).
  '$events/client/connected': 'client.connected',
  '$events/client/disconnected': 'client.disconnected',
  '$events/client/connack': 'client.connack',
  '$events/client/ping': 'client.ping',
  '$events/auth/check_authz_complete': 'client.check_authz_complete',
  '$events/auth/check_authn_complete': 'client.check_authn_complete',
  '$events/session/subscribed': 'session.subscribed',
  '$events/session/unsubscribed': 'session.unsubscribed',
  '$events/message/delivered': 'message.delivered',
  '$events/message/acked': 'message.acked',
  '$events/message/dropped': 'message.dropped',
  '$events/message/delivery_dropped': 'delivery.dropped',
  '$events/message_transformation/failed': 'message.transformation_failed',
  '$events/schema_validation/failed': 'schema.validation_failed',
  '$events/sys/alarm_activated': 'alarm.activated',
  '$events/sys/alarm_deactivated': 'alarm.deactivated',
})

/** Every event topic accepted in FROM. */
export const EVENT_TOPICS: readonly string[] = Object.freeze(Object.keys(EVENT_NAMES))

/** The event topics EMQX 5 documents (the list shown in error messages). */
export const DOCUMENTED_EVENT_TOPICS: readonly string[] = Object.freeze(EVENT_TOPICS.filter((t) => !t.slice('$events/'.length).includes('/')))

/**
 * The key of EVENT_FIELDS for messages published to plain MQTT topics (EMQX's internal name for
 * the "message.publish" event; it cannot be used in FROM: select the topic filter instead).
 */
export const MESSAGE_PUBLISH_EVENT_TOPIC = '$events/message_publish'

const MESSAGE_PUBLISH = ['event', 'id', 'clientid', 'username', 'payload', 'peerhost', 'peername', 'topic', 'qos', 'flags', 'headers', 'pub_props', 'timestamp', 'publish_received_at', 'node', 'client_attrs']
const DELIVERED = ['event', 'id', 'from_clientid', 'from_username', 'clientid', 'username', 'payload', 'peerhost', 'peername', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node']
const ACKED = [...DELIVERED.slice(0, 13), 'puback_props', ...DELIVERED.slice(13)]
const DROPPED = ['event', 'id', 'reason', 'clientid', 'username', 'payload', 'peerhost', 'peername', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node']
const DELIVERY_DROPPED = ['event', 'id', 'reason', 'from_clientid', 'from_username', 'clientid', 'username', 'payload', 'peerhost', 'peername', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node']
const CONNECTED = ['event', 'clientid', 'username', 'mountpoint', 'peername', 'sockname', 'proto_name', 'proto_ver', 'keepalive', 'clean_start', 'expiry_interval', 'is_bridge', 'conn_props', 'connected_at', 'timestamp', 'node', 'client_attrs']
const DISCONNECTED = ['event', 'reason', 'clientid', 'username', 'peername', 'sockname', 'proto_name', 'proto_ver', 'disconn_props', 'connected_at', 'disconnected_at', 'timestamp', 'node', 'client_attrs']
const CONNACK = ['event', 'reason_code', 'clientid', 'username', 'peername', 'sockname', 'proto_name', 'proto_ver', 'keepalive', 'clean_start', 'expiry_interval', 'conn_props', 'connected_at', 'timestamp', 'node']
const AUTHZ = ['event', 'clientid', 'username', 'peerhost', 'peername', 'topic', 'action', 'authz_source', 'result', 'timestamp', 'node', 'client_attrs']
const AUTHN = ['event', 'clientid', 'username', 'peername', 'reason_code', 'is_superuser', 'is_anonymous', 'timestamp', 'node', 'client_attrs']
const SUBSCRIBED = ['event', 'clientid', 'username', 'peerhost', 'peername', 'topic', 'qos', 'sub_props', 'timestamp', 'node', 'client_attrs']
const UNSUBSCRIBED = ['event', 'clientid', 'username', 'peerhost', 'peername', 'topic', 'qos', 'unsub_props', 'timestamp', 'node', 'client_attrs']
const PING = ['event', 'clientid', 'username', 'peername', 'sockname', 'proto_name', 'proto_ver', 'keepalive', 'clean_start', 'expiry_interval', 'conn_props', 'connected_at', 'timestamp', 'node']
const VALIDATION_FAILED = ['event', 'validation', 'id', 'clientid', 'username', 'payload', 'peerhost', 'peername', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node']
const TRANSFORMATION_FAILED = ['event', 'transformation', 'id', 'clientid', 'username', 'payload', 'peername', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node']
const ALARM_ACTIVATED = ['event', 'name', 'details', 'message', 'activated_at']
const ALARM_DEACTIVATED = [...ALARM_ACTIVATED, 'deactivated_at']

const FIELDS_BY_EVENT: Readonly<Record<string, readonly string[]>> = {
  'message.publish': MESSAGE_PUBLISH,
  'message.delivered': DELIVERED,
  'message.acked': ACKED,
  'message.dropped': DROPPED,
  'delivery.dropped': DELIVERY_DROPPED,
  'client.connected': CONNECTED,
  'client.disconnected': DISCONNECTED,
  'client.connack': CONNACK,
  'client.check_authz_complete': AUTHZ,
  'client.check_authn_complete': AUTHN,
  'client.ping': PING,
  'session.subscribed': SUBSCRIBED,
  'session.unsubscribed': UNSUBSCRIBED,
  'schema.validation_failed': VALIDATION_FAILED,
  'message.transformation_failed': TRANSFORMATION_FAILED,
  'alarm.activated': ALARM_ACTIVATED,
  'alarm.deactivated': ALARM_DEACTIVATED,
}

/**
 * The fields of each event, keyed by event topic (every entry of EVENT_TOPICS), plus
 * MESSAGE_PUBLISH_EVENT_TOPIC for messages published to plain topics.
 */
export const EVENT_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.fromEntries([
    [MESSAGE_PUBLISH_EVENT_TOPIC, Object.freeze([...MESSAGE_PUBLISH])],
    ...EVENT_TOPICS.map((t) => [t, Object.freeze([...FIELDS_BY_EVENT[EVENT_NAMES[t]!]!])]),
  ]),
)

/** Is this FROM entry an event (or data-bridge source) rather than an MQTT topic filter? */
export function isEventSource(source: string): boolean {
  return source.startsWith('$events/') || source.startsWith('$bridges/') || source.startsWith('$sources/')
}

/**
 * The EMQX event name a FROM entry selects: 'message.publish' for an MQTT topic filter, the event
 * of an event topic (`$events/client_connected` -> 'client.connected'; both spellings of an event
 * give the same name), the entry itself for a data-bridge source (`$bridges/mqtt:in`), undefined
 * for an unknown `$events/...` topic.
 */
export function eventNameForSource(source: string): string | undefined {
  if (source.startsWith('$bridges/') || source.startsWith('$sources/')) return source
  if (source.startsWith('$events/')) return EVENT_NAMES[source]
  return 'message.publish'
}

/** The fields a rule selecting FROM `source` can use (the message-publish fields for a topic filter). */
export function fieldsForSource(source: string): readonly string[] {
  if (source.startsWith('$bridges/') || source.startsWith('$sources/')) return BRIDGE_FIELDS
  if (source.startsWith('$events/')) return EVENT_FIELDS[source] ?? []
  return EVENT_FIELDS[MESSAGE_PUBLISH_EVENT_TOPIC]!
}

/** Fields of messages arriving from a data bridge / source (`$bridges/mqtt:name`). */
export const BRIDGE_FIELDS: readonly string[] = Object.freeze(['event', 'id', 'payload', 'server', 'topic', 'qos', 'dup', 'retain', 'pub_props', 'message_received_at', 'timestamp', 'node'])
