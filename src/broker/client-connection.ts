import '../quiet-debug.js'
import type { Duplex } from 'node:stream'
import mqttPacket, { type Packet } from 'mqtt-packet'
import type { ClientPermissions, ConnectionInfo } from './broker-types.js'
import { RC } from './reason-codes.js'
import type { Outbound, Session } from './session.js'

/** Bytes waiting in a socket beyond which the broker stops writing to it and queues instead. */
const CONGESTED_BYTES = 512 * 1024
/**
 * Bytes waiting in a socket beyond which the broker stops reading from it: a client that sends
 * and never reads its acknowledgements would otherwise grow them without bound.
 */
const STOP_READING_BYTES = 4 * 1024 * 1024
/** Writes gathered in one tick are joined into one buffer up to this size (one syscall). */
const JOIN_BYTES = 64 * 1024

export type ProtocolVersion = 3 | 4 | 5

/** What a connection asks of its broker. */
export interface ConnectionOwner {
  received(conn: ClientConnection, packet: Packet): void
  closed(conn: ClientConnection): void
  drained(conn: ClientConnection): void
}

/**
 * One client's network connection: frames and decodes what it sends (refusing a packet larger
 * than the limit before buffering it), encodes what the broker sends (PUBLISH by hand on the hot
 * path), gathers one tick's writes into one socket write, and keeps the per-connection state of
 * MQTT 5 (the client's limits, topic aliases in both directions).
 */
export class ClientConnection {
  state: 'new' | 'auth' | 'open' | 'closed' = 'new'
  version: ProtocolVersion = 4
  clientid = ''
  username: string | undefined = undefined
  session: Session<ClientConnection> | undefined
  permissions: ClientPermissions | undefined
  /** Seconds; 0 = no keep alive. */
  keepalive = 0
  lastSeen = Date.now()
  readonly connectedAt = Date.now()
  cleanStart = true
  /** Why the connection ended, in EMQX's words (`normal`, `keepalive_timeout`, `takenover`...). */
  closeReason = 'sock_closed'
  /** MQTT 5 properties of its CONNECT and of its DISCONNECT, as events report them. */
  connectProperties: Readonly<Record<string, unknown>> | undefined
  disconnectProperties: Readonly<Record<string, unknown>> | undefined
  /** DISCONNECT 0x00 was received: the will is not published. */
  graceful = false
  /** The client's own limits (MQTT 5 CONNECT properties). */
  clientReceiveMaximum = 65535
  clientMaxPacketSize = Number.POSITIVE_INFINITY
  clientTopicAliasMax = 0
  readonly inboundAliases = new Map<number, string>()
  private readonly outboundAliases = new Map<string, number>()
  /** Packets received while the CONNECT is being authenticated, handled once it is. */
  held: Packet[] = []
  /** Token bucket of the per-client message rate. */
  tokens = 0
  tokensAt = 0

  private readonly parser = mqttPacket.parser({})
  private out: Buffer[] = []
  private outBytes = 0
  private flushing = false
  // Framing: where the current packet's header or body stands in the byte stream.
  private headerBytes = 0
  private bodyLength = 0
  private multiplier = 1
  private bodyLeft = 0
  private framedFirst = false
  private readingStopped = false

  constructor(readonly stream: Duplex, readonly info: ConnectionInfo, private readonly owner: ConnectionOwner, private maxPacketSize: number) {
    this.parser.on('packet', (packet: Packet) => {
      if (this.state !== 'closed') owner.received(this, packet)
    })
    this.parser.on('error', (err: Error) => this.protocolFailure(/unsupported|protocol version/i.test(err.message) ? RC.UNSUPPORTED_PROTOCOL_VERSION : RC.MALFORMED_PACKET, err.message))
    stream.on('data', (chunk: Buffer) => this.onData(chunk))
    stream.on('drain', () => {
      if (this.readingStopped) {
        this.readingStopped = false
        stream.resume()
      }
      owner.drained(this)
    })
    stream.on('error', () => {})
    stream.on('close', () => {
      if (this.state === 'closed') return
      this.state = 'closed'
      owner.closed(this)
    })
  }

  setMaxPacketSize(n: number): void {
    this.maxPacketSize = n
  }

  /** Bytes waiting to go out are past the bound: messages wait in the session queue instead. */
  get congested(): boolean {
    return this.outBytes + this.stream.writableLength > CONGESTED_BYTES
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return
    this.lastSeen = Date.now()
    const problem = this.frame(chunk)
    if (problem !== 0) {
      this.protocolFailure(problem, problem === RC.PACKET_TOO_LARGE ? 'packet too large' : 'malformed remaining length')
      return
    }
    this.parser.parse(chunk)
  }

  /**
   * Walks the fixed headers in `chunk` (skipping bodies) so a packet declaring more than the
   * maximum size is refused before any of it is buffered; returns a reason code or 0.
   */
  private frame(chunk: Buffer): number {
    let i = 0
    const n = chunk.length
    while (i < n) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, n - i)
        this.bodyLeft -= take
        i += take
        continue
      }
      const byte = chunk[i++]!
      if (this.headerBytes === 0) {
        if (!this.framedFirst && byte >> 4 !== 1) return RC.PROTOCOL_ERROR // the first packet must be CONNECT
        this.framedFirst = true
        this.headerBytes = 1
        this.bodyLength = 0
        this.multiplier = 1
        continue
      }
      this.bodyLength += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      this.headerBytes++
      if (byte & 0x80) {
        if (this.headerBytes > 4) return RC.MALFORMED_PACKET
        continue
      }
      if (this.headerBytes + this.bodyLength > this.maxPacketSize) return RC.PACKET_TOO_LARGE
      this.bodyLeft = this.bodyLength
      this.headerBytes = 0
    }
    return 0
  }

  /** Ends the connection for a protocol violation: MQTT 5 clients are told why. */
  protocolFailure(reasonCode: number, reason: string): void {
    if (this.state === 'closed') return
    this.closeReason = reasonCode === RC.PACKET_TOO_LARGE ? 'frame_too_large' : reasonCode === RC.MALFORMED_PACKET ? 'malformed_packet' : 'protocol_error'
    void reason
    if (this.state === 'open' && this.version === 5) this.disconnect(reasonCode)
    else this.destroy()
  }

  /** Sends DISCONNECT (MQTT 5 only) and closes. */
  disconnect(reasonCode: number): void {
    if (this.state === 'closed') return
    if (this.version === 5 && this.state === 'open') this.send({ cmd: 'disconnect', reasonCode } as Packet)
    this.end()
  }

  /** Flushes what is pending, then closes. */
  end(): void {
    if (this.state === 'closed') return
    this.flush()
    const stream = this.stream
    this.state = 'closed'
    this.owner.closed(this)
    stream.end()
    // A peer that never reads would keep a half-closed socket forever.
    setTimeout(() => stream.destroy(), 2000).unref()
  }

  destroy(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.owner.closed(this)
    this.stream.destroy()
  }

  /** Writes a control packet (CONNACK, SUBACK, PUBACK...). */
  send(packet: Packet): void {
    this.push(mqttPacket.generate(packet, { protocolVersion: this.version }))
  }

  /**
   * Writes one message; returns false when it is larger than the client accepts (MQTT 5
   * Maximum Packet Size), in which case nothing was written and the caller acts as if it had been.
   */
  writePublish(out: Outbound, messageId: number, dup: boolean, now: number): boolean {
    const m = out.message
    const v5 = this.version === 5
    let properties: Record<string, unknown> | undefined
    if (v5 && (m.properties || out.ids || m.expiresAt !== undefined || this.clientTopicAliasMax > 0)) {
      properties = m.properties ? { ...m.properties } : {}
      if (m.expiresAt !== undefined) properties.messageExpiryInterval = Math.max(0, Math.ceil((m.expiresAt - now) / 1000))
      if (out.ids) properties.subscriptionIdentifier = out.ids.length === 1 ? out.ids[0] : [...out.ids]
    }
    let topic = m.topic
    if (properties && this.clientTopicAliasMax > 0) {
      const alias = this.outboundAliases.get(topic)
      if (alias !== undefined) {
        properties.topicAlias = alias
        topic = ''
      } else if (this.outboundAliases.size < this.clientTopicAliasMax) {
        const next = this.outboundAliases.size + 1
        this.outboundAliases.set(topic, next)
        properties.topicAlias = next
      }
    }
    let bytes: Buffer
    if (properties && Object.keys(properties).length > 0) {
      bytes = mqttPacket.generate({ cmd: 'publish', topic, payload: m.payload, qos: out.qos, retain: out.retain, dup, messageId, properties } as Packet, { protocolVersion: 5 })
    } else {
      bytes = encodePublish(topic, m.payload, out.qos, out.retain, dup, messageId, v5)
    }
    if (bytes.length > this.clientMaxPacketSize) {
      if (properties?.topicAlias !== undefined && topic !== '') this.outboundAliases.delete(m.topic)
      return false
    }
    this.push(bytes)
    return true
  }

  private push(bytes: Buffer): void {
    if (this.state === 'closed') return
    this.out.push(bytes)
    this.outBytes += bytes.length
    if (!this.flushing) {
      this.flushing = true
      process.nextTick(() => this.flush())
    }
  }

  /** One socket write for everything gathered this tick. */
  flush(): void {
    this.flushing = false
    const out = this.out
    if (out.length === 0 || this.stream.destroyed) return
    const bytes = this.outBytes
    this.out = []
    this.outBytes = 0
    if (this.stream.writableLength > STOP_READING_BYTES && !this.readingStopped) {
      this.readingStopped = true
      this.stream.pause()
    }
    if (out.length === 1) {
      this.stream.write(out[0])
    } else if (bytes <= JOIN_BYTES) {
      this.stream.write(Buffer.concat(out, bytes))
    } else {
      this.stream.cork()
      for (const b of out) this.stream.write(b)
      this.stream.uncork()
    }
  }
}

/** A PUBLISH without properties, encoded in one buffer (the common case, by hand for speed). */
export function encodePublish(topic: string, payload: Buffer, qos: number, retain: boolean, dup: boolean, messageId: number, v5: boolean): Buffer {
  const topicLength = Buffer.byteLength(topic)
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4
  const buf = Buffer.allocUnsafe(1 + lengthBytes + remaining)
  buf[0] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0)
  let pos = 1
  let rest = remaining
  do {
    let byte = rest % 128
    rest = Math.floor(rest / 128)
    if (rest > 0) byte |= 0x80
    buf[pos++] = byte
  } while (rest > 0)
  buf[pos++] = topicLength >> 8
  buf[pos++] = topicLength & 0xff
  pos += buf.write(topic, pos, 'utf8')
  if (qos > 0) {
    buf[pos++] = messageId >> 8
    buf[pos++] = messageId & 0xff
  }
  if (v5) buf[pos++] = 0
  payload.copy(buf, pos)
  return buf
}
