/**
 * MQTT packets as plain objects, in the shape mqtt-packet 9 parses and generates (same `cmd`
 * names, field names and property names), so code written against mqtt-packet reads and writes
 * these unchanged.
 */

export type QoS = 0 | 1 | 2
/** 3 = MQTT 3.1 ('MQIsdp'), 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
export type ProtocolVersion = 3 | 4 | 5

/** User properties by name; a name sent more than once holds its values in order. */
export type UserProperties = Record<string, string | string[]>

/** MQTT 5 properties, named as mqtt-packet names them. Which ones a packet may carry is checked by the decoder. */
export interface Properties {
  payloadFormatIndicator?: boolean
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Buffer
  /** Several on a PUBLISH the server sends when more than one subscription matched. */
  subscriptionIdentifier?: number | number[]
  sessionExpiryInterval?: number
  assignedClientIdentifier?: string
  serverKeepAlive?: number
  authenticationMethod?: string
  authenticationData?: Buffer
  requestProblemInformation?: boolean
  willDelayInterval?: number
  requestResponseInformation?: boolean
  responseInformation?: string
  serverReference?: string
  reasonString?: string
  receiveMaximum?: number
  topicAliasMaximum?: number
  topicAlias?: number
  maximumQoS?: number
  retainAvailable?: boolean
  userProperties?: UserProperties
  maximumPacketSize?: number
  wildcardSubscriptionAvailable?: boolean
  subscriptionIdentifiersAvailable?: boolean
  sharedSubscriptionAvailable?: boolean
}

/** Fields every decoded packet has (mqtt-packet's Packet class: `topic` and `payload` are null except on PUBLISH). */
interface DecodedBase {
  retain: boolean
  qos: QoS
  dup: boolean
  /** Remaining length: the bytes after the fixed header. */
  length: number
  topic: string | null
  payload: Buffer | null
}

export interface WillMessage {
  retain: boolean
  qos: QoS
  properties?: Properties
  topic: string
  payload: Buffer
}

export interface ConnectPacket extends DecodedBase {
  cmd: 'connect'
  protocolId: 'MQTT' | 'MQIsdp'
  protocolVersion: ProtocolVersion
  /** Set when the protocol level had bit 7 set (a bridge, as mosquitto sends). */
  bridgeMode?: true
  will?: WillMessage
  clean: boolean
  keepalive: number
  properties?: Properties
  clientId: string
  username?: string
  password?: Buffer
}

export interface PublishPacket extends DecodedBase {
  cmd: 'publish'
  /** Empty only when MQTT 5 `properties.topicAlias` stands for it (the broker resolves aliases). */
  topic: string
  /** A view into the received bytes when the packet arrived in one chunk: copy it to keep it long. */
  payload: Buffer
  /** Present when qos > 0. */
  messageId?: number
  properties?: Properties
}

export interface AckPacket<C extends 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'> extends DecodedBase {
  cmd: C
  messageId: number
  /** MQTT 5 only (0 when the client left it out). */
  reasonCode?: number
  properties?: Properties
}
export type PubackPacket = AckPacket<'puback'>
export type PubrecPacket = AckPacket<'pubrec'>
export type PubrelPacket = AckPacket<'pubrel'>
export type PubcompPacket = AckPacket<'pubcomp'>

export interface Subscription {
  topic: string
  qos: QoS
  /** No Local, Retain As Published, Retain Handling: MQTT 5 (and bridges on 3.1.1) only. */
  nl?: boolean
  rap?: boolean
  rh?: 0 | 1 | 2
}

export interface SubscribePacket extends DecodedBase {
  cmd: 'subscribe'
  subscriptions: Subscription[]
  messageId: number
  properties?: Properties
}

export interface UnsubscribePacket extends DecodedBase {
  cmd: 'unsubscribe'
  unsubscriptions: string[]
  messageId: number
  properties?: Properties
}

export interface PingreqPacket extends DecodedBase {
  cmd: 'pingreq'
}

export interface DisconnectPacket extends DecodedBase {
  cmd: 'disconnect'
  /** MQTT 5 only (0 when left out). */
  reasonCode?: number
  properties?: Properties
}

export interface AuthPacket extends DecodedBase {
  cmd: 'auth'
  reasonCode: number
  properties?: Properties
}

/** What a client sends, as PacketDecoder delivers it. */
export type ClientPacket =
  | ConnectPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | UnsubscribePacket
  | PingreqPacket
  | DisconnectPacket
  | AuthPacket

// What the server sends: only the fields the encoder reads, most optional as mqtt-packet allows.

export interface OutgoingConnack {
  cmd: 'connack'
  sessionPresent?: boolean
  /**
   * MQTT 5 reason code; on 3.1/3.1.1 `returnCode`. Either is accepted for either version: a
   * reasonCode on 3.1.1 is mapped with v3ConnackReturnCode.
   */
  reasonCode?: number
  returnCode?: number
  properties?: Properties
}

export interface OutgoingPublish {
  cmd: 'publish'
  topic: string | Buffer
  payload?: Buffer | Uint8Array | string
  qos?: QoS
  retain?: boolean
  dup?: boolean
  /** Required when qos > 0. */
  messageId?: number
  properties?: Properties
}

export interface OutgoingAck {
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  messageId: number
  reasonCode?: number
  properties?: Properties
}

export interface OutgoingSuback {
  cmd: 'suback'
  messageId: number
  granted: number[]
  properties?: Properties
}

export interface OutgoingUnsuback {
  cmd: 'unsuback'
  messageId: number
  /** MQTT 5 only: one reason code per topic filter. */
  granted?: number[]
  properties?: Properties
}

export interface OutgoingPingresp {
  cmd: 'pingresp'
}

export interface OutgoingDisconnect {
  cmd: 'disconnect'
  reasonCode?: number
  properties?: Properties
}

export interface OutgoingAuth {
  cmd: 'auth'
  reasonCode: number
  properties?: Properties
}

/** What the server sends, as encodePacket takes it. */
export type ServerPacket =
  | OutgoingConnack
  | OutgoingPublish
  | OutgoingAck
  | OutgoingSuback
  | OutgoingUnsuback
  | OutgoingPingresp
  | OutgoingDisconnect
  | OutgoingAuth
