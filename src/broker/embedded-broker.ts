import '../quiet-debug.js'
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import { Aedes, type AedesPublishPacket, type Client } from 'aedes'
import type { ConnectionHandler, ConnectionInfo } from './broker-types.js'
import { topicMatches } from './topic-filter.js'

/** What a broker tells the rule engine: client publishes and client lifecycle events. */
export interface BrokerSink {
  /** A message a client published (not the broker's own, e.g. $SYS or republished ones). */
  published(message: PublishedMessage): void
  clientEvent(event: ClientEvent): void
  /**
   * Whether anything listens to events of this kind now. The broker asks before building the
   * per-message events (delivered, dropped, authorization of a publish), which would otherwise
   * cost every message.
   */
  wants(kind: ClientEvent['kind']): boolean
}

export interface PublishedMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly dup: boolean
  readonly clientid: string
  readonly username: string | undefined
  readonly peerhost: string | undefined
  readonly receivedAt: number
}

/** The client an event is about. */
interface Who {
  readonly clientid: string
  readonly username: string | undefined
  readonly peerhost: string | undefined
}

/** A client's connection as events report it. */
interface Session extends Who {
  readonly protoVer: number
  readonly cleanStart: boolean
  /** Seconds, as the CONNECT packet asked. */
  readonly keepalive: number
}

/** A message as the delivery events report it; `from` is its publisher (none for the broker's own). */
interface Carried {
  readonly topic: string
  readonly qos: number
  readonly payload: Buffer
  readonly retain: boolean
  readonly dup: boolean
  readonly from: { readonly clientid: string; readonly username: string | undefined } | undefined
}

export type ClientEvent =
  | ({ readonly kind: 'client_connected' | 'client_disconnected' | 'client_connack' | 'client_ping' } & Session)
  | ({ readonly kind: 'client_check_authn_complete'; readonly anonymous: boolean } & Who)
  | ({ readonly kind: 'client_check_authz_complete'; readonly action: 'publish' | 'subscribe'; readonly topic: string; readonly result: 'allow' | 'deny' } & Who)
  | ({ readonly kind: 'session_subscribed' | 'session_unsubscribed'; readonly topic: string; readonly qos: number } & Who)
  /** A message about to be written to a subscriber (`clientid` is the subscriber), and one it acknowledged. */
  | ({ readonly kind: 'message_delivered' | 'message_acked' } & Who & Carried)
  /** A client's message no subscriber (online or offline) takes; `clientid` is the publisher. */
  | ({ readonly kind: 'message_dropped'; readonly reason: 'no_subscribers'; readonly receivedAt: number } & Who & Omit<Carried, 'from'>)
  /** A message lost for one subscriber (`clientid`): QoS 0 for a persistent session while it is offline. */
  | ({ readonly kind: 'delivery_dropped'; readonly reason: 'qos0_msg'; readonly receivedAt: number } & Who & Carried)

export interface OutgoingMessage {
  readonly topic: string
  readonly payload: string | Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
}

/** Publishers remembered for message_acked (a few seconds of traffic at a high rate). */
const PUBLISHERS_KEPT = 100_000

/**
 * A deployment's embedded MQTT 3.1.1 broker (aedes). Kept free of rule and connector logic: the
 * engine subscribes to it in-process. It takes connections from the deployment's listeners
 * (src/broker/listeners) as a ConnectionHandler, which is all MqttBroker will replace.
 */
export class EmbeddedBroker implements ConnectionHandler {
  private aedes: Aedes | undefined
  /** Where each connection came from: a WebSocket stream has no remoteAddress of its own. */
  private readonly connections = new WeakMap<object, ConnectionInfo>()
  private readonly usernames = new WeakMap<Client, string>()
  /** The keepalive (s) each client's CONNECT asked for. */
  private readonly keepalives = new WeakMap<Client, number>()
  /**
   * The publisher of recent messages by aedes's packet counter, for message_acked: the copy
   * aedes keeps for a session (whose acknowledgement it reports) does not carry it, the packet
   * it forwards does. Filled only while a rule listens; the oldest go first beyond PUBLISHERS_KEPT.
   */
  private readonly publishers = new Map<number, Carried['from']>()
  /**
   * The QoS 1/2 messages written to each connection and not yet acknowledged, by packet
   * identifier, while a rule listens to message_acked: aedes keeps no copy for a clean session,
   * so its PUBACK would name no message. An entry goes at the acknowledgement or when its
   * identifier comes round again (a message downgraded to QoS 0 is never acknowledged); the map
   * goes with the connection.
   */
  private readonly unacked = new WeakMap<object, Map<number, AedesPublishPacket>>()
  /**
   * The QoS 0 subscriptions of persistent sessions (filter -> the username it was made with), by
   * client ID: aedes keeps nothing for such a session while it is offline and drops those
   * messages without a trace, which delivery_dropped reports. Lives as long as aedes's own
   * (in-memory) sessions: a clean connect with the same ID ends it.
   */
  private readonly qos0Sessions = new Map<string, Map<string, string | undefined>>()

  constructor(private readonly sink?: BrokerSink) {}

  /** Creates the aedes instance; connections come through handle(). */
  async start(): Promise<void> {
    const sink = this.sink
    const wants = (kind: ClientEvent['kind']) => sink?.wants(kind) === true
    this.aedes = await Aedes.createBroker({
      id: 'junction',
      preConnect: (client, packet, done) => {
        this.keepalives.set(client, (packet as { keepalive?: number }).keepalive ?? 0)
        done(null, true)
      },
      // Accepts every client (authentication of devices is not in scope yet) and remembers the
      // username, which rule SQL exposes as `username`.
      authenticate: (client, username, _password, done) => {
        if (username) this.usernames.set(client, username)
        if (wants('client_check_authn_complete')) sink!.clientEvent({ kind: 'client_check_authn_complete', ...this.who(client), anonymous: true })
        done(null, true)
      },
      // Every publish and subscription is allowed (no authorization sources yet) but a client's
      // publish to $SYS/, which is the broker's (aedes's own rule); rules on
      // $events/client_check_authz_complete see each decision.
      authorizePublish: (client, packet, done) => {
        const reserved = packet.topic.startsWith('$SYS/')
        if (client && wants('client_check_authz_complete')) sink!.clientEvent({ kind: 'client_check_authz_complete', ...this.who(client), action: 'publish', topic: packet.topic, result: reserved ? 'deny' : 'allow' })
        done(reserved ? new Error('$SYS/ topics are reserved for the broker') : null)
      },
      authorizeSubscribe: (client, sub, done) => {
        if (wants('client_check_authz_complete')) sink!.clientEvent({ kind: 'client_check_authz_complete', ...this.who(client), action: 'subscribe', topic: sub.topic, result: 'allow' })
        done(null, sub)
      },
      // Called for each subscriber a message is about to be written to: EMQX's message.delivered.
      // Not for the broker's own messages ($SYS, republish actions): a rule republishing on
      // delivery could otherwise feed itself.
      authorizeForward: (client, packet) => {
        if (packet.topic.startsWith('$SYS/') || (packet as { clientId?: string }).clientId === undefined) return packet
        const delivered = wants('message_delivered')
        const acked = wants('message_acked') && packet.qos > 0
        if (!delivered && !acked) return packet
        const carried = this.carried(packet)
        if (delivered) sink!.clientEvent({ kind: 'message_delivered', ...this.who(client), ...carried })
        if (acked && carried.from) this.rememberPublisher(packet.brokerCounter, carried.from)
        return packet
      },
    })
    const aedes = this.aedes
    if (this.sink) this.attach(aedes, this.sink)
  }

  /** A connection from one of the deployment's listeners (ConnectionHandler). */
  handle(stream: Duplex, info: ConnectionInfo): void {
    const aedes = this.aedes
    if (!aedes) {
      stream.destroy()
      return
    }
    this.connections.set(stream, info)
    if (this.sink) {
      const wants = (kind: ClientEvent['kind']) => this.sink?.wants(kind) === true
      packetTaps.set(stream, (packet) => {
        if (packet.cmd !== 'publish' || !packet.qos || packet.messageId === undefined || !wants('message_acked')) return
        let sent = this.unacked.get(stream)
        if (!sent) this.unacked.set(stream, (sent = new Map()))
        sent.set(packet.messageId, packet as AedesPublishPacket)
      })
    }
    aedes.handle(stream)
  }

  /** Publishes into this broker (the `republish` action). */
  publish(message: OutgoingMessage): Promise<void> {
    const aedes = this.aedes
    if (!aedes) return Promise.reject(new Error('the broker is not running'))
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic: message.topic, payload, qos: message.qos, retain: message.retain, dup: false }, (err) => (err ? reject(err) : resolve()))
    })
  }

  private who(client: Client): Who {
    return { clientid: client.id, username: this.usernames.get(client), peerhost: this.peerhost(client) }
  }

  private peerhost(client: Client): string | undefined {
    return client.conn ? this.connections.get(client.conn)?.peerhost : undefined
  }

  private session(client: Client): Session {
    return { ...this.who(client), protoVer: client.version, cleanStart: client.clean, keepalive: this.keepalives.get(client) ?? 0 }
  }

  /** The message of a delivery event; aedes stamps the publisher's client ID on the packets it routes. */
  private carried(packet: AedesPublishPacket): Carried {
    const fromId = (packet as { clientId?: string }).clientId
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> } | undefined)?.clients
    const publisher = fromId === undefined ? undefined : clients?.[fromId]
    return {
      topic: packet.topic, qos: packet.qos, payload: packet.payload as Buffer, retain: packet.retain, dup: packet.dup,
      from: fromId === undefined ? undefined : { clientid: fromId, username: publisher ? this.usernames.get(publisher) : undefined },
    }
  }

  private rememberPublisher(brokerCounter: number, from: NonNullable<Carried['from']>): void {
    this.publishers.set(brokerCounter, from)
    if (this.publishers.size > PUBLISHERS_KEPT) this.publishers.delete(this.publishers.keys().next().value!)
  }

  private attach(aedes: Aedes, sink: BrokerSink): void {
    const wants = (kind: ClientEvent['kind']) => sink.wants(kind)
    installPacketTap()
    // An acknowledgement aedes finds no kept message for (a clean session's) is matched with
    // what was written on that connection; aedes then reports it as an 'ack' like the others.
    const persistence = (aedes as unknown as { persistence: { outgoingClearMessageId(client: Client, packet: { messageId?: number }): Promise<unknown> } }).persistence
    const clear = persistence.outgoingClearMessageId.bind(persistence)
    persistence.outgoingClearMessageId = async (client, packet) => {
      const kept = await clear(client, packet)
      const sent = this.unacked.get(client.conn)
      const written = packet.messageId === undefined ? undefined : sent?.get(packet.messageId)
      if (written) sent!.delete(packet.messageId!)
      return kept ?? written
    }
    aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      const receivedAt = Date.now()
      if (client) {
        // Written out rather than spread from who(): one object per message instead of two.
        sink.published({
          topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos, retain: packet.retain, dup: packet.dup,
          clientid: client.id, username: this.usernames.get(client), peerhost: this.peerhost(client), receivedAt,
        })
      }
      if (client && wants('message_dropped')) void this.dropIfUnsubscribed(aedes, sink, packet, client, receivedAt)
      if (client && this.qos0Sessions.size > 0 && wants('delivery_dropped')) this.dropForOfflineQos0(aedes, sink, packet, client, receivedAt)

    })
    aedes.on('clientReady', (client) => {
      if (client.clean) this.qos0Sessions.delete(client.id)
      sink.clientEvent({ kind: 'client_connected', ...this.session(client) })
    })
    aedes.on('connackSent', (_connack, client) => sink.clientEvent({ kind: 'client_connack', ...this.session(client) }))
    aedes.on('ping', (_packet, client) => sink.clientEvent({ kind: 'client_ping', ...this.session(client) }))
    aedes.on('clientDisconnect', (client) => sink.clientEvent({ kind: 'client_disconnected', ...this.session(client) }))
    aedes.on('subscribe', (subs, client) => {
      if (!client.clean) this.rememberQos0(client, subs)
      for (const s of subs) sink.clientEvent({ kind: 'session_subscribed', ...this.who(client), topic: s.topic, qos: s.qos })
    })
    aedes.on('unsubscribe', (topics, client) => {
      this.qos0Sessions.get(client.id)?.forEach((_, filter, filters) => { if (topics.includes(filter)) filters.delete(filter) })
      for (const topic of topics) sink.clientEvent({ kind: 'session_unsubscribed', ...this.who(client), topic, qos: 0 })
    })
    aedes.on('ack', (packet, client) => {
      if (packet?.cmd !== 'publish' || !client) return
      const carried = this.carried(packet as AedesPublishPacket)
      // No publisher known: the broker's own message (see authorizeForward), or one forgotten.
      const from = carried.from ?? this.publishers.get((packet as AedesPublishPacket).brokerCounter)
      if (from) sink.clientEvent({ kind: 'message_acked', ...this.who(client), ...carried, from })
    })
  }

  /**
   * EMQX's message.dropped with reason no_subscribers: a message that matches no subscription,
   * online or offline. aedes keeps the subscriptions of persistent sessions in its persistence
   * and those of clean sessions only on the connected client, so both are asked. Only while a
   * rule listens: it walks the connected clients.
   */
  private async dropIfUnsubscribed(aedes: Aedes, sink: BrokerSink, packet: AedesPublishPacket, client: Client, receivedAt: number): Promise<void> {
    const internals = aedes as unknown as {
      clients: Record<string, { clean: boolean; subscriptions: Record<string, unknown> }>
      persistence: { subscriptionsByTopic(topic: string): Promise<unknown[]> }
    }
    for (const c of Object.values(internals.clients)) {
      if (c.clean && Object.keys(c.subscriptions).some((s) => topicMatches(s, packet.topic))) return
    }
    try {
      if ((await internals.persistence.subscriptionsByTopic(packet.topic)).length > 0) return
    } catch {
      return // the broker is closing
    }
    sink.clientEvent({ kind: 'message_dropped', ...this.who(client), reason: 'no_subscribers', topic: packet.topic, qos: packet.qos, payload: packet.payload as Buffer, retain: packet.retain, dup: packet.dup, receivedAt })
  }

  private rememberQos0(client: Client, subs: ReadonlyArray<{ topic: string; qos: number }>): void {
    let filters = this.qos0Sessions.get(client.id)
    for (const sub of subs) {
      if (sub.qos === 0) {
        if (!filters) this.qos0Sessions.set(client.id, (filters = new Map()))
        filters.set(sub.topic, this.usernames.get(client))
      } else {
        filters?.delete(sub.topic)
      }
    }
    if (filters?.size === 0) this.qos0Sessions.delete(client.id)
  }

  /**
   * EMQX's delivery.dropped with reason qos0_msg: a message for a persistent session's QoS 0
   * subscription while that session is offline (aedes queues only QoS 1/2 for it). One event per
   * such session. Only while a rule listens.
   */
  private dropForOfflineQos0(aedes: Aedes, sink: BrokerSink, packet: AedesPublishPacket, publisher: Client, receivedAt: number): void {
    const online = (aedes as unknown as { clients: Record<string, unknown> }).clients
    for (const [clientid, filters] of this.qos0Sessions) {
      if (online[clientid]) continue
      for (const [filter, username] of filters) {
        if (!topicMatches(filter, packet.topic)) continue
        sink.clientEvent({
          kind: 'delivery_dropped', reason: 'qos0_msg', clientid, username, peerhost: undefined, receivedAt,
          topic: packet.topic, qos: 0, payload: packet.payload as Buffer, retain: packet.retain, dup: packet.dup,
          from: { clientid: publisher.id, username: this.usernames.get(publisher) },
        })
        break
      }
    }
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0
  }

  /** Closes aedes and so every connection it holds; the listeners are closed by their owner. */
  async close(): Promise<void> {
    const aedes = this.aedes
    this.aedes = undefined
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()))
  }
}

/** Per connection of an embedded broker: sees each packet aedes writes to it. */
const packetTaps = new WeakMap<object, (packet: { cmd: string; qos?: number; messageId?: number }) => void>()

/**
 * aedes writes every packet with mqtt-packet's `writeToStream` (looked up on the module at each
 * call), so wrapping it there shows the embedded brokers what they send, with its packet
 * identifier, which no aedes event carries. Streams that are not a broker's pass straight
 * through (the MQTT connector's client uses the same module).
 */
function installPacketTap(): void {
  const require = createRequire(import.meta.url)
  const mqttPacket = createRequire(require.resolve('aedes'))('mqtt-packet') as Record<string | symbol, unknown> & { writeToStream: (...args: unknown[]) => boolean }
  const TAPPED = Symbol.for('junction.packetTap')
  if (mqttPacket[TAPPED]) return
  const write = mqttPacket.writeToStream
  // writeToStream(packet, stream, opts): named parameters, no rest array, on every packet written.
  mqttPacket.writeToStream = function (this: unknown, packet: unknown, stream: unknown, opts: unknown) {
    const tap = packetTaps.get(stream as object)
    if (tap) tap(packet as { cmd: string })
    return write.call(this, packet, stream, opts)
  }
  mqttPacket[TAPPED] = true
}
