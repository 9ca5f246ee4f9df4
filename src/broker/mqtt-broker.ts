import { randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { ClientPacket, ConnectPacket, PublishPacket, ServerPacket, SubscribePacket, UnsubscribePacket } from './codec/index.js'
import type { AcknowledgementOutcome, BrokerLimits, BrokerSink, ClientEvent, ClientPermissions, ConnectionHandler, ConnectionInfo, DeliveryDropReason, DeviceAccess, MessageProperties, OutgoingMessage, PendingAcknowledgement, PublishedMessage, Who } from './broker-types.js'
import { ClientConnection, type ConnectionOwner } from './client-connection.js'
import { RC, reasonName, v3ConnackCode } from './reason-codes.js'
import { Session, type BrokerMessage, type Outbound } from './session.js'
import { isValidTopicFilter, isValidTopicName } from './codec/topic-rules.js'
import { SubscriptionIndex, parseShare, type Subscription } from './subscription-index.js'
import { topicMatches } from './topic-filter.js'

type ClientSession = Session<ClientConnection>

export interface MqttBrokerOptions {
  readonly limits: BrokerLimits
  /** Device authentication and authorization; without it every username is accepted. */
  readonly access?: DeviceAccess
  /** Where client messages and events go (the rule engine). */
  readonly sink?: BrokerSink
}

/**
 * Our Receive Maximum: QoS 2 messages a client may have awaiting PUBREL, and QoS 1/2 messages
 * whose acknowledgement waits for the rules' actions (acknowledge: on-delivery). QoS 1 is
 * otherwise acknowledged at once.
 */
const RECEIVE_MAXIMUM = 1024
/** Topic aliases a client may set toward the broker. */
const TOPIC_ALIAS_MAXIMUM = 1024
/** A connection that has not sent CONNECT by then is closed (EMQX: idle_timeout 15 s). */
const CONNECT_TIMEOUT_MS = 15_000
const ALLOW_ALL: ClientPermissions = { canPublish: () => true, canSubscribe: () => true }

/** Counters of what the broker did, for metrics. */
export interface BrokerCounters {
  received: number
  sent: number
  /** Messages lost for one subscriber, by EMQX's reason. */
  dropped: Record<DeliveryDropReason | 'too_large', number>
  /** Client messages that matched no subscription. */
  noSubscribers: number
  connackRefused: number
}

export interface BrokerStats {
  /** Clients connected now. */
  readonly connections: number
  /** Sessions kept (connected, or persistent and waiting for their client). */
  readonly sessions: number
  readonly subscriptions: number
  readonly retained: number
  /** Messages waiting in sessions' queues, and written but not yet acknowledged. */
  readonly queued: number
  readonly inflight: number
  /** Messages received from clients, and written to subscribers. */
  readonly received: number
  readonly sent: number
  readonly noSubscribers: number
  /** CONNECTs answered with a failure reason. */
  readonly connackRefused: number
  /** Messages lost for one subscriber, by reason (`too_large`: over its Maximum Packet Size). */
  readonly dropped: Readonly<Record<DeliveryDropReason | 'too_large', number>>
}

interface Will {
  readonly message: BrokerMessage
  /** Seconds (MQTT 5 Will Delay Interval). */
  readonly delay: number
}

/**
 * A deployment's MQTT broker: MQTT 5.0, 3.1.1 and 3.1 on any listener's byte streams. Sessions
 * (clean or persistent, with expiry), QoS 0/1/2 both ways, retained messages, wills with delay,
 * shared subscriptions, subscription options and identifiers, topic aliases, flow control, and
 * the deployment's limits and device access. Each subscriber has its own bounded queue, so a slow
 * one loses its own messages (counted, with EMQX's reasons) and never slows a publisher.
 */
export class MqttBroker implements ConnectionHandler, ConnectionOwner {
  private limits: BrokerLimits
  private readonly access: DeviceAccess | undefined
  private readonly sink: BrokerSink | undefined
  private readonly sessions = new Map<string, ClientSession>()
  private readonly connections = new Set<ClientConnection>()
  private readonly subscriptions = new SubscriptionIndex<ClientSession>()
  private readonly retained = new Map<string, BrokerMessage>()
  private readonly wills = new WeakMap<ClientConnection, Will>()
  private readonly takenOver = new WeakMap<ClientConnection, { continues: boolean }>()
  private readonly sweeper: NodeJS.Timeout
  private seq = 0
  /** Connections whose CONNECT was accepted and that are not closed yet. */
  private open = 0
  private connectTokens = 0
  private connectTokensAt = 0
  private closing = false
  readonly counters: BrokerCounters = { received: 0, sent: 0, dropped: { queue_full: 0, expired: 0, no_local: 0, qos0_msg: 0, too_large: 0 }, noSubscribers: 0, connackRefused: 0 }

  constructor(options: MqttBrokerOptions) {
    this.limits = options.limits
    this.access = options.access
    this.sink = options.sink
    this.sweeper = setInterval(() => this.sweep(), 1000)
    this.sweeper.unref()
  }

  /** Applies new limits: to new connections and packets at once, to existing sessions as they go. */
  setLimits(limits: BrokerLimits): void {
    this.limits = limits
    for (const c of this.connections) c.setMaxPacketSize(limits.maxPacketSize)
  }

  get connectedClients(): number {
    return this.open
  }

  /** What the broker holds and has done since it started, for metrics and the API. */
  stats(): BrokerStats {
    let queued = 0
    let inflight = 0
    for (const s of this.sessions.values()) {
      queued += s.queue.length
      inflight += s.inflight.size
    }
    const c = this.counters
    return {
      connections: this.connectedClients, sessions: this.sessions.size, subscriptions: this.subscriptions.size, retained: this.retained.size,
      queued, inflight, received: c.received, sent: c.sent, noSubscribers: c.noSubscribers, connackRefused: c.connackRefused, dropped: { ...c.dropped },
    }
  }

  handle(stream: Duplex, info: ConnectionInfo): void {
    if (this.closing) {
      stream.destroy()
      return
    }
    this.connections.add(new ClientConnection(stream, info, this, this.limits.maxPacketSize))
  }

  /** Publishes into this broker (the `republish` action): no events, so a rule cannot feed itself. */
  publish(message: OutgoingMessage): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the broker is not running'))
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload
    const properties = message.properties
    const now = Date.now()
    const m: BrokerMessage = {
      topic: message.topic, payload, qos: message.qos, retain: message.retain, properties, from: undefined, receivedAt: now,
      expiresAt: properties?.messageExpiryInterval !== undefined ? now + properties.messageExpiryInterval * 1000 : undefined,
    }
    if (m.retain) this.retain(m)
    this.route(m, undefined)
    return Promise.resolve()
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearInterval(this.sweeper)
    for (const c of [...this.connections]) {
      c.closeReason = 'shutdown'
      c.disconnect(RC.SERVER_SHUTTING_DOWN)
      c.stream.destroy()
    }
    for (const s of this.sessions.values()) {
      clearTimeout(s.expiryTimer)
      clearTimeout(s.willTimer)
    }
    this.sessions.clear()
  }

  // ---- ConnectionOwner ----------------------------------------------------------------------

  received(conn: ClientConnection, packet: ClientPacket): void {
    if (packet.cmd === 'connect') {
      if (conn.state !== 'new') conn.protocolFailure(RC.PROTOCOL_ERROR, 'second CONNECT')
      else this.onConnect(conn, packet).catch(() => conn.destroy())
      return
    }
    // Packets behind a CONNECT being authenticated, or behind a client's rate limit, wait their turn.
    if (conn.state === 'auth' || conn.throttled) {
      conn.held.push(packet)
      return
    }
    if (conn.state !== 'open') return
    switch (packet.cmd) {
      case 'publish': return this.onPublish(conn, packet)
      case 'puback': return this.onPuback(conn, packet.messageId!, packet.properties as Readonly<Record<string, unknown>> | undefined)
      case 'pubrec': return this.onPubrec(conn, packet.messageId!, (packet as { reasonCode?: number }).reasonCode ?? 0)
      case 'pubrel': return this.onPubrel(conn, packet.messageId!)
      case 'pubcomp': return this.onPubcomp(conn, packet.messageId!)
      case 'subscribe': return this.onSubscribe(conn, packet)
      case 'unsubscribe': return this.onUnsubscribe(conn, packet)
      case 'pingreq':
        conn.send({ cmd: 'pingresp' })
        if (this.wants('client_ping')) this.event({ kind: 'client_ping', ...this.sessionInfo(conn) })
        return
      case 'disconnect': return this.onDisconnect(conn, packet as { reasonCode?: number; properties?: { sessionExpiryInterval?: number } })
      default:
        // AUTH (no enhanced authentication methods are offered) and server-to-client packets.
        conn.protocolFailure(RC.PROTOCOL_ERROR, `unexpected ${packet.cmd}`)
    }
  }

  closed(conn: ClientConnection): void {
    this.connections.delete(conn)
    const session = conn.session
    if (!session) return
    this.open--
    const takeover = this.takenOver.get(conn)
    const will = this.wills.get(conn)
    if (will && !conn.graceful) {
      if (takeover) {
        // The session moved to a new connection: a delayed will is cancelled by that reconnect.
        if (!(takeover.continues && will.delay > 0)) this.publishWill(conn, will)
      } else if (will.delay > 0 && session.expiryInterval > 0) {
        session.willTimer = setTimeout(() => this.publishWill(conn, will), Math.min(will.delay, session.expiryInterval) * 1000)
        session.willTimer.unref()
      } else {
        this.publishWill(conn, will)
      }
    }
    if (this.wants('client_disconnected')) this.event({ kind: 'client_disconnected', ...this.sessionInfo(conn), reason: conn.closeReason, disconnectProperties: conn.disconnectProperties })
    if (session.connection !== conn) return
    session.connection = undefined
    // An offline session keeps only QoS 1/2 messages (QoS 0 is for those listening now).
    for (const out of session.queue.dropQos0()) this.dropped(session, out, 'qos0_msg')
    if (session.expiryInterval === 0 || this.closing) {
      this.endSession(session)
    } else {
      session.expiryTimer = setTimeout(() => this.endSession(session), session.expiryInterval * 1000)
      session.expiryTimer.unref()
    }
  }

  drained(conn: ClientConnection): void {
    if (conn.session && conn.state === 'open') this.pump(conn.session)
  }

  // ---- CONNECT ------------------------------------------------------------------------------

  private async onConnect(conn: ClientConnection, p: ConnectPacket): Promise<void> {
    const version = p.protocolVersion === 5 ? 5 : p.protocolVersion === 3 ? 3 : 4
    conn.version = version
    conn.state = 'auth'
    const props = p.properties ?? {}
    let clientid = p.clientId ?? ''
    conn.username = p.username
    conn.cleanStart = p.clean !== false
    if (p.properties) {
      // Authentication data may be a credential: events never carry it.
      const { authenticationData: _secret, ...shown } = p.properties
      conn.connectProperties = shown
    }
    // The codec has refused malformed strings (bad UTF-8, U+0000) and wildcard will topics already.
    let assigned = false
    if (clientid === '') {
      // MQTT 3.1.1 allows an empty client ID only with a clean session (3.1.3-8); 3.1 never.
      if (version !== 5 && (!conn.cleanStart || version === 3)) return this.refuse(conn, RC.CLIENT_IDENTIFIER_NOT_VALID)
      clientid = `junction-${randomBytes(8).toString('hex')}`
      assigned = true
    }
    conn.clientid = clientid
    const { maxConnections, maxConnectionRate } = this.limits
    if (maxConnections !== null && this.connectedClients >= maxConnections) return this.refuse(conn, RC.QUOTA_EXCEEDED)
    if (maxConnectionRate !== null && !this.takeConnectToken(maxConnectionRate)) return this.refuse(conn, RC.CONNECTION_RATE_EXCEEDED)

    let superuser = false
    let reason: number = RC.SUCCESS
    let anonymous = p.username === undefined || !this.access
    if (anonymous) {
      // No credentials, or nothing to check them against: EMQX's allow_anonymous decides.
      if (!this.limits.allowAnonymous) reason = RC.NOT_AUTHORIZED
    } else if (this.access) {
      try {
        const result = await this.access.authenticate({ clientid, username: p.username, password: p.password, peerhost: conn.info.peerhost })
        if (result.ok) {
          superuser = result.superuser
          anonymous = result.anonymous
        } else {
          reason = result.reason === 'not_authorized' ? RC.NOT_AUTHORIZED : result.reason === 'banned' ? RC.BANNED : RC.BAD_USERNAME_OR_PASSWORD
        }
      } catch {
        reason = RC.SERVER_UNAVAILABLE
      }
    }
    if (this.wants('client_check_authn_complete')) this.event({ kind: 'client_check_authn_complete', ...this.who(conn), anonymous, superuser, reasonCode: reasonName(reason) })
    if (conn.state !== 'auth') return // gone while we checked
    if (reason !== RC.SUCCESS) return this.refuse(conn, reason)
    if (this.closing) return this.refuse(conn, RC.SERVER_UNAVAILABLE)

    // The client's own limits.
    if (version === 5) {
      conn.clientReceiveMaximum = props.receiveMaximum ?? 65535
      conn.clientMaxPacketSize = props.maximumPacketSize ?? Number.POSITIVE_INFINITY
      conn.clientTopicAliasMax = props.topicAliasMaximum ?? 0
    }
    const connackProps: Record<string, unknown> = {}
    conn.keepalive = p.keepalive ?? 0
    const ska = this.limits.serverKeepAlive
    if (version === 5 && ska !== null && (conn.keepalive === 0 || conn.keepalive > ska)) {
      conn.keepalive = ska
      connackProps.serverKeepAlive = ska
    }
    const askedExpiry = version === 5 ? props.sessionExpiryInterval ?? 0 : conn.cleanStart ? 0 : this.limits.maxSessionExpiry
    const expiry = Math.min(askedExpiry, this.limits.maxSessionExpiry)
    if (version === 5 && expiry !== askedExpiry) connackProps.sessionExpiryInterval = expiry

    // Session: take over a live connection with the same client ID, resume or start anew.
    let session = this.sessions.get(clientid)
    const old = session?.connection
    if (old) {
      session!.connection = undefined // detached first: closing it must not end the session
      this.takenOver.set(old, { continues: !conn.cleanStart })
      old.closeReason = 'takenover'
      old.disconnect(RC.SESSION_TAKEN_OVER)
    }
    if (session && conn.cleanStart) {
      this.endSession(session)
      session = undefined
    }
    const sessionPresent = session !== undefined
    if (session) {
      clearTimeout(session.expiryTimer)
      if (session.willTimer) {
        clearTimeout(session.willTimer) // the client is back within its will delay
        session.willTimer = undefined
      }
    } else {
      session = new Session<ClientConnection>(clientid)
      this.sessions.set(clientid, session)
    }
    session.connection = conn
    session.username = conn.username
    session.expiryInterval = expiry
    conn.session = session
    conn.permissions = this.access ? this.access.permissions({ clientid, username: conn.username, superuser }) : ALLOW_ALL
    if (p.will) {
      const wp = (p.will.properties ?? {}) as MessageProperties & { willDelayInterval?: number }
      const { willDelayInterval, ...forwarded } = wp
      const now = Date.now()
      const properties = Object.keys(forwarded).length > 0 ? forwarded : undefined
      this.wills.set(conn, {
        delay: version === 5 ? willDelayInterval ?? 0 : 0,
        message: {
          topic: p.will.topic, payload: toBuffer(p.will.payload), qos: (p.will.qos ?? 0) as 0 | 1 | 2, retain: p.will.retain === true, properties,
          expiresAt: undefined, from: { clientid, username: conn.username }, receivedAt: now,
        },
      })
    }

    if (version === 5) {
      Object.assign(connackProps, {
        receiveMaximum: RECEIVE_MAXIMUM, maximumPacketSize: this.limits.maxPacketSize, topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
        retainAvailable: true, wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: true,
      })
      if (assigned) connackProps.assignedClientIdentifier = clientid
    }
    conn.state = 'open'
    this.open++
    conn.send(version === 5
      ? { cmd: 'connack', reasonCode: 0, sessionPresent, properties: connackProps } as ServerPacket
      : { cmd: 'connack', returnCode: 0, sessionPresent } as ServerPacket)
    if (this.wants('client_connack')) this.event({ kind: 'client_connack', ...this.sessionInfo(conn), reasonCode: 'success' })
    if (this.wants('client_connected')) this.event({ kind: 'client_connected', ...this.sessionInfo(conn) })

    // Resend what was in flight (MQTT 4.4), then what waited.
    for (const [id, entry] of session.inflight) {
      if (entry.released) conn.send({ cmd: 'pubrel', messageId: id } as ServerPacket)
      else conn.writePublish(entry.out, id, true, Date.now())
    }
    this.pump(session)
    this.release(conn)
  }

  /** Handles the packets a connection held, until it is held again (its rate limit). */
  private release(conn: ClientConnection): void {
    const held = conn.held
    conn.held = []
    for (let i = 0; i < held.length; i++) {
      if (conn.throttled) {
        conn.held = held.slice(i).concat(conn.held)
        return
      }
      this.received(conn, held[i]!)
    }
  }

  /** Answers CONNACK with a failure reason (the 3.1.1 code closest to it) and closes. */
  private refuse(conn: ClientConnection, reason: number): void {
    this.counters.connackRefused++
    if (conn.state === 'closed') return
    conn.send(conn.version === 5 ? { cmd: 'connack', reasonCode: reason, sessionPresent: false } as ServerPacket : { cmd: 'connack', returnCode: v3ConnackCode(reason), sessionPresent: false } as ServerPacket)
    if (this.wants('client_connack')) this.event({ kind: 'client_connack', ...this.sessionInfo(conn), reasonCode: reasonName(reason) })
    conn.closeReason = reasonName(reason)
    conn.end()
  }

  private takeConnectToken(rate: number): boolean {
    const now = Date.now()
    this.connectTokens = Math.min(rate, this.connectTokens + ((now - this.connectTokensAt) / 1000) * rate)
    this.connectTokensAt = now
    if (this.connectTokens < 1) return false
    this.connectTokens -= 1
    return true
  }

  // ---- PUBLISH from a client ----------------------------------------------------------------

  private onPublish(conn: ClientConnection, p: PublishPacket): void {
    const session = conn.session!
    const qos = p.qos
    const id = p.messageId ?? 0
    let topic = p.topic
    const props = p.properties
    if (conn.version === 5 && props?.topicAlias !== undefined) {
      const alias = props.topicAlias
      if (alias === 0 || alias > TOPIC_ALIAS_MAXIMUM) return conn.disconnect(RC.TOPIC_ALIAS_INVALID)
      if (topic) conn.inboundAliases.set(alias, topic)
      else topic = conn.inboundAliases.get(alias) ?? ''
      if (!topic) return conn.protocolFailure(RC.PROTOCOL_ERROR, 'unknown topic alias')
    }
    if (!isValidTopicName(topic)) return conn.protocolFailure(conn.version === 5 ? RC.TOPIC_NAME_INVALID : RC.PROTOCOL_ERROR, 'invalid topic name')
    if (qos === 2 && session.awaitingRelease.has(id)) {
      conn.send({ cmd: 'pubrec', messageId: id } as ServerPacket) // a resend: routed already
      return
    }
    // A resend of a message whose acknowledgement is held: routed already, answered when it settles.
    if (qos > 0 && conn.heldAcks?.has(id)) return
    this.counters.received++
    const reserved = topic.startsWith('$SYS/')
    const allowed = !reserved && conn.permissions!.canPublish(topic)
    if (this.wants('client_check_authz_complete')) this.event({ kind: 'client_check_authz_complete', ...this.who(conn), action: 'publish', topic, result: allowed ? 'allow' : 'deny', source: reserved ? 'default' : this.authzSource })
    if (!allowed) {
      // MQTT 5 says why; 3.1.1 has no way to, so the message is acknowledged and dropped (EMQX does the same).
      if (qos === 1) conn.send({ cmd: 'puback', messageId: id, reasonCode: RC.NOT_AUTHORIZED } as ServerPacket)
      else if (qos === 2) {
        if (conn.version !== 5) session.awaitingRelease.add(id)
        conn.send({ cmd: 'pubrec', messageId: id, reasonCode: RC.NOT_AUTHORIZED } as ServerPacket)
      }
      return
    }
    if (this.limits.maxMessageRate !== null) this.throttle(conn, this.limits.maxMessageRate)
    const now = Date.now()
    let forwarded: MessageProperties | undefined
    if (props) {
      const { topicAlias: _a, subscriptionIdentifier: _s, ...rest } = props as MessageProperties & { topicAlias?: number; subscriptionIdentifier?: unknown }
      if (Object.keys(rest).length > 0) forwarded = rest
    }
    const payload = toBuffer(p.payload)
    const message: BrokerMessage = {
      topic, payload, qos, retain: p.retain, properties: forwarded, from: { clientid: conn.clientid, username: conn.username }, receivedAt: now,
      expiresAt: forwarded?.messageExpiryInterval !== undefined ? now + forwarded.messageExpiryInterval * 1000 : undefined,
    }
    if (p.retain) this.retain(message)
    const pending = this.toSink(conn, message, p.dup)
    const routed = this.route(message, session)
    if (routed === 0) {
      this.counters.noSubscribers++
      if (this.wants('message_dropped')) {
        this.event({ kind: 'message_dropped', ...this.who(conn), reason: 'no_subscribers', topic, qos, payload, retain: p.retain, dup: p.dup, receivedAt: now, properties: forwarded })
      }
    }
    const reasonCode = routed === 0 && conn.version === 5 ? RC.NO_MATCHING_SUBSCRIBERS : RC.SUCCESS
    if (pending && qos > 0) return this.acknowledgeWhenSettled(conn, qos as 1 | 2, id, reasonCode, pending)
    if (qos === 1) {
      conn.send({ cmd: 'puback', messageId: id, reasonCode } as ServerPacket)
    } else if (qos === 2) {
      session.awaitingRelease.add(id)
      if (session.awaitingRelease.size > RECEIVE_MAXIMUM) return conn.disconnect(RC.RECEIVE_MAXIMUM_EXCEEDED)
      conn.send({ cmd: 'pubrec', messageId: id, reasonCode } as ServerPacket)
    }
  }

  /**
   * End-to-end acknowledgement: the PUBACK/PUBREC waits until the actions that asked for it have
   * committed the message. Other packets keep being read and answered meanwhile, so
   * acknowledgements may leave in another order than their publishes (MQTT allows it). Past our
   * Receive Maximum of waiting acknowledgements the connection is not read until half of them
   * are answered (clients such as mqtt.js do not count their QoS 1 sends against it).
   */
  private acknowledgeWhenSettled(conn: ClientConnection, qos: 1 | 2, id: number, reasonCode: number, pending: PendingAcknowledgement): void {
    const held = (conn.heldAcks ??= new Set())
    held.add(id)
    if (held.size + conn.session!.awaitingRelease.size > RECEIVE_MAXIMUM && !conn.ackPaused) {
      conn.ackPaused = true
      conn.stream.pause()
    }
    pending.whenSettled((outcome) => {
      held.delete(id)
      if (conn.ackPaused && held.size <= RECEIVE_MAXIMUM / 2) {
        conn.ackPaused = false
        if (!conn.throttled && !conn.stoppedForOutput) conn.stream.resume()
      }
      if (conn.state === 'closed') return // the client sends it again on its next connection
      const code = acknowledgementCode(outcome, reasonCode)
      // MQTT 3.1.1 has no way to say "not stored": no acknowledgement, so the client sends it again after reconnecting.
      if (code >= 0x80 && conn.version !== 5) return
      if (qos === 1) {
        conn.send({ cmd: 'puback', messageId: id, reasonCode: code } as ServerPacket)
        return
      }
      const session = conn.session!
      if (code < 0x80) {
        session.awaitingRelease.add(id)
        if (session.awaitingRelease.size > RECEIVE_MAXIMUM) return conn.disconnect(RC.RECEIVE_MAXIMUM_EXCEEDED)
      }
      conn.send({ cmd: 'pubrec', messageId: id, reasonCode: code } as ServerPacket)
    })
  }

  private toSink(conn: ClientConnection, m: BrokerMessage, dup: boolean): PendingAcknowledgement | void {
    if (!this.sink) return
    const published: PublishedMessage = {
      topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup, clientid: conn.clientid, username: conn.username,
      peerhost: conn.info.peerhost, receivedAt: m.receivedAt, properties: m.properties,
    }
    return this.sink.published(published)
  }

  /**
   * Per-client message rate (a token bucket of one second's worth): past it, the connection is
   * neither read nor served (what was already read waits, in order) until it is back under.
   */
  private throttle(conn: ClientConnection, rate: number): void {
    const now = Date.now()
    conn.tokens = conn.tokensAt === 0 ? rate : Math.min(rate, conn.tokens + ((now - conn.tokensAt) / 1000) * rate)
    conn.tokensAt = now
    conn.tokens -= 1
    if (conn.tokens >= 0 || conn.throttled) return
    conn.throttled = true
    conn.stream.pause()
    setTimeout(() => {
      conn.throttled = false
      if (conn.state !== 'open') return
      if (!conn.ackPaused) conn.stream.resume()
      this.release(conn)
    }, Math.ceil((-conn.tokens / rate) * 1000)).unref()
  }

  private retain(m: BrokerMessage): void {
    if (m.payload.length === 0) this.retained.delete(m.topic)
    else this.retained.set(m.topic, m)
  }

  // ---- Routing and delivery -----------------------------------------------------------------

  /** Sends `m` to every matching session (one member per shared group); returns how many. */
  private route(m: BrokerMessage, publisher: ClientSession | undefined): number {
    const route = this.subscriptions.match(m.topic)
    let n = 0
    for (const d of route.deliveries) {
      if (d.nl && d.subscriber === publisher) {
        if (this.wants('delivery_dropped')) this.dropEvent(d.subscriber, m, 'no_local')
        this.counters.dropped.no_local++
        continue
      }
      this.deliver(d.subscriber, m, d.qos < m.qos ? d.qos : m.qos, d.rap && m.retain, d.ids)
      n++
    }
    for (const group of route.groups) {
      const sub = group.pick((s) => s.connection !== undefined && s.connection.state === 'open' && !s.connection.congested)
      if (!sub) continue
      this.deliver(sub.subscriber, m, sub.qos < m.qos ? sub.qos : m.qos, sub.rap && m.retain, sub.id === undefined ? undefined : [sub.id])
      n++
    }
    return n
  }

  private deliver(session: ClientSession, message: BrokerMessage, qos: 0 | 1 | 2, retain: boolean, ids: readonly number[] | undefined): void {
    const out: Outbound = { message, qos, retain, ids, seq: ++this.seq }
    const conn = session.connection
    if (!conn || conn.state !== 'open') {
      if (qos === 0) return this.dropped(session, out, 'qos0_msg')
      return this.enqueue(session, out)
    }
    if (session.queue.length > 0 || conn.congested) return this.enqueue(session, out)
    if (qos === 0) {
      this.write(conn, out, 0)
    } else if (session.inflight.size < this.window(conn)) {
      const id = session.allocateId()
      session.inflight.set(id, { out, released: false })
      if (!this.write(conn, out, id)) session.inflight.delete(id)
    } else {
      this.enqueue(session, out)
    }
  }

  private window(conn: ClientConnection): number {
    return Math.min(this.limits.maxInflight, conn.clientReceiveMaximum)
  }

  private enqueue(session: ClientSession, out: Outbound): void {
    const dropped = session.queue.push(out, this.limits.maxQueuedMessages)
    if (dropped) this.dropped(session, dropped, 'queue_full')
  }

  /** Writes one message to a connection; false when it was not (expired, or too large for the client). */
  private write(conn: ClientConnection, out: Outbound, id: number): boolean {
    const now = Date.now()
    const m = out.message
    if (m.expiresAt !== undefined && m.expiresAt <= now) {
      this.dropped(conn.session!, out, 'expired')
      return false
    }
    if (!conn.writePublish(out, id, false, now)) {
      this.counters.dropped.too_large++
      return false
    }
    this.counters.sent++
    if (m.from && this.wants('message_delivered')) this.event({ kind: 'message_delivered', ...this.who(conn), ...this.carried(out) })
    return true
  }

  /** Writes what waits for a session as far as its inflight window and its socket allow. */
  private pump(session: ClientSession): void {
    const conn = session.connection
    if (!conn || conn.state !== 'open') return
    const window = this.window(conn)
    while (session.queue.length > 0 && !conn.congested) {
      const next = session.queue.peek()!
      if (next.qos > 0 && session.inflight.size >= window) break
      session.queue.shift()
      if (next.qos === 0) {
        this.write(conn, next, 0)
        continue
      }
      const id = session.allocateId()
      session.inflight.set(id, { out: next, released: false })
      if (!this.write(conn, next, id)) session.inflight.delete(id)
    }
  }

  private onPuback(conn: ClientConnection, id: number, properties: Readonly<Record<string, unknown>> | undefined): void {
    const session = conn.session!
    const entry = session.inflight.get(id)
    if (!entry || entry.out.qos !== 1) return
    session.inflight.delete(id)
    this.acked(conn, entry.out, properties)
    this.pump(session)
  }

  private onPubrec(conn: ClientConnection, id: number, reasonCode: number): void {
    const session = conn.session!
    const entry = session.inflight.get(id)
    if (!entry || entry.out.qos !== 2) {
      conn.send({ cmd: 'pubrel', messageId: id, reasonCode: conn.version === 5 ? RC.PACKET_IDENTIFIER_NOT_FOUND : 0 } as ServerPacket)
      return
    }
    if (reasonCode >= 0x80) {
      // The subscriber refused it: the exchange ends here (MQTT 4.3.3).
      session.inflight.delete(id)
      this.pump(session)
      return
    }
    entry.released = true
    conn.send({ cmd: 'pubrel', messageId: id } as ServerPacket)
  }

  private onPubcomp(conn: ClientConnection, id: number): void {
    const session = conn.session!
    const entry = session.inflight.get(id)
    if (!entry || entry.out.qos !== 2) return
    session.inflight.delete(id)
    this.acked(conn, entry.out)
    this.pump(session)
  }

  private onPubrel(conn: ClientConnection, id: number): void {
    const known = conn.session!.awaitingRelease.delete(id)
    conn.send({ cmd: 'pubcomp', messageId: id, reasonCode: known || conn.version !== 5 ? 0 : RC.PACKET_IDENTIFIER_NOT_FOUND } as ServerPacket)
  }

  private acked(conn: ClientConnection, out: Outbound, pubackProperties?: Readonly<Record<string, unknown>>): void {
    if (out.message.from && this.wants('message_acked')) this.event({ kind: 'message_acked', ...this.who(conn), ...this.carried(out), pubackProperties })
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE --------------------------------------------------------------

  private onSubscribe(conn: ClientConnection, p: SubscribePacket): void {
    const session = conn.session!
    const v5 = conn.version === 5
    const subId = v5 ? (p.properties?.subscriptionIdentifier as number | undefined) : undefined
    if (subId === 0) return conn.protocolFailure(RC.PROTOCOL_ERROR, 'subscription identifier 0')
    const granted: number[] = []
    const retainedToSend: Array<{ sub: Subscription<ClientSession> }> = []
    const subscribed: Array<{ topic: string; qos: number }> = []
    for (const s of p.subscriptions) {
      // The codec checked the filter's syntax; a 3.1.1 client's `$share/...` is split here (the
      // codec sees a plain filter there) and must still name a group and a filter.
      const share = parseShare(s.topic)
      if (!share || !isValidTopicFilter(share.filter, 4)) {
        granted.push(v5 ? RC.TOPIC_FILTER_INVALID : 0x80)
        continue
      }
      const allowed = conn.permissions!.canSubscribe(share.filter)
      if (this.wants('client_check_authz_complete')) this.event({ kind: 'client_check_authz_complete', ...this.who(conn), action: 'subscribe', topic: s.topic, result: allowed ? 'allow' : 'deny', source: this.authzSource })
      if (!allowed) {
        granted.push(v5 ? RC.NOT_AUTHORIZED : 0x80)
        continue
      }
      const qos = Math.min(s.qos, 2) as 0 | 1 | 2
      const sub: Subscription<ClientSession> = {
        subscriber: session, filter: share.filter, group: share.group, qos, nl: v5 && s.nl === true, rap: v5 && s.rap === true,
        rh: (v5 ? s.rh ?? 0 : 0) as 0 | 1 | 2, id: subId,
      }
      const existed = this.subscriptions.add(sub)
      session.subscriptions.set(s.topic, sub)
      granted.push(qos)
      subscribed.push({ topic: s.topic, qos })
      if (share.group === undefined && (sub.rh === 0 || (sub.rh === 1 && !existed))) retainedToSend.push({ sub })
    }
    conn.send({ cmd: 'suback', messageId: p.messageId, granted } as ServerPacket)
    if (this.wants('session_subscribed')) for (const s of subscribed) this.event({ kind: 'session_subscribed', ...this.who(conn), topic: s.topic, qos: s.qos })
    if (retainedToSend.length === 0 || this.retained.size === 0) return
    const now = Date.now()
    for (const { sub } of retainedToSend) {
      for (const m of this.retained.values()) {
        if (!topicMatches(sub.filter, m.topic)) continue
        if (m.expiresAt !== undefined && m.expiresAt <= now) {
          this.retained.delete(m.topic)
          continue
        }
        this.deliver(session, m, sub.qos < m.qos ? sub.qos : m.qos, true, sub.id === undefined ? undefined : [sub.id])
      }
    }
  }

  private onUnsubscribe(conn: ClientConnection, p: UnsubscribePacket): void {
    const session = conn.session!
    const codes: number[] = []
    for (const topic of p.unsubscriptions) {
      const sub = session.subscriptions.get(topic)
      if (sub) {
        session.subscriptions.delete(topic)
        this.subscriptions.remove(session, sub.filter, sub.group)
        if (this.wants('session_unsubscribed')) this.event({ kind: 'session_unsubscribed', ...this.who(conn), topic, qos: sub.qos })
      }
      codes.push(sub ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED)
    }
    conn.send(conn.version === 5 ? { cmd: 'unsuback', messageId: p.messageId, granted: codes } as ServerPacket : { cmd: 'unsuback', messageId: p.messageId } as ServerPacket)
  }

  // ---- DISCONNECT, wills, session end, keep alive -------------------------------------------

  private onDisconnect(conn: ClientConnection, p: { reasonCode?: number; properties?: { sessionExpiryInterval?: number } }): void {
    const session = conn.session!
    conn.disconnectProperties = p.properties
    const expiry = p.properties?.sessionExpiryInterval
    if (expiry !== undefined) {
      // Setting an expiry on DISCONNECT when CONNECT had none is a protocol error (MQTT 3.14.2.2.2).
      if (session.expiryInterval === 0 && expiry !== 0) return conn.protocolFailure(RC.PROTOCOL_ERROR, 'session expiry set on DISCONNECT')
      session.expiryInterval = Math.min(expiry, this.limits.maxSessionExpiry)
    }
    conn.graceful = (p.reasonCode ?? 0) !== RC.DISCONNECT_WITH_WILL
    conn.closeReason = 'normal'
    conn.end()
  }

  private publishWill(conn: ClientConnection, will: Will): void {
    const session = conn.session
    if (session) session.willTimer = undefined
    const m = will.message
    const now = Date.now()
    const expiry = m.properties?.messageExpiryInterval
    const message: BrokerMessage = { ...m, receivedAt: now, expiresAt: expiry !== undefined ? now + expiry * 1000 : undefined }
    if (!isValidTopicName(m.topic) || m.topic.startsWith('$SYS/') || !(conn.permissions ?? ALLOW_ALL).canPublish(m.topic)) return
    if (message.retain) this.retain(message)
    this.toSink(conn, message, false)
    this.route(message, undefined)
  }

  private endSession(session: ClientSession): void {
    clearTimeout(session.expiryTimer)
    if (session.willTimer) {
      // The session ends before the will delay: the will goes now (MQTT 3.1.3.2.2).
      clearTimeout(session.willTimer)
      session.willTimer = undefined
    }
    for (const sub of session.subscriptions.values()) this.subscriptions.remove(session, sub.filter, sub.group)
    session.subscriptions.clear()
    session.queue.clear()
    session.inflight.clear()
    if (this.sessions.get(session.clientid) === session) this.sessions.delete(session.clientid)
  }

  private sweep(): void {
    const now = Date.now()
    for (const conn of this.connections) {
      if (conn.state === 'new' || conn.state === 'auth') {
        if (now - conn.connectedAt > CONNECT_TIMEOUT_MS) {
          conn.closeReason = 'idle_timeout'
          conn.destroy()
        }
      } else if (conn.state === 'open' && conn.keepalive > 0 && now - conn.lastSeen > conn.keepalive * 1500) {
        conn.closeReason = 'keepalive_timeout'
        conn.disconnect(RC.KEEP_ALIVE_TIMEOUT)
      }
    }
  }

  // ---- Events -------------------------------------------------------------------------------

  /** EMQX's name of what decided an authorization: the deployment's ACL, or nothing (`default`). */
  private get authzSource(): string {
    return this.access ? 'built_in_database' : 'default'
  }

  private wants(kind: ClientEvent['kind']): boolean {
    return this.sink !== undefined && this.sink.wants(kind)
  }

  private event(e: ClientEvent): void {
    this.sink!.clientEvent(e)
  }

  private dropped(session: ClientSession, out: Outbound, reason: DeliveryDropReason): void {
    this.counters.dropped[reason]++
    if (out.message.from && this.wants('delivery_dropped')) this.dropEvent(session, out.message, reason, out)
  }

  private dropEvent(session: ClientSession, m: BrokerMessage, reason: DeliveryDropReason, out?: Outbound): void {
    if (!m.from) return
    this.event({
      kind: 'delivery_dropped', reason, clientid: session.clientid, username: session.username, peerhost: session.connection?.info.peerhost,
      receivedAt: m.receivedAt, topic: m.topic, qos: out?.qos ?? m.qos, payload: m.payload, retain: m.retain, dup: false, from: m.from,
      properties: m.properties,
    })
  }

  private who(conn: ClientConnection): Who {
    return { clientid: conn.clientid, username: conn.username, peerhost: conn.info.peerhost }
  }

  private sessionInfo(conn: ClientConnection) {
    return {
      ...this.who(conn), protoVer: conn.version, cleanStart: conn.cleanStart, keepalive: conn.keepalive,
      expiryInterval: conn.session?.expiryInterval ?? 0, connectProperties: conn.connectProperties,
    }
  }

  private carried(out: Outbound) {
    const m = out.message
    return { topic: m.topic, qos: out.qos, payload: m.payload, retain: out.retain, dup: false, from: m.from, properties: m.properties }
  }
}

/**
 * A payload the broker may keep (queues, retained messages): the codec hands out views into the
 * socket's chunk, and a small view would keep a whole large chunk alive, so those are copied.
 */
function toBuffer(payload: Buffer | string | undefined | null): Buffer {
  if (payload === undefined || payload === null) return Buffer.alloc(0)
  if (typeof payload === 'string') return Buffer.from(payload)
  return payload.length * 4 < payload.buffer.byteLength ? Buffer.from(payload) : payload
}

/** The reason code a held acknowledgement is sent with. */
function acknowledgementCode(outcome: AcknowledgementOutcome, onSuccess: number): number {
  if (outcome === 'committed') return onSuccess
  return outcome === 'quota_exceeded' ? RC.QUOTA_EXCEEDED : RC.UNSPECIFIED_ERROR
}
