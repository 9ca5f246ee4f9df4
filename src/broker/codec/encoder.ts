/**
 * Server-side MQTT encoder: CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK,
 * PINGRESP, DISCONNECT and AUTH for MQTT 3.1, 3.1.1 and 5.0, from packets shaped as mqtt-packet 9
 * takes them, into one Buffer each (sizes computed first, one allocation, no intermediate
 * pieces). Where mqtt-packet's output is a valid encoding, these are the same bytes.
 *
 * Packets come from the broker itself, so bad input (a missing packet identifier, an unknown
 * property) is a programming error: it throws PacketEncodeError.
 */
import type {
  OutgoingAck,
  OutgoingAuth,
  OutgoingConnack,
  OutgoingDisconnect,
  OutgoingPublish,
  OutgoingSuback,
  OutgoingUnsuback,
  Properties,
  ProtocolVersion,
  ServerPacket,
} from './packet-types.js'
import { PROPERTY_BY_NAME, T_BINARY, T_BYTE, T_FLAG, T_FOUR_BYTE, T_TWO_BYTE, T_UTF8, T_UTF8_PAIR, T_VAR_INT, type PropertyDefinition } from './properties.js'

declare global {
  interface Buffer {
    latin1Write(string: string, offset: number): number
    utf8Write(string: string, offset: number): number
  }
}

export class PacketEncodeError extends Error {
  override readonly name = 'PacketEncodeError'
}

const MAX_REMAINING_LENGTH = 268_435_455
/** Payloads at least this long are better written after the header than copied behind it (see encodePublishHeader). */
export const PUBLISH_COPY_LIMIT = 16 * 1024

const PINGRESP = Buffer.from([0xd0, 0x00])

/**
 * Packets up to SLAB_LIMIT bytes are cut from shared 32 KiB slabs, as Node's Buffer pool does
 * with 8 KiB ones: at 1 KB per packet the pool's refills made allocation most of the encoding
 * time. Like any pooled Buffer, an encoded packet keeps its slab alive while it is referenced:
 * write it and let go (copy one that must be kept).
 */
const SLAB_SIZE = 32 * 1024
const SLAB_LIMIT = 4 * 1024
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer
let slabOffset = 0

function allocate(size: number): Buffer {
  if (size > SLAB_LIMIT) return Buffer.allocUnsafe(size)
  if (slabOffset + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer
    slabOffset = 0
  }
  const buf = Buffer.from(slab, slabOffset, size)
  // 8-byte aligned, as Node's pool.
  slabOffset += (size + 7) & ~7
  return buf
}
const DISCONNECT_V3 = Buffer.from([0xe0, 0x00])

/**
 * Encodes a packet the server sends. `maximumPacketSize` (the client's, from its CONNECT) drops
 * the Reason String and then the User Properties of a non-PUBLISH packet that would exceed it, as
 * MQTT 5 requires (3.1.2.11.4); a PUBLISH is encoded whole: compare its length and drop it.
 */
export function encodePacket(packet: ServerPacket, protocolVersion: ProtocolVersion, maximumPacketSize?: number): Buffer {
  if (packet.cmd === 'publish') return encodePublish(packet, protocolVersion)
  if (packet.cmd === 'pingresp') return PINGRESP
  const encoded = encodeControl(packet, protocolVersion, packet.properties)
  if (maximumPacketSize === undefined || encoded.length <= maximumPacketSize || protocolVersion !== 5) return encoded
  const properties = packet.properties
  if (properties?.reasonString !== undefined) {
    const { reasonString: _dropped, ...rest } = properties
    const shorter = encodeControl(packet, protocolVersion, rest)
    if (shorter.length <= maximumPacketSize) return shorter
  }
  if (properties?.reasonString !== undefined || properties?.userProperties !== undefined) {
    const { reasonString: _reason, userProperties: _user, ...rest } = properties
    const shortest = encodeControl(packet, protocolVersion, rest)
    if (shortest.length <= maximumPacketSize) return shortest
  }
  throw new PacketEncodeError(`${packet.cmd.toUpperCase()} of ${encoded.length} bytes exceeds the client's maximum packet size ${maximumPacketSize}`)
}

type ControlPacket = Exclude<ServerPacket, OutgoingPublish | { cmd: 'pingresp' }>

function encodeControl(packet: ControlPacket, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  switch (packet.cmd) {
    case 'connack':
      return encodeConnack(packet, version, properties)
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return encodeAck(packet, version, properties)
    case 'suback':
      return encodeSuback(packet, version, properties)
    case 'unsuback':
      return encodeUnsuback(packet, version, properties)
    case 'disconnect':
      return encodeDisconnect(packet, version, properties)
    case 'auth':
      return encodeAuth(packet, version, properties)
    default:
      throw new PacketEncodeError(`a server does not send ${String((packet as { cmd: unknown }).cmd)}`)
  }
}

/** A PUBLISH in one Buffer: fixed header, topic, packet identifier, properties and payload. */
export function encodePublish(packet: OutgoingPublish, protocolVersion: ProtocolVersion): Buffer {
  const payload = packet.payload
  let payloadLength = 0
  if (payload !== undefined && payload !== null) payloadLength = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const buf = publishHeader(packet, protocolVersion, payloadLength, payloadLength)
  if (payloadLength > 0) {
    const pos = buf.length - payloadLength
    if (typeof payload === 'string') buf.utf8Write(payload, pos)
    else if (payloadLength < 16) {
      // Shorter than a native copy's call overhead.
      const bytes = payload!
      for (let i = 0; i < payloadLength; i++) buf[pos + i] = bytes[i]!
    } else buf.set(payload!, pos)
  }
  return buf
}

/**
 * A PUBLISH without its payload: the caller writes `packet.payload` right after it (for large
 * payloads, at least PUBLISH_COPY_LIMIT bytes, this saves copying them). A string payload is
 * counted in UTF-8 and must be written as UTF-8.
 */
export function encodePublishHeader(packet: OutgoingPublish, protocolVersion: ProtocolVersion): Buffer {
  const payload = packet.payload
  let payloadLength = 0
  if (payload !== undefined && payload !== null) payloadLength = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  return publishHeader(packet, protocolVersion, payloadLength, 0)
}

function publishHeader(packet: OutgoingPublish, version: ProtocolVersion, payloadLength: number, room: number): Buffer {
  const topic = packet.topic
  const qos = packet.qos ?? 0
  let topicLength: number
  let topicIsAscii = false
  if (typeof topic === 'string') {
    topicLength = utf8Length(topic)
    topicIsAscii = topicLength === topic.length
  } else if (Buffer.isBuffer(topic)) {
    topicLength = topic.length
  } else {
    throw new PacketEncodeError('PUBLISH topic must be a string or a Buffer')
  }
  if (topicLength > 0xffff) throw new PacketEncodeError('PUBLISH topic longer than 65535 bytes')
  let remaining = 2 + topicLength + payloadLength
  const messageId = packet.messageId
  if (qos !== 0) {
    if (qos !== 1 && qos !== 2) throw new PacketEncodeError(`invalid PUBLISH QoS ${String(qos)}`)
    checkMessageId(messageId, 'PUBLISH')
    remaining += 2
  }
  let propertiesLength = 0
  if (version === 5) {
    propertiesLength = measureProperties(packet.properties)
    remaining += varIntSize(propertiesLength) + propertiesLength
  }
  if (remaining > MAX_REMAINING_LENGTH) throw new PacketEncodeError('PUBLISH larger than MQTT allows')
  const headerLength = 1 + varIntSize(remaining)
  const buf = allocate(headerLength + remaining - payloadLength + room)
  buf[0] = 0x30 | (packet.dup === true ? 8 : 0) | (qos << 1) | (packet.retain === true ? 1 : 0)
  let pos = writeVarInt(buf, 1, remaining)
  buf[pos] = topicLength >> 8
  buf[pos + 1] = topicLength & 0xff
  pos += 2
  if (typeof topic === 'string') {
    if (topicIsAscii) buf.latin1Write(topic, pos)
    else buf.utf8Write(topic, pos)
  } else {
    buf.set(topic, pos)
  }
  pos += topicLength
  if (qos !== 0) {
    buf[pos] = messageId! >> 8
    buf[pos + 1] = messageId! & 0xff
    pos += 2
  }
  if (version === 5) writeProperties(buf, pos, packet.properties, propertiesLength)
  return buf
}

/**
 * The MQTT 3.1/3.1.1 CONNACK return code for an MQTT 5 CONNACK reason code, or undefined when
 * 3.1.1 has none: then the server closes the connection without a CONNACK (3.1.1 section 3.2.2.3).
 */
export function v3ConnackReturnCode(reasonCode: number): number | undefined {
  switch (reasonCode) {
    case 0x00:
      return 0
    case 0x84: // Unsupported Protocol Version
      return 1
    case 0x85: // Client Identifier not valid
      return 2
    case 0x88: // Server unavailable
    case 0x89: // Server busy
      return 3
    case 0x86: // Bad User Name or Password
      return 4
    case 0x87: // Not authorized
      return 5
    default:
      return undefined
  }
}

function encodeConnack(packet: OutgoingConnack, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  let code: number | undefined
  if (version === 5) {
    code = packet.reasonCode ?? packet.returnCode
  } else {
    code = packet.returnCode
    if (code === undefined && packet.reasonCode !== undefined) {
      code = v3ConnackReturnCode(packet.reasonCode)
      if (code === undefined) throw new PacketEncodeError(`MQTT 3.1.1 has no CONNACK return code for reason code 0x${packet.reasonCode.toString(16)}: close the connection instead`)
    }
  }
  checkByte(code, 'CONNACK reason code')
  const propertiesLength = version === 5 ? measureProperties(properties) : -1
  const remaining = 2 + propertiesSize(propertiesLength)
  const buf = allocate(1 + varIntSize(remaining) + remaining)
  buf[0] = 0x20
  let pos = writeVarInt(buf, 1, remaining)
  buf[pos++] = packet.sessionPresent === true ? 1 : 0
  buf[pos++] = code
  if (propertiesLength >= 0) writeProperties(buf, pos, properties, propertiesLength)
  return buf
}

const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const

function encodeAck(packet: OutgoingAck, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  checkMessageId(packet.messageId, packet.cmd.toUpperCase())
  const first = ACK_FIRST_BYTE[packet.cmd]
  const reasonCode = packet.reasonCode ?? 0
  if (version !== 5 || (reasonCode === 0 && properties === undefined)) {
    // The short form: reason code 0 and no properties may be left out (MQTT 5 3.4.2.1).
    const buf = allocate(4)
    buf[0] = first
    buf[1] = 2
    buf[2] = packet.messageId >> 8
    buf[3] = packet.messageId & 0xff
    return buf
  }
  checkByte(reasonCode, `${packet.cmd.toUpperCase()} reason code`)
  const propertiesLength = measureProperties(properties)
  const remaining = 3 + propertiesSize(propertiesLength)
  const buf = allocate(1 + varIntSize(remaining) + remaining)
  buf[0] = first
  let pos = writeVarInt(buf, 1, remaining)
  buf[pos] = packet.messageId >> 8
  buf[pos + 1] = packet.messageId & 0xff
  buf[pos + 2] = reasonCode
  writeProperties(buf, pos + 3, properties, propertiesLength)
  return buf
}

function encodeSuback(packet: OutgoingSuback, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  checkMessageId(packet.messageId, 'SUBACK')
  const granted = packet.granted
  if (!Array.isArray(granted) || granted.length === 0) throw new PacketEncodeError('SUBACK needs one granted QoS or reason code per subscription')
  for (const code of granted) checkByte(code, 'SUBACK granted QoS or reason code')
  return encodeCodeList(0x90, packet.messageId, version === 5 ? measureProperties(properties) : -1, properties, granted)
}

function encodeUnsuback(packet: OutgoingUnsuback, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  checkMessageId(packet.messageId, 'UNSUBACK')
  if (version !== 5) {
    return Buffer.from([0xb0, 2, packet.messageId >> 8, packet.messageId & 0xff])
  }
  const granted = packet.granted
  if (!Array.isArray(granted) || granted.length === 0) throw new PacketEncodeError('MQTT 5 UNSUBACK needs one reason code per topic filter')
  for (const code of granted) checkByte(code, 'UNSUBACK reason code')
  return encodeCodeList(0xb0, packet.messageId, measureProperties(properties), properties, granted)
}

/**
 * SUBACK and MQTT 5 UNSUBACK, once checked: packet identifier, properties (none written when
 * `propertiesLength` is -1, before MQTT 5), then one code per topic filter of the request.
 */
function encodeCodeList(first: number, messageId: number, propertiesLength: number, properties: Properties | undefined, codes: readonly number[]): Buffer {
  const remaining = 2 + propertiesSize(propertiesLength) + codes.length
  const buf = allocate(1 + varIntSize(remaining) + remaining)
  buf[0] = first
  let pos = writeVarInt(buf, 1, remaining)
  buf[pos++] = messageId >> 8
  buf[pos++] = messageId & 0xff
  if (propertiesLength >= 0) pos = writeProperties(buf, pos, properties, propertiesLength)
  for (const code of codes) buf[pos++] = code
  return buf
}

function encodeDisconnect(packet: OutgoingDisconnect, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  if (version !== 5) return DISCONNECT_V3
  return encodeReasonAndProperties(0xe0, packet.reasonCode ?? 0, properties, 'DISCONNECT')
}

function encodeAuth(packet: OutgoingAuth, version: ProtocolVersion, properties: Properties | undefined): Buffer {
  if (version !== 5) throw new PacketEncodeError('AUTH exists only in MQTT 5')
  return encodeReasonAndProperties(0xf0, packet.reasonCode ?? 0, properties, 'AUTH')
}

function encodeReasonAndProperties(first: number, reasonCode: number, properties: Properties | undefined, what: string): Buffer {
  checkByte(reasonCode, `${what} reason code`)
  const propertiesLength = measureProperties(properties)
  const remaining = 1 + propertiesSize(propertiesLength)
  const buf = allocate(1 + varIntSize(remaining) + remaining)
  buf[0] = first
  const pos = writeVarInt(buf, 1, remaining)
  buf[pos] = reasonCode
  writeProperties(buf, pos + 1, properties, propertiesLength)
  return buf
}

function checkMessageId(messageId: unknown, what: string): asserts messageId is number {
  if (typeof messageId !== 'number' || !Number.isInteger(messageId) || messageId < 1 || messageId > 0xffff) {
    throw new PacketEncodeError(`${what} needs a packet identifier from 1 to 65535, not ${String(messageId)}`)
  }
}

function checkByte(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new PacketEncodeError(`invalid ${what}: ${String(value)}`)
  }
}

function varIntSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4
}

/** Property list size with its length prefix, from measureProperties' result (-1: no property list in this version). */
function propertiesSize(propertiesLength: number): number {
  return propertiesLength < 0 ? 0 : varIntSize(propertiesLength) + propertiesLength
}

function writeVarInt(buf: Buffer, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80
    value >>>= 7
  }
  buf[pos++] = value
  return pos
}

/** UTF-8 byte length of a string, without a native call for ASCII. */
function utf8Length(text: string): number {
  const length = text.length
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text)
  }
  return length
}

function writeString(buf: Buffer, pos: number, text: string): number {
  const length = utf8Length(text)
  if (length > 0xffff) throw new PacketEncodeError('string longer than 65535 bytes')
  buf[pos] = length >> 8
  buf[pos + 1] = length & 0xff
  if (length === text.length) buf.latin1Write(text, pos + 2)
  else buf.utf8Write(text, pos + 2)
  return pos + 2 + length
}

function definitionOf(name: string): PropertyDefinition {
  const definition = PROPERTY_BY_NAME.get(name)
  if (definition === undefined) throw new PacketEncodeError(`unknown MQTT 5 property ${name}`)
  return definition
}

/** Bytes of the property list, without its length prefix. Properties set to undefined or null are left out (as mqtt-packet does). */
function measureProperties(properties: Properties | undefined): number {
  if (properties === undefined || properties === null) return 0
  let length = 0
  for (const name in properties) {
    const value = (properties as Record<string, unknown>)[name]
    if (value === undefined || value === null) continue
    const definition = definitionOf(name)
    if (definition.type === T_UTF8_PAIR) {
      if (typeof value !== 'object') throw new PacketEncodeError('userProperties must be an object')
      const pairs = value as Record<string, unknown>
      for (const key of Object.getOwnPropertyNames(pairs)) {
        const entry = pairs[key]
        const keyLength = 2 + utf8Length(key)
        if (Array.isArray(entry)) for (const item of entry) length += 1 + keyLength + 2 + utf8Length(String(item))
        else length += 1 + keyLength + 2 + utf8Length(String(entry))
      }
    } else if (Array.isArray(value)) {
      for (const item of value) length += 1 + valueLength(definition, item)
    } else {
      length += 1 + valueLength(definition, value)
    }
  }
  if (length > MAX_REMAINING_LENGTH) throw new PacketEncodeError('properties larger than MQTT allows')
  return length
}

function valueLength(definition: PropertyDefinition, value: unknown): number {
  switch (definition.type) {
    case T_FLAG:
      if (typeof value !== 'boolean' && value !== 0 && value !== 1) break
      return 1
    case T_BYTE:
      if (!isUint(value, 0xff)) break
      return 1
    case T_TWO_BYTE:
      if (!isUint(value, 0xffff)) break
      return 2
    case T_FOUR_BYTE:
      if (!isUint(value, 0xffffffff)) break
      return 4
    case T_VAR_INT:
      if (!isUint(value, MAX_REMAINING_LENGTH)) break
      return varIntSize(value)
    case T_UTF8:
      if (typeof value !== 'string') break
      return 2 + utf8Length(value)
    case T_BINARY:
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 2 + value.length
      if (typeof value === 'string') return 2 + Buffer.byteLength(value)
      break
  }
  throw new PacketEncodeError(`invalid value for property ${definition.name}: ${String(value)}`)
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
}

function writeProperties(buf: Buffer, pos: number, properties: Properties | undefined, length: number): number {
  pos = writeVarInt(buf, pos, length)
  if (length === 0) return pos
  for (const name in properties) {
    const value = (properties as Record<string, unknown>)[name]
    if (value === undefined || value === null) continue
    const definition = definitionOf(name)
    if (definition.type === T_UTF8_PAIR) {
      const pairs = value as Record<string, unknown>
      for (const key of Object.getOwnPropertyNames(pairs)) {
        const entry = pairs[key]
        if (Array.isArray(entry)) {
          for (const item of entry) {
            buf[pos] = definition.id
            pos = writeString(buf, writeString(buf, pos + 1, key), String(item))
          }
        } else {
          buf[pos] = definition.id
          pos = writeString(buf, writeString(buf, pos + 1, key), String(entry))
        }
      }
    } else if (Array.isArray(value)) {
      for (const item of value) pos = writeValue(buf, pos, definition, item)
    } else {
      pos = writeValue(buf, pos, definition, value)
    }
  }
  return pos
}

function writeValue(buf: Buffer, pos: number, definition: PropertyDefinition, value: unknown): number {
  buf[pos++] = definition.id
  switch (definition.type) {
    case T_FLAG:
      buf[pos] = value === true || value === 1 ? 1 : 0
      return pos + 1
    case T_BYTE:
      buf[pos] = value as number
      return pos + 1
    case T_TWO_BYTE:
      buf[pos] = (value as number) >> 8
      buf[pos + 1] = (value as number) & 0xff
      return pos + 2
    case T_FOUR_BYTE:
      buf.writeUInt32BE(value as number, pos)
      return pos + 4
    case T_VAR_INT:
      return writeVarInt(buf, pos, value as number)
    case T_UTF8:
      return writeString(buf, pos, value as string)
    default: {
      // T_BINARY
      const bytes = typeof value === 'string' ? Buffer.from(value) : (value as Uint8Array)
      buf[pos] = bytes.length >> 8
      buf[pos + 1] = bytes.length & 0xff
      buf.set(bytes, pos + 2)
      return pos + 2 + bytes.length
    }
  }
}
