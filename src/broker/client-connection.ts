import type { Duplex } from 'node:stream'
import { PacketDecoder, PUBLISH_COPY_LIMIT, encodePacket, encodePublish, encodePublishHeader, type ClientPacket, type ProtocolVersion, type ServerPacket } from './codec/index.js'
import type { ClientPermissions, ConnectionInfo } from './broker-types.js'
import { RC, reasonName } from './reason-codes.js'
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

/** What a connection asks of its broker. */
export interface ConnectionOwner {
  received(conn: ClientConnection, packet: ClientPacket): void
  closed(conn: ClientConnection): void
  drained(conn: ClientConnection): void
}

/**
 * One client's network connection: decodes what it sends with the strict codec (refusing a packet
 * larger than the limit before buffering it), encodes what the broker sends, gathers one tick's
 * writes into one socket write, and keeps the per-connection state of MQTT 5 (the client's
 * limits, topic aliases in both directions).
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
  /** Packets received while the CONNECT is being authenticated or the client is over its rate, handled in order after. */
  held: ClientPacket[] = []
  /** Token bucket of the per-client message rate; while throttled, packets wait in `held`. */
  tokens = 0
  tokensAt = 0
  throttled = false
  /** Packet ids of QoS 1/2 publishes whose acknowledgement waits for the rules' actions (acknowledge: on-delivery). */
  heldAcks: Set<number> | undefined
  /** Reading is paused because more acknowledgements wait than our Receive Maximum allows. */
  ackPaused = false

  private readonly decoder: PacketDecoder
  private out: Buffer[] = []
  private outBytes = 0
  private flushing = false
  private readingStopped = false

  constructor(readonly stream: Duplex, readonly info: ConnectionInfo, private readonly owner: ConnectionOwner, maxPacketSize: number) {
    // The decoder refuses a packet larger than the limit from its fixed header, before buffering it.
    this.decoder = new PacketDecoder({
      maxPacketSize,
      onPacket: (packet) => {
        if (this.state !== 'closed') owner.received(this, packet)
      },
    })
    stream.on('data', (chunk: Buffer) => this.onData(chunk))
    stream.on('drain', () => {
      if (this.readingStopped) {
        this.readingStopped = false
        if (!this.ackPaused) stream.resume()
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
    this.decoder.maxPacketSize = n
  }

  /** Reading is paused because the socket holds too much output (resumed on drain). */
  get stoppedForOutput(): boolean {
    return this.readingStopped
  }

  /** Bytes waiting to go out are past the bound: messages wait in the session queue instead. */
  get congested(): boolean {
    return this.outBytes + this.stream.writableLength > CONGESTED_BYTES
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return
    this.lastSeen = Date.now()
    let error
    try {
      error = this.decoder.push(chunk)
    } catch {
      // A fault in handling one client's packet ends that client's connection, never Junction.
      this.protocolFailure(RC.UNSPECIFIED_ERROR, 'internal error')
      return
    }
    if (error) {
      // A CONNECT refused while being decoded (bad version, client ID): MQTT 5 and 3.1.1 clients
      // get a CONNACK saying why where one exists; anything later ends the connection.
      if (this.state === 'new' && error.protocolVersion !== undefined) {
        this.version = error.protocolVersion
        this.refuseConnect(error.reasonCode)
      } else {
        this.protocolFailure(error.reasonCode, error.message)
      }
    }
  }

  /** CONNACK with a failure reason for a CONNECT that could not be decoded, then close. */
  private refuseConnect(reasonCode: number): void {
    try {
      this.push(encodePacket({ cmd: 'connack', reasonCode, sessionPresent: false } as ServerPacket, this.version))
    } catch {
      // No 3.1.1 return code for this reason: the connection just closes.
    }
    this.closeReason = reasonName(reasonCode)
    this.end()
  }

  /** Ends the connection for a protocol violation: MQTT 5 clients are told why. */
  protocolFailure(reasonCode: number, reason: string): void {
    if (this.state === 'closed') return
    this.closeReason = reasonCode === RC.PACKET_TOO_LARGE ? 'frame_too_large' : reasonCode === RC.MALFORMED_PACKET ? 'malformed_packet' : 'protocol_error'
    if (this.state === 'open' && this.version === 5) this.disconnect(reasonCode, reason)
    else this.destroy()
  }

  /** Sends DISCONNECT (MQTT 5 only; `reason` as its Reason String, for the client's log) and closes. */
  disconnect(reasonCode: number, reason?: string): void {
    if (this.state === 'closed') return
    if (this.version === 5 && this.state === 'open') this.send({ cmd: 'disconnect', reasonCode, ...(reason ? { properties: { reasonString: reason } } : {}) } as ServerPacket)
    this.end()
  }

  /** Flushes what is pending, then closes. */
  end(): void {
    if (this.state === 'closed') return
    this.decoder.stop()
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
    this.decoder.stop()
    this.state = 'closed'
    this.owner.closed(this)
    this.stream.destroy()
  }

  /** Writes a control packet (CONNACK, SUBACK, PUBACK...). */
  send(packet: ServerPacket): void {
    // The client's Maximum Packet Size: the encoder drops the optional reason string and user properties to fit.
    this.push(encodePacket(packet, this.version, Number.isFinite(this.clientMaxPacketSize) ? this.clientMaxPacketSize : undefined))
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
    const packet = { cmd: 'publish', topic, payload: m.payload, qos: out.qos, retain: out.retain, dup, messageId, properties } as const
    if (m.payload.length < PUBLISH_COPY_LIMIT) {
      const bytes = encodePublish(packet as Parameters<typeof encodePublish>[0], this.version)
      if (bytes.length > this.clientMaxPacketSize) return this.tooLarge(properties, topic, m.topic)
      this.push(bytes)
      return true
    }
    // Large payloads go out as they are, after their header: no copy.
    const header = encodePublishHeader(packet as Parameters<typeof encodePublishHeader>[0], this.version)
    if (header.length + m.payload.length > this.clientMaxPacketSize) return this.tooLarge(properties, topic, m.topic)
    this.push(header)
    this.push(m.payload)
    return true
  }

  /** A message over the client's Maximum Packet Size is not sent (MQTT 3.1.2.11.4); an alias it introduced is taken back. */
  private tooLarge(properties: Record<string, unknown> | undefined, sentTopic: string, topic: string): false {
    if (properties?.topicAlias !== undefined && sentTopic !== '') this.outboundAliases.delete(topic)
    return false
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
