/**
 * The MQTT 5 property table (spec 2.2.2.2, table 2-4): identifier, mqtt-packet's name, data type,
 * and which packets may carry each property.
 */
import type { Properties } from './packet-types.js'

// Data types (plain numbers rather than enums: they are compared in the decoder's inner loop).
/** One byte, 0 or 1, surfaced as a boolean. */
export const T_FLAG = 0
export const T_BYTE = 1
export const T_TWO_BYTE = 2
export const T_FOUR_BYTE = 3
export const T_VAR_INT = 4
export const T_UTF8 = 5
export const T_UTF8_PAIR = 6
export const T_BINARY = 7

// Packet kinds for the "may carry" check; the will properties of a CONNECT count as their own.
export const SCOPE_CONNECT = 1 << 0
export const SCOPE_CONNACK = 1 << 1
export const SCOPE_PUBLISH = 1 << 2
export const SCOPE_WILL = 1 << 3
export const SCOPE_ACK = 1 << 4
export const SCOPE_SUBSCRIBE = 1 << 5
export const SCOPE_SUBACK = 1 << 6
export const SCOPE_UNSUBSCRIBE = 1 << 7
export const SCOPE_UNSUBACK = 1 << 8
export const SCOPE_DISCONNECT = 1 << 9
export const SCOPE_AUTH = 1 << 10

export interface PropertyDefinition {
  readonly id: number
  readonly name: keyof Properties
  readonly type: number
  readonly scopes: number
}

const S = {
  connect: SCOPE_CONNECT,
  connack: SCOPE_CONNACK,
  publish: SCOPE_PUBLISH,
  will: SCOPE_WILL,
  ack: SCOPE_ACK,
  subscribe: SCOPE_SUBSCRIBE,
  suback: SCOPE_SUBACK,
  unsubscribe: SCOPE_UNSUBSCRIBE,
  unsuback: SCOPE_UNSUBACK,
  disconnect: SCOPE_DISCONNECT,
  auth: SCOPE_AUTH,
}
const ALL = 0x7ff

const DEFINITIONS: readonly PropertyDefinition[] = [
  { id: 0x01, name: 'payloadFormatIndicator', type: T_FLAG, scopes: S.publish | S.will },
  { id: 0x02, name: 'messageExpiryInterval', type: T_FOUR_BYTE, scopes: S.publish | S.will },
  { id: 0x03, name: 'contentType', type: T_UTF8, scopes: S.publish | S.will },
  { id: 0x08, name: 'responseTopic', type: T_UTF8, scopes: S.publish | S.will },
  { id: 0x09, name: 'correlationData', type: T_BINARY, scopes: S.publish | S.will },
  { id: 0x0b, name: 'subscriptionIdentifier', type: T_VAR_INT, scopes: S.publish | S.subscribe },
  { id: 0x11, name: 'sessionExpiryInterval', type: T_FOUR_BYTE, scopes: S.connect | S.connack | S.disconnect },
  { id: 0x12, name: 'assignedClientIdentifier', type: T_UTF8, scopes: S.connack },
  { id: 0x13, name: 'serverKeepAlive', type: T_TWO_BYTE, scopes: S.connack },
  { id: 0x15, name: 'authenticationMethod', type: T_UTF8, scopes: S.connect | S.connack | S.auth },
  { id: 0x16, name: 'authenticationData', type: T_BINARY, scopes: S.connect | S.connack | S.auth },
  { id: 0x17, name: 'requestProblemInformation', type: T_FLAG, scopes: S.connect },
  { id: 0x18, name: 'willDelayInterval', type: T_FOUR_BYTE, scopes: S.will },
  { id: 0x19, name: 'requestResponseInformation', type: T_FLAG, scopes: S.connect },
  { id: 0x1a, name: 'responseInformation', type: T_UTF8, scopes: S.connack },
  { id: 0x1c, name: 'serverReference', type: T_UTF8, scopes: S.connack | S.disconnect },
  { id: 0x1f, name: 'reasonString', type: T_UTF8, scopes: S.connack | S.ack | S.suback | S.unsuback | S.disconnect | S.auth },
  { id: 0x21, name: 'receiveMaximum', type: T_TWO_BYTE, scopes: S.connect | S.connack },
  { id: 0x22, name: 'topicAliasMaximum', type: T_TWO_BYTE, scopes: S.connect | S.connack },
  { id: 0x23, name: 'topicAlias', type: T_TWO_BYTE, scopes: S.publish },
  { id: 0x24, name: 'maximumQoS', type: T_BYTE, scopes: S.connack },
  { id: 0x25, name: 'retainAvailable', type: T_FLAG, scopes: S.connack },
  { id: 0x26, name: 'userProperties', type: T_UTF8_PAIR, scopes: ALL },
  { id: 0x27, name: 'maximumPacketSize', type: T_FOUR_BYTE, scopes: S.connect | S.connack },
  { id: 0x28, name: 'wildcardSubscriptionAvailable', type: T_FLAG, scopes: S.connack },
  { id: 0x29, name: 'subscriptionIdentifiersAvailable', type: T_FLAG, scopes: S.connack },
  { id: 0x2a, name: 'sharedSubscriptionAvailable', type: T_FLAG, scopes: S.connack },
]

/** By identifier (undefined for identifiers the spec does not define). */
export const PROPERTY_BY_ID: ReadonlyArray<PropertyDefinition | undefined> = (() => {
  const table: Array<PropertyDefinition | undefined> = new Array(0x2b).fill(undefined)
  for (const definition of DEFINITIONS) table[definition.id] = definition
  return table
})()

/** By mqtt-packet's name. */
export const PROPERTY_BY_NAME: ReadonlyMap<string, PropertyDefinition> = new Map(DEFINITIONS.map((d) => [d.name, d]))
