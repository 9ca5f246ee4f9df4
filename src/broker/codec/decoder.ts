/**
 * Server-side MQTT decoder: turns the bytes a client sends into packets shaped as mqtt-packet 9
 * parses them, and rejects what MQTT 3.1, 3.1.1 and 5.0 forbid with the MQTT 5 reason code the
 * broker should answer with (a CONNACK before the CONNECT succeeded, a DISCONNECT on MQTT 5
 * afterwards, closing the connection on 3.1/3.1.1).
 *
 * Framing never buffers more than a packet's declared size and refuses a packet larger than
 * `maxPacketSize` as soon as its fixed header is known, before any of its body. A packet that
 * sits inside one received chunk is decoded in place: a PUBLISH payload is a view into that
 * chunk (no copy); packets spanning chunks are joined first.
 */
import type {
  AckPacket,
  AuthPacket,
  ClientPacket,
  ConnectPacket,
  DisconnectPacket,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  SubscribePacket,
  Subscription,
  UnsubscribePacket,
  UserProperties,
  WillMessage,
} from './packet-types.js'
import {
  PROPERTY_BY_ID,
  SCOPE_ACK,
  SCOPE_AUTH,
  SCOPE_CONNECT,
  SCOPE_DISCONNECT,
  SCOPE_PUBLISH,
  SCOPE_SUBSCRIBE,
  SCOPE_UNSUBSCRIBE,
  SCOPE_WILL,
  T_BINARY,
  T_BYTE,
  T_FLAG,
  T_FOUR_BYTE,
  T_TWO_BYTE,
  T_UTF8,
  T_UTF8_PAIR,
  T_VAR_INT,
} from './properties.js'
import { decodeUtf8, isWellFormedUtf8 } from './utf8.js'
import { hasWildcard, isSharedFilter, isValidTopicFilter } from './topic-rules.js'

/** The MQTT 5 reason codes a decode error carries. */
export const DecodeReasonCode = {
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
} as const

const MALFORMED = 0x81
const PROTOCOL_ERROR = 0x82
const UNSUPPORTED_VERSION = 0x84
const CLIENT_ID_NOT_VALID = 0x85
const TOPIC_FILTER_INVALID = 0x8f
const TOPIC_NAME_INVALID = 0x90
const TOPIC_ALIAS_INVALID = 0x94
const PACKET_TOO_LARGE = 0x95

/** Why the bytes a client sent are not acceptable; the decoder stops at the first one. */
export class PacketDecodeError extends Error {
  override readonly name = 'PacketDecodeError'
  constructor(
    /** MQTT 5 reason code (DecodeReasonCode). */
    readonly reasonCode: number,
    message: string,
    /** The connection's protocol version when known (from the CONNECT being or already decoded). */
    readonly protocolVersion: ProtocolVersion | undefined,
  ) {
    super(message)
  }
}

export interface PacketDecoderOptions {
  /** Called with each packet, in order, synchronously from push(). */
  onPacket: (packet: ClientPacket) => void
  /**
   * Largest packet accepted, in bytes including the fixed header (MQTT 5's Maximum Packet Size).
   * Default: the protocol's limit (268,435,460).
   */
  maxPacketSize?: number
  /** Decode as if a CONNECT of this version had been accepted (no CONNECT expected first). */
  protocolVersion?: ProtocolVersion
  /** The Topic Alias Maximum the server announced in its CONNACK; larger aliases are rejected (0x94). */
  topicAliasMaximum?: number
}

/** 1 + 4 + 268,435,455: the largest packet the encoding can describe. */
export const MAX_POSSIBLE_PACKET_SIZE = 268_435_460
/**
 * A body split across chunks is gathered in a buffer allocated at its declared size up to this
 * many bytes; beyond, the buffer starts at this size and doubles as bytes arrive, so a client
 * declaring a large packet costs at most about twice what it actually sent.
 */
const PREALLOCATE_LIMIT = 64 * 1024
const EMPTY = Buffer.alloc(0)

/** Fixed-header flags each packet type must carry (MQTT-2.2.2-1); -1: reserved type 0 and PUBLISH, checked on their own. */
const REQUIRED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]
const PACKET_NAMES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'] as const

/** 1 for bytes that leave the topic-name fast path: NUL, '#', '+' and everything from 0x80. */
const TOPIC_SPECIAL = new Uint8Array(256)
TOPIC_SPECIAL[0] = 1
TOPIC_SPECIAL[0x23] = 1
TOPIC_SPECIAL[0x2b] = 1
TOPIC_SPECIAL.fill(1, 0x80)

/** MQTT 5 reason codes a client may send, per packet (spec sections 3.4.2.1, 3.6.2.1, 3.14.2.1, 3.15.2.1). */
const ACK_CODES = codeSet([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99])
const PUBREL_PUBCOMP_CODES = codeSet([0x00, 0x92])
const DISCONNECT_CODES = codeSet([0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2])
const AUTH_CODES = codeSet([0x00, 0x18, 0x19])

function codeSet(codes: number[]): Uint8Array {
  const set = new Uint8Array(256)
  for (const code of codes) set[code] = 1
  return set
}

/**
 * One per connection. Feed it every chunk the socket delivers, in order; it calls `onPacket` for
 * each complete packet and returns the error that ends the connection, if any (afterwards it
 * returns that same error and decodes nothing more).
 *
 * Chunks must not be reused by the caller after push(): payloads may be views into them.
 */
export class PacketDecoder {
  /** Largest packet accepted (bytes, fixed header included); may be changed between pushes. */
  maxPacketSize: number
  /** MQTT 5: largest Topic Alias accepted (the server's Topic Alias Maximum); may be changed between pushes. */
  topicAliasMaximum: number
  private version: 0 | ProtocolVersion
  private bridgeMode = false
  private readonly onPacket: (packet: ClientPacket) => void
  private failure: PacketDecodeError | undefined
  private stopped = false

  // A fixed header split across chunks: its bytes so far.
  private readonly headerBytes = Buffer.alloc(5)
  private headerFilled = 0
  // A body split across chunks.
  private bodyFirstByte = 0
  private bodyLength = 0
  private bodyFilled = 0
  private body: Buffer | undefined

  // Properties just read (set by readProperties, consumed right after).
  private properties: Properties | undefined

  constructor(options: PacketDecoderOptions) {
    this.onPacket = options.onPacket
    this.maxPacketSize = options.maxPacketSize ?? MAX_POSSIBLE_PACKET_SIZE
    this.version = options.protocolVersion ?? 0
    this.topicAliasMaximum = options.topicAliasMaximum ?? 0xffff
  }

  /** The protocol version of the accepted CONNECT (undefined before it). */
  get protocolVersion(): ProtocolVersion | undefined {
    return this.version === 0 ? undefined : this.version
  }

  /** The error that stopped decoding, if any. */
  get error(): PacketDecodeError | undefined {
    return this.failure
  }

  /** Stops decoding: the rest of the current chunk and later pushes are ignored (e.g. from onPacket, once the connection is being closed). */
  stop(): void {
    this.stopped = true
    this.body = undefined
  }

  /** Decodes what `chunk` completes; returns the error that ends the connection, if any. */
  push(chunk: Buffer): PacketDecodeError | undefined {
    if (this.failure !== undefined) return this.failure
    if (this.stopped) return undefined
    try {
      this.decodeChunk(chunk)
      return undefined
    } catch (error) {
      if (error instanceof PacketDecodeError) {
        this.failure = error
        return error
      }
      // onPacket threw: the position in the stream is lost, so nothing more can be decoded.
      this.failure = new PacketDecodeError(0x80, `packet handler failed: ${String(error)}`, this.protocolVersion)
      throw error
    }
  }

  private decodeChunk(chunk: Buffer): void {
    const end = chunk.length
    let pos = 0
    if (this.headerFilled > 0 || this.body !== undefined) {
      pos = this.resume(chunk)
      if (pos < 0) return
    }
    while (pos < end && !this.stopped) {
      const first = chunk[pos]!
      let i = pos + 1
      if (i === end) {
        this.saveHeader(chunk, pos, end)
        return
      }
      let b = chunk[i++]!
      let length = b & 0x7f
      if (b > 0x7f) {
        let shift = 7
        for (;;) {
          if (i === end) {
            this.saveHeader(chunk, pos, end)
            return
          }
          b = chunk[i++]!
          length += (b & 0x7f) * 2 ** shift
          if (b < 0x80) break
          shift += 7
          if (shift === 28) this.fail(MALFORMED, 'remaining length longer than 4 bytes')
        }
        if (b === 0 && this.version === 5) this.fail(MALFORMED, 'remaining length not in its shortest form')
      }
      const bodyStart = i
      this.checkSize(bodyStart - pos + length)
      const bodyEnd = bodyStart + length
      if (bodyEnd > end) {
        this.startBody(first, length, chunk, bodyStart, end)
        return
      }
      pos = bodyEnd
      this.decodePacket(first, chunk, bodyStart, bodyEnd)
    }
  }

  /** Continues a packet split across chunks; returns where the chunk's next packet starts, or -1 when the chunk is used up. */
  private resume(chunk: Buffer): number {
    let pos = 0
    if (this.headerFilled > 0) {
      const header = this.headerBytes
      for (;;) {
        if (pos === chunk.length) return -1
        const b = chunk[pos++]!
        header[this.headerFilled++] = b
        if (this.headerFilled >= 2 && b < 0x80) break
        if (this.headerFilled === 5) this.fail(MALFORMED, 'remaining length longer than 4 bytes')
      }
      const headerSize = this.headerFilled
      this.headerFilled = 0
      let length = 0
      for (let k = 1; k < headerSize; k++) length += (header[k]! & 0x7f) * 2 ** (7 * (k - 1))
      if (headerSize > 2 && header[headerSize - 1] === 0 && this.version === 5) {
        this.fail(MALFORMED, 'remaining length not in its shortest form')
      }
      this.checkSize(headerSize + length)
      const first = header[0]!
      if (chunk.length - pos >= length) {
        this.decodePacket(first, chunk, pos, pos + length)
        return pos + length
      }
      this.startBody(first, length, chunk, pos, chunk.length)
      return -1
    }
    const take = Math.min(this.bodyLength - this.bodyFilled, chunk.length)
    let body = this.body!
    if (this.bodyFilled + take > body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.bodyLength, Math.max(2 * body.length, this.bodyFilled + take)))
      body.copy(grown, 0, 0, this.bodyFilled)
      body = this.body = grown
    }
    chunk.copy(body, this.bodyFilled, 0, take)
    this.bodyFilled += take
    if (this.bodyFilled < this.bodyLength) return -1
    this.body = undefined
    this.decodePacket(this.bodyFirstByte, body, 0, body.length)
    return take
  }

  private saveHeader(chunk: Buffer, start: number, end: number): void {
    chunk.copy(this.headerBytes, 0, start, end)
    this.headerFilled = end - start
  }

  private startBody(first: number, length: number, chunk: Buffer, start: number, end: number): void {
    this.bodyFirstByte = first
    this.bodyLength = length
    this.bodyFilled = end - start
    this.body = Buffer.allocUnsafe(Math.min(length, Math.max(PREALLOCATE_LIMIT, 2 * this.bodyFilled)))
    chunk.copy(this.body, 0, start, end)
  }

  private checkSize(packetSize: number): void {
    if (packetSize > this.maxPacketSize) {
      this.fail(PACKET_TOO_LARGE, `packet of ${packetSize} bytes exceeds the maximum packet size of ${this.maxPacketSize}`)
    }
  }

  private fail(reasonCode: number, message: string): never {
    throw new PacketDecodeError(reasonCode, message, this.protocolVersion)
  }

  private decodePacket(first: number, buf: Buffer, start: number, end: number): void {
    const type = first >> 4
    if (type === 3) {
      if (this.version === 0) this.fail(PROTOCOL_ERROR, 'the first packet must be CONNECT')
      this.onPacket(this.decodePublish(first, buf, start, end))
      return
    }
    if (type === 0) this.fail(MALFORMED, 'packet type 0 is reserved')
    const flags = first & 0x0f
    // MQTT 3.1 (not 3.1.1) sets DUP on a retransmitted PUBREL, SUBSCRIBE or UNSUBSCRIBE.
    const retransmission = flags === 0x0a && this.version === 3 && (type === 6 || type === 8 || type === 10)
    if (flags !== REQUIRED_FLAGS[type] && !retransmission) {
      this.fail(MALFORMED, `reserved fixed-header flags of ${PACKET_NAMES[type]!.toUpperCase()} must be ${REQUIRED_FLAGS[type]}`)
    }
    if (this.version === 0 && type !== 1) this.fail(PROTOCOL_ERROR, 'the first packet must be CONNECT')
    let packet: ClientPacket
    switch (type) {
      case 1:
        if (this.version !== 0) this.fail(PROTOCOL_ERROR, 'second CONNECT on the connection')
        packet = this.decodeConnect(buf, start, end)
        break
      case 4:
        packet = this.decodeAck('puback', buf, start, end)
        break
      case 5:
        packet = this.decodeAck('pubrec', buf, start, end)
        break
      case 6:
        packet = this.decodeAck('pubrel', buf, start, end)
        break
      case 7:
        packet = this.decodeAck('pubcomp', buf, start, end)
        break
      case 8:
        packet = this.decodeSubscribe(buf, start, end)
        break
      case 10:
        packet = this.decodeUnsubscribe(buf, start, end)
        break
      case 12:
        if (end !== start) this.fail(MALFORMED, 'PINGREQ has a body')
        packet = { cmd: 'pingreq', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null }
        break
      case 14:
        packet = this.decodeDisconnect(buf, start, end)
        break
      case 15:
        if (this.version !== 5) this.fail(MALFORMED, 'AUTH exists only in MQTT 5')
        packet = this.decodeAuth(buf, start, end)
        break
      default:
        // CONNACK, SUBACK, UNSUBACK, PINGRESP: only a server sends them.
        this.fail(PROTOCOL_ERROR, `a client must not send ${PACKET_NAMES[type]!.toUpperCase()}`)
    }
    if (retransmission) packet.dup = true
    this.onPacket(packet)
  }

  private decodePublish(first: number, buf: Buffer, start: number, end: number): PublishPacket {
    const qos = (first >> 1) & 3
    if (qos === 3) this.fail(MALFORMED, 'PUBLISH with QoS 3')
    const dup = (first & 8) !== 0
    if (dup && qos === 0) this.fail(PROTOCOL_ERROR, 'PUBLISH with QoS 0 and DUP set')
    if (end - start < 2) this.fail(MALFORMED, 'PUBLISH too short for its topic')
    const topicStart = start + 2
    const topicEnd = topicStart + ((buf[start]! << 8) | buf[start + 1]!)
    if (topicEnd > end) this.fail(MALFORMED, 'PUBLISH topic longer than the packet')
    let topic: string | undefined
    for (let i = topicStart; i < topicEnd; i++) {
      if (TOPIC_SPECIAL[buf[i]!] !== 0) {
        topic = this.decodeSpecialTopicName(buf, topicStart, topicEnd)
        break
      }
    }
    if (topic === undefined) topic = buf.latin1Slice(topicStart, topicEnd)
    let pos = topicEnd
    let packet: PublishPacket
    const length = end - start
    if (qos === 0) {
      packet = { cmd: 'publish', retain: (first & 1) !== 0, qos: 0, dup, length, topic, payload: EMPTY }
    } else {
      if (end - pos < 2) this.fail(MALFORMED, 'PUBLISH too short for its packet identifier')
      const messageId = (buf[pos]! << 8) | buf[pos + 1]!
      if (messageId === 0) this.fail(PROTOCOL_ERROR, 'PUBLISH with QoS > 0 and packet identifier 0')
      pos += 2
      packet = { cmd: 'publish', retain: (first & 1) !== 0, qos: qos as QoS, dup, length, topic, payload: EMPTY, messageId }
    }
    if (this.version === 5) {
      pos = this.readProperties(buf, pos, end, SCOPE_PUBLISH)
      const properties = this.properties
      if (properties !== undefined) {
        if (properties.subscriptionIdentifier !== undefined) this.fail(PROTOCOL_ERROR, 'a client must not send a Subscription Identifier in PUBLISH')
        packet.properties = properties
      }
      if (topic.length === 0 && properties?.topicAlias === undefined) this.fail(PROTOCOL_ERROR, 'PUBLISH with an empty topic and no topic alias')
    } else if (topic.length === 0) {
      this.fail(PROTOCOL_ERROR, 'PUBLISH with an empty topic')
    }
    packet.payload = pos === end ? EMPTY : buf.subarray(pos, end)
    return packet
  }

  private decodeSpecialTopicName(buf: Buffer, start: number, end: number): string {
    if (!isWellFormedUtf8(buf, start, end)) this.fail(MALFORMED, 'topic is not well-formed UTF-8 (or contains U+0000)')
    const topic = buf.utf8Slice(start, end)
    if (hasWildcard(topic)) this.fail(TOPIC_NAME_INVALID, `topic name ${JSON.stringify(topic)} contains a wildcard`)
    return topic
  }

  private decodeConnect(buf: Buffer, start: number, end: number): ConnectPacket {
    let pos = start
    const nameEnd = pos + 2 + (end - pos >= 2 ? (buf[pos]! << 8) | buf[pos + 1]! : 0)
    if (end - pos < 2 || nameEnd > end) this.fail(MALFORMED, 'CONNECT too short for its protocol name')
    const protocolId = buf.latin1Slice(pos + 2, nameEnd)
    if (protocolId !== 'MQTT' && protocolId !== 'MQIsdp') this.fail(UNSUPPORTED_VERSION, `unknown protocol name ${JSON.stringify(protocolId)}`)
    pos = nameEnd
    if (end - pos < 4) this.fail(MALFORMED, 'CONNECT too short for its protocol level, flags and keep alive')
    const level = buf[pos]!
    const bridgeMode = level >= 0x80
    const version = level & 0x7f
    if (version !== 3 && version !== 4 && version !== 5) this.fail(UNSUPPORTED_VERSION, `unsupported protocol level ${level}`)
    if ((version === 3) !== (protocolId === 'MQIsdp')) this.fail(UNSUPPORTED_VERSION, `protocol name ${protocolId} with protocol level ${version}`)
    const flags = buf[pos + 1]!
    const keepalive = (buf[pos + 2]! << 8) | buf[pos + 3]!
    pos += 4
    // Errors from here on are answered in this version.
    const fail = (reasonCode: number, message: string): never => {
      throw new PacketDecodeError(reasonCode, message, version)
    }
    if ((flags & 1) !== 0) fail(MALFORMED, 'CONNECT reserved flag (bit 0) is set')
    const hasUsername = (flags & 0x80) !== 0
    const hasPassword = (flags & 0x40) !== 0
    const willRetain = (flags & 0x20) !== 0
    const willQos = (flags >> 3) & 3
    const hasWill = (flags & 0x04) !== 0
    const clean = (flags & 0x02) !== 0
    if (hasWill) {
      if (willQos === 3) fail(MALFORMED, 'will QoS 3')
    } else if (willQos !== 0 || willRetain) {
      fail(MALFORMED, 'will QoS or will retain set without the will flag')
    }
    if (hasPassword && !hasUsername && version !== 5) fail(MALFORMED, 'password flag set without the user name flag')

    let properties: Properties | undefined
    if (version === 5) {
      pos = this.readProperties(buf, pos, end, SCOPE_CONNECT, version)
      properties = this.properties
      if (properties?.authenticationData !== undefined && properties.authenticationMethod === undefined) {
        fail(PROTOCOL_ERROR, 'authentication data without an authentication method')
      }
    }
    const clientIdEnd = this.stringEnd(buf, pos, end, 'client identifier', version)
    const clientId = decodeUtf8(buf, pos + 2, clientIdEnd) ?? fail(MALFORMED, 'client identifier is not well-formed UTF-8')
    pos = clientIdEnd
    if (clientId.length === 0) {
      if (version === 3) fail(CLIENT_ID_NOT_VALID, 'MQTT 3.1 requires a client identifier')
      if (version === 4 && !clean) fail(CLIENT_ID_NOT_VALID, 'an empty client identifier requires clean session')
    }

    const packet: ConnectPacket = {
      cmd: 'connect',
      retain: false,
      qos: 0,
      dup: false,
      length: end - start,
      topic: null,
      payload: null,
      protocolId: protocolId as 'MQTT' | 'MQIsdp',
      protocolVersion: version,
      clean,
      keepalive,
      clientId,
    }
    if (bridgeMode) packet.bridgeMode = true
    if (properties !== undefined) packet.properties = properties

    if (hasWill) {
      let willProperties: Properties | undefined
      if (version === 5) {
        pos = this.readProperties(buf, pos, end, SCOPE_WILL, version)
        willProperties = this.properties
      }
      const topicEnd = this.stringEnd(buf, pos, end, 'will topic', version)
      const topic = decodeUtf8(buf, pos + 2, topicEnd) ?? fail(MALFORMED, 'will topic is not well-formed UTF-8')
      if (topic.length === 0) fail(PROTOCOL_ERROR, 'empty will topic')
      if (hasWildcard(topic)) fail(TOPIC_NAME_INVALID, `will topic ${JSON.stringify(topic)} contains a wildcard`)
      pos = topicEnd
      const payloadEnd = this.stringEnd(buf, pos, end, 'will payload', version)
      const will: WillMessage = { retain: willRetain, qos: willQos as QoS, topic, payload: buf.subarray(pos + 2, payloadEnd) }
      if (willProperties !== undefined) will.properties = willProperties
      pos = payloadEnd
      packet.will = will
    }
    if (hasUsername) {
      const usernameEnd = this.stringEnd(buf, pos, end, 'user name', version)
      packet.username = decodeUtf8(buf, pos + 2, usernameEnd) ?? fail(MALFORMED, 'user name is not well-formed UTF-8')
      pos = usernameEnd
    }
    if (hasPassword) {
      const passwordEnd = this.stringEnd(buf, pos, end, 'password', version)
      packet.password = buf.subarray(pos + 2, passwordEnd)
      pos = passwordEnd
    }
    if (pos !== end) fail(MALFORMED, 'bytes after the end of CONNECT')
    this.version = version
    this.bridgeMode = bridgeMode
    return packet
  }

  private decodeAck<C extends 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'>(cmd: C, buf: Buffer, start: number, end: number): AckPacket<C> {
    const length = end - start
    if (length < 2) this.fail(MALFORMED, `${cmd.toUpperCase()} too short for its packet identifier`)
    const messageId = (buf[start]! << 8) | buf[start + 1]!
    // PUBREL's required flags 0010 read as QoS 1, as mqtt-packet reports them.
    const packet: AckPacket<C> = { cmd, retain: false, qos: cmd === 'pubrel' ? 1 : 0, dup: false, length, topic: null, payload: null, messageId }
    if (this.version !== 5) {
      if (length !== 2) this.fail(MALFORMED, `${cmd.toUpperCase()} longer than its packet identifier`)
      return packet
    }
    packet.reasonCode = 0
    if (length === 2) return packet
    const reasonCode = buf[start + 2]!
    const allowed = cmd === 'puback' || cmd === 'pubrec' ? ACK_CODES : PUBREL_PUBCOMP_CODES
    if (allowed[reasonCode] === 0) this.fail(PROTOCOL_ERROR, `invalid ${cmd.toUpperCase()} reason code 0x${reasonCode.toString(16)}`)
    packet.reasonCode = reasonCode
    if (length === 3) return packet
    const pos = this.readProperties(buf, start + 3, end, SCOPE_ACK)
    if (this.properties !== undefined) packet.properties = this.properties
    if (pos !== end) this.fail(MALFORMED, `bytes after the properties of ${cmd.toUpperCase()}`)
    return packet
  }

  private decodeSubscribe(buf: Buffer, start: number, end: number): SubscribePacket {
    const version = this.version
    if (end - start < 2) this.fail(MALFORMED, 'SUBSCRIBE too short for its packet identifier')
    const messageId = (buf[start]! << 8) | buf[start + 1]!
    if (messageId === 0) this.fail(PROTOCOL_ERROR, 'SUBSCRIBE with packet identifier 0')
    let pos = start + 2
    const subscriptions: Subscription[] = []
    const packet: SubscribePacket = { cmd: 'subscribe', retain: false, qos: 1, dup: false, length: end - start, topic: null, payload: null, subscriptions, messageId }
    if (version === 5) {
      pos = this.readProperties(buf, pos, end, SCOPE_SUBSCRIBE)
      if (this.properties !== undefined) packet.properties = this.properties
    }
    if (pos === end) this.fail(PROTOCOL_ERROR, 'SUBSCRIBE without a topic filter')
    while (pos < end) {
      const filterEnd = this.stringEnd(buf, pos, end, 'topic filter')
      const topic = decodeUtf8(buf, pos + 2, filterEnd) ?? this.fail(MALFORMED, 'topic filter is not well-formed UTF-8')
      pos = filterEnd
      if (pos === end) this.fail(MALFORMED, 'SUBSCRIBE topic filter without its options')
      const options = buf[pos++]!
      if ((options & (version === 5 ? 0xc0 : 0xfc)) !== 0) this.fail(MALFORMED, 'reserved bits of subscription options are set')
      const qos = options & 3
      // Malformed on 3.1.1 (MQTT-3-8.3-4), a Protocol Error on 5 (3.8.3.1).
      if (qos === 3) this.fail(version === 5 ? PROTOCOL_ERROR : MALFORMED, 'subscription with QoS 3')
      if (!isValidTopicFilter(topic, version)) this.fail(TOPIC_FILTER_INVALID, `invalid topic filter ${JSON.stringify(topic)}`)
      if (version === 5) {
        const rh = (options >> 4) & 3
        if (rh === 3) this.fail(PROTOCOL_ERROR, 'retain handling 3')
        const nl = (options & 4) !== 0
        if (nl && isSharedFilter(topic, version)) this.fail(PROTOCOL_ERROR, 'No Local on a shared subscription')
        subscriptions.push({ topic, qos: qos as QoS, nl, rap: (options & 8) !== 0, rh: rh as 0 | 1 | 2 })
      } else if (this.bridgeMode) {
        subscriptions.push({ topic, qos: qos as QoS, rh: 0, rap: true, nl: true })
      } else {
        subscriptions.push({ topic, qos: qos as QoS })
      }
    }
    return packet
  }

  private decodeUnsubscribe(buf: Buffer, start: number, end: number): UnsubscribePacket {
    const version = this.version
    if (end - start < 2) this.fail(MALFORMED, 'UNSUBSCRIBE too short for its packet identifier')
    const messageId = (buf[start]! << 8) | buf[start + 1]!
    if (messageId === 0) this.fail(PROTOCOL_ERROR, 'UNSUBSCRIBE with packet identifier 0')
    let pos = start + 2
    const unsubscriptions: string[] = []
    const packet: UnsubscribePacket = { cmd: 'unsubscribe', retain: false, qos: 1, dup: false, length: end - start, topic: null, payload: null, unsubscriptions, messageId }
    if (version === 5) {
      pos = this.readProperties(buf, pos, end, SCOPE_UNSUBSCRIBE)
      if (this.properties !== undefined) packet.properties = this.properties
    }
    if (pos === end) this.fail(PROTOCOL_ERROR, 'UNSUBSCRIBE without a topic filter')
    while (pos < end) {
      const filterEnd = this.stringEnd(buf, pos, end, 'topic filter')
      const filter = decodeUtf8(buf, pos + 2, filterEnd) ?? this.fail(MALFORMED, 'topic filter is not well-formed UTF-8')
      if (!isValidTopicFilter(filter, version)) this.fail(TOPIC_FILTER_INVALID, `invalid topic filter ${JSON.stringify(filter)}`)
      unsubscriptions.push(filter)
      pos = filterEnd
    }
    return packet
  }

  private decodeDisconnect(buf: Buffer, start: number, end: number): DisconnectPacket {
    const length = end - start
    const packet: DisconnectPacket = { cmd: 'disconnect', retain: false, qos: 0, dup: false, length, topic: null, payload: null }
    if (this.version !== 5) {
      if (length !== 0) this.fail(MALFORMED, 'DISCONNECT has a body')
      return packet
    }
    packet.reasonCode = 0
    if (length === 0) return packet
    const reasonCode = buf[start]!
    if (DISCONNECT_CODES[reasonCode] === 0) this.fail(PROTOCOL_ERROR, `invalid DISCONNECT reason code 0x${reasonCode.toString(16)}`)
    packet.reasonCode = reasonCode
    if (length === 1) return packet
    const pos = this.readProperties(buf, start + 1, end, SCOPE_DISCONNECT)
    if (this.properties !== undefined) {
      if (this.properties.serverReference !== undefined) this.fail(PROTOCOL_ERROR, 'a client must not send a Server Reference')
      packet.properties = this.properties
    }
    if (pos !== end) this.fail(MALFORMED, 'bytes after the properties of DISCONNECT')
    return packet
  }

  private decodeAuth(buf: Buffer, start: number, end: number): AuthPacket {
    const length = end - start
    const packet: AuthPacket = { cmd: 'auth', retain: false, qos: 0, dup: false, length, topic: null, payload: null, reasonCode: 0 }
    if (length === 0) return packet
    const reasonCode = buf[start]!
    if (AUTH_CODES[reasonCode] === 0) this.fail(PROTOCOL_ERROR, `invalid AUTH reason code 0x${reasonCode.toString(16)}`)
    packet.reasonCode = reasonCode
    if (length === 1) return packet
    const pos = this.readProperties(buf, start + 1, end, SCOPE_AUTH)
    const properties = this.properties
    if (properties !== undefined) {
      if (properties.authenticationData !== undefined && properties.authenticationMethod === undefined) {
        this.fail(PROTOCOL_ERROR, 'authentication data without an authentication method')
      }
      packet.properties = properties
    }
    if (pos !== end) this.fail(MALFORMED, 'bytes after the properties of AUTH')
    return packet
  }

  /** Where the length-prefixed string or binary at `pos` ends (checked against `end`). */
  private stringEnd(buf: Buffer, pos: number, end: number, what: string, version?: ProtocolVersion): number {
    if (end - pos < 2) this.failAs(version, MALFORMED, `packet too short for its ${what}`)
    const stringEnd = pos + 2 + ((buf[pos]! << 8) | buf[pos + 1]!)
    if (stringEnd > end) this.failAs(version, MALFORMED, `${what} longer than the packet`)
    return stringEnd
  }

  private failAs(version: ProtocolVersion | undefined, reasonCode: number, message: string): never {
    throw new PacketDecodeError(reasonCode, message, version ?? this.protocolVersion)
  }

  /**
   * Reads an MQTT 5 property list at `pos` (its length first) into `this.properties` (undefined
   * when empty) and returns where it ends. `scope` says which properties the packet may carry.
   */
  private readProperties(buf: Buffer, pos: number, end: number, scope: number, version?: ProtocolVersion): number {
    // Property Length (a Variable Byte Integer).
    let length = 0
    let shift = 0
    for (;;) {
      if (pos === end) this.failAs(version, MALFORMED, 'packet too short for its property length')
      const b = buf[pos++]!
      length += (b & 0x7f) * 2 ** shift
      if (b < 0x80) {
        if (b === 0 && shift > 0) this.failAs(version, MALFORMED, 'property length not in its shortest form')
        break
      }
      shift += 7
      if (shift === 28) this.failAs(version, MALFORMED, 'property length longer than 4 bytes')
    }
    if (length === 0) {
      this.properties = undefined
      return pos
    }
    const propertiesEnd = pos + length
    if (propertiesEnd > end) this.failAs(version, MALFORMED, 'property length beyond the end of the packet')
    const properties: Record<string, unknown> = {}
    let seenLow = 0 // identifiers 0..31
    let seenHigh = 0 // identifiers 32..63
    while (pos < propertiesEnd) {
      const id = buf[pos++]!
      const definition = id < PROPERTY_BY_ID.length ? PROPERTY_BY_ID[id] : undefined
      if (definition === undefined) this.failAs(version, MALFORMED, `unknown property identifier 0x${id.toString(16)}`)
      const name = definition.name
      if ((definition.scopes & scope) === 0) this.failAs(version, MALFORMED, `property ${name} is not allowed in this packet`)
      const type = definition.type
      if (type !== T_UTF8_PAIR) {
        const seen = id < 32 ? seenLow & (1 << id) : seenHigh & (1 << (id - 32))
        if (seen !== 0) this.failAs(version, PROTOCOL_ERROR, `property ${name} appears more than once`)
        if (id < 32) seenLow |= 1 << id
        else seenHigh |= 1 << (id - 32)
      }
      const remaining = propertiesEnd - pos
      switch (type) {
        case T_FLAG: {
          if (remaining < 1) break
          const value = buf[pos++]!
          if (value > 1) this.failAs(version, PROTOCOL_ERROR, `property ${name} must be 0 or 1, not ${value}`)
          properties[name] = value === 1
          continue
        }
        case T_BYTE:
          if (remaining < 1) break
          properties[name] = buf[pos++]
          continue
        case T_TWO_BYTE: {
          if (remaining < 2) break
          const value = (buf[pos]! << 8) | buf[pos + 1]!
          pos += 2
          if (value === 0 && (id === 0x21 /* receiveMaximum */ || id === 0x23) /* topicAlias */) {
            this.failAs(version, id === 0x23 ? TOPIC_ALIAS_INVALID : PROTOCOL_ERROR, `property ${name} must not be 0`)
          }
          if (id === 0x23 && value > this.topicAliasMaximum) {
            this.failAs(version, TOPIC_ALIAS_INVALID, `topic alias ${value} exceeds the topic alias maximum ${this.topicAliasMaximum}`)
          }
          properties[name] = value
          continue
        }
        case T_FOUR_BYTE: {
          if (remaining < 4) break
          const value = buf.readUInt32BE(pos)
          pos += 4
          if (value === 0 && id === 0x27 /* maximumPacketSize */) this.failAs(version, PROTOCOL_ERROR, 'property maximumPacketSize must not be 0')
          properties[name] = value
          continue
        }
        case T_VAR_INT: {
          let value = 0
          let valueShift = 0
          for (;;) {
            if (pos === propertiesEnd) this.failAs(version, MALFORMED, `property ${name} runs past the property list`)
            const b = buf[pos++]!
            value += (b & 0x7f) * 2 ** valueShift
            if (b < 0x80) {
              if (b === 0 && valueShift > 0) this.failAs(version, MALFORMED, `property ${name} not in its shortest form`)
              break
            }
            valueShift += 7
            if (valueShift === 28) this.failAs(version, MALFORMED, `property ${name} longer than 4 bytes`)
          }
          if (value === 0) this.failAs(version, PROTOCOL_ERROR, `property ${name} must not be 0`)
          properties[name] = value
          continue
        }
        case T_UTF8: {
          if (remaining < 2) break
          const valueEnd = pos + 2 + ((buf[pos]! << 8) | buf[pos + 1]!)
          if (valueEnd > propertiesEnd) break
          const value = decodeUtf8(buf, pos + 2, valueEnd) ?? this.failAs(version, MALFORMED, `property ${name} is not well-formed UTF-8`)
          if (id === 0x08 /* responseTopic */ && (value.length === 0 || hasWildcard(value))) {
            this.failAs(version, PROTOCOL_ERROR, `response topic ${JSON.stringify(value)} is not a topic name`)
          }
          properties[name] = value
          pos = valueEnd
          continue
        }
        case T_BINARY: {
          if (remaining < 2) break
          const valueEnd = pos + 2 + ((buf[pos]! << 8) | buf[pos + 1]!)
          if (valueEnd > propertiesEnd) break
          properties[name] = buf.subarray(pos + 2, valueEnd)
          pos = valueEnd
          continue
        }
        case T_UTF8_PAIR: {
          if (remaining < 4) break
          const keyEnd = pos + 2 + ((buf[pos]! << 8) | buf[pos + 1]!)
          if (keyEnd + 2 > propertiesEnd) break
          const valueEnd = keyEnd + 2 + ((buf[keyEnd]! << 8) | buf[keyEnd + 1]!)
          if (valueEnd > propertiesEnd) break
          const key = decodeUtf8(buf, pos + 2, keyEnd) ?? this.failAs(version, MALFORMED, 'user property name is not well-formed UTF-8')
          const value = decodeUtf8(buf, keyEnd + 2, valueEnd) ?? this.failAs(version, MALFORMED, 'user property value is not well-formed UTF-8')
          pos = valueEnd
          let userProperties = properties.userProperties as UserProperties | undefined
          if (userProperties === undefined) {
            // No prototype, as mqtt-packet: names such as "__proto__" or "constructor" are plain keys.
            userProperties = Object.create(null) as UserProperties
            properties.userProperties = userProperties
          }
          const existing = userProperties[key]
          if (existing === undefined) userProperties[key] = value
          else if (typeof existing === 'string') userProperties[key] = [existing, value]
          else existing.push(value)
          continue
        }
      }
      this.failAs(version, MALFORMED, `property ${name} runs past the property list`)
    }
    this.properties = properties as Properties
    return propertiesEnd
  }
}
