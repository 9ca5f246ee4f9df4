import '../../library-patches/debug.js'
import { connect as netConnect } from 'node:net'
import { connect as mqttConnect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import { ConnectorError, classifyNetworkError, hostPort, reconnectDelayMs, tlsOptions } from '../../connector-api/index.js'
import type { ExternalBrokerSettings } from '../../core/domain.js'
import type { AcknowledgementOutcome, BrokerSink, MessageProperties, OutgoingMessage, PublishedMessage } from '../broker-types.js'
import { coveringFilters } from './covering-filters.js'
import { preferredServer } from './preferred-server.js'

/**
 * - `connecting`: the first attempt; `connected`; `reconnecting`: an attempt after a loss or a
 *   failed attempt (the last failure's reason and code kept); `disconnected`: waiting for the next
 *   attempt (backoff); `stopped`: the deployment stopped.
 */
export type ExternalBrokerState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'stopped'

export interface ExternalBrokerStatus {
  readonly status: ExternalBrokerState
  /** Why it is not connected (the last failure), or a subscription the broker refused; null when all is well. */
  readonly statusReason: string | null
  /** A stable code for the failure (AUTHENTICATION_FAILED, CONNECTION_REFUSED, CONNECTION_LOST, ...). */
  readonly statusCode: string | null
  readonly statusSince: string
  readonly lastConnectedAt: string | null
  /** The server of the current (or last) connection, as configured. */
  readonly server: string | null
  readonly clientId: string
  /** What the broker granted, as subscribed (`$share/<group>/<filter>`), in order. */
  readonly subscriptions: readonly string[]
}

export interface ExternalBrokerLogger {
  info(msg: string, meta?: Record<string, unknown>): void
  warn(msg: string, meta?: Record<string, unknown>): void
  error(msg: string, meta?: Record<string, unknown>): void
  debug(msg: string, meta?: Record<string, unknown>): void
}

/** MQTT reason codes by number: 3.1.1 CONNACK return codes (1-5) and MQTT 5 reason codes (>= 0x80). */
const REASON_NAMES: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable', 4: 'bad user name or password', 5: 'not authorized',
  0x80: 'unspecified error', 0x81: 'malformed packet', 0x82: 'protocol error', 0x83: 'implementation specific error',
  0x84: 'unsupported protocol version', 0x85: 'client identifier not valid', 0x86: 'bad user name or password', 0x87: 'not authorized',
  0x88: 'server unavailable', 0x89: 'server busy', 0x8a: 'banned', 0x8b: 'server shutting down', 0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout', 0x8e: 'session taken over', 0x8f: 'topic filter invalid', 0x97: 'quota exceeded', 0x98: 'administrative action',
  0x9c: 'use another server', 0x9d: 'server moved', 0x9e: 'shared subscriptions not supported', 0x9f: 'connection rate exceeded', 0xa2: 'wildcard subscriptions not supported',
}

/** PUBACK reason codes by how the actions that asked for end-to-end acknowledgement settled. */
const ACK_CODE: Record<AcknowledgementOutcome, number> = { committed: 0, failed: 0x80, quota_exceeded: 0x97 }

/** The reconnect backoff: 1 s, 2 s, 4 s ... up to 30 s, ±20 % so that many nodes do not retry in lockstep. */
const MAX_BACKOFF_MS = 30_000
/** How long a stop waits for the polite DISCONNECT. */
const CLOSE_WAIT_MS = 2_000
/**
 * While attached to another server than its preferred one, how often a node checks whether the
 * preferred one answers again; doubled after each return that failed, up to the cap, so a server
 * that accepts TCP but not the client does not make the node hop every few seconds.
 */
const RETURN_CHECK_MS = 5_000
const MAX_RETURN_CHECK_MS = 300_000

class BrokerDisconnect extends Error {
  constructor(readonly reasonCode: number, reasonString: string | undefined) {
    super(`the broker disconnected: ${REASON_NAMES[reasonCode] ?? `reason code ${reasonCode}`}${reasonString ? ` (${reasonString})` : ''}`)
  }
}

interface ServerAddress { readonly host: string; readonly port: number; readonly tls: boolean; readonly label: string }

/** `host[:port]` or `mqtt[s]://host[:port]` as validated by the broker settings' schema. */
export function parseServer(value: string, tlsSetting: boolean): ServerAddress {
  const scheme = /^(mqtts?):\/\//.exec(value.trim())
  const tls = scheme ? scheme[1] === 'mqtts' : tlsSetting
  const { host, port, address } = hostPort(scheme ? value.trim().slice(scheme[0].length) : value, tls ? 8883 : 1883)
  return { host, port, tls, label: address }
}

export interface ExternalBrokerOptions {
  /** This Junction node's name: picks the preferred server (`preferredServer`); without it, the first. */
  readonly nodeName?: string
  /** Base period of the checks for the preferred server while attached elsewhere (tests shorten it). */
  readonly returnCheckMs?: number
}

/**
 * A deployment attached to an existing MQTT broker as one client: it subscribes to the topic
 * filters the rules need (or the configured ones), optionally through a shared subscription,
 * hands every message to the sink as the embedded broker would, and publishes for republish.
 *
 * QoS 1/2 messages are acknowledged to the broker only once the sink has taken them (into the
 * actions' queues), or, when the sink answers a pending acknowledgement (`acknowledge:
 * on-delivery`), once that settles; mqtt.js reads the next packet only after that, so such
 * messages are taken one at a time. The session is persistent (clean start off, a session expiry),
 * so what arrives while Junction is away, and what it had not acknowledged, is delivered again
 * when it is back.
 *
 * mqtt.js never reconnects by itself (`reconnectPeriod: 0`): each attempt is a new client on the
 * next server, after a backoff, so the status is always that of the one connection there is.
 *
 * Each node starts at its preferred server (a stable choice from its name) and, while attached
 * to another one after a failover, goes back to it once it answers again: every broker node of
 * a cluster keeps a consumer of the shared subscription, and the session the node resumes is
 * the one that broker holds for it.
 */
export class ExternalBrokerClient {
  private client: MqttClient | undefined
  private attempt = 0
  private serverIndex: number
  private readonly preferred: number
  private timer: NodeJS.Timeout | undefined
  /** The next check for the preferred server, while attached to another one. */
  private returnTimer: NodeJS.Timeout | undefined
  /** Returns to the preferred server that did not reach CONNACK, for the checks' backoff. */
  private returnFailures = 0
  /** The current connection is being closed to go back to the preferred server. */
  private returning = false
  /** The next connection attempt is that return. */
  private returnPending = false
  private readonly returnCheckMs: number
  private started = false
  private stopped = false
  private state: Omit<ExternalBrokerStatus, 'clientId' | 'subscriptions'>
  private filters: readonly string[] = []
  /** Topics (with the `$share` prefix) the current session holds. */
  private subscribed = new Set<string>()
  private syncing: Promise<void> = Promise.resolve()
  /** Publishes awaiting their PUBACK on the current connection, failed when it closes. */
  private readonly waiting = new Set<(err: Error) => void>()
  private readonly servers: readonly ServerAddress[]
  /** Messages handed to the sink, and those acknowledged with a failure reason code (for /metrics). */
  private counts = { received: 0, refused: 0 }

  constructor(
    private readonly settings: ExternalBrokerSettings,
    readonly clientId: string,
    private readonly sink: BrokerSink,
    private readonly logger: ExternalBrokerLogger,
    options: ExternalBrokerOptions = {},
  ) {
    this.servers = settings.servers.map((s) => parseServer(s, settings.tls.enable))
    this.preferred = options.nodeName === undefined ? 0 : preferredServer(options.nodeName, this.servers.length)
    this.serverIndex = this.preferred
    this.returnCheckMs = options.returnCheckMs ?? RETURN_CHECK_MS
    this.state = { status: 'connecting', statusReason: null, statusCode: null, statusSince: new Date().toISOString(), lastConnectedAt: null, server: null }
  }

  get status(): ExternalBrokerStatus {
    return { ...this.state, clientId: this.clientId, subscriptions: [...this.subscribed] }
  }

  /** Messages received from the broker and handed to the rules, and those acknowledged with a failure code, since the deployment started. */
  get stats(): { readonly received: number; readonly refused: number } {
    return { ...this.counts }
  }

  get connected(): boolean {
    return this.state.status === 'connected'
  }

  /** Starts connecting (and reconnecting until `stop`). */
  start(): void {
    if (this.started) return
    this.started = true
    this.connect()
  }

  /**
   * The filters to subscribe from now on (the rules' FROM topics, or the configured ones); the
   * connected session follows at once, a later one on connect.
   */
  setFilters(filters: readonly string[]): void {
    this.filters = coveringFilters(filters)
    this.sync()
  }

  async publish(message: OutgoingMessage): Promise<void> {
    const client = this.client
    if (!client || !this.connected) {
      throw new ConnectorError('CONNECTION_LOST', `Not connected to the external broker${this.state.statusReason ? `: ${this.state.statusReason}` : ''}`, { kind: 'not_connected', hint: 'The message is sent again once Junction is connected.' })
    }
    const v5 = this.settings.protocolVersion === 5
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => { this.waiting.delete(fail); reject(err) }
      this.waiting.add(fail)
      client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain, ...(v5 && message.properties ? { properties: message.properties as IClientOptions['properties'] } : {}) }, (err, packet) => {
        if (!this.waiting.delete(fail)) return
        const code = (packet as { reasonCode?: number } | undefined)?.reasonCode
        if (err) reject(this.classify(err))
        else if (code !== undefined && code >= 0x80) reject(new ConnectorError('PUBLISH_REFUSED', `The external broker refused the message: ${REASON_NAMES[code] ?? `reason code ${code}`}`, { kind: code === 0x97 ? 'retryable' : 'permanent', hint: "Check the broker's ACL for Junction's user and the topic." }))
        else resolve()
      })
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    clearTimeout(this.returnTimer)
    const client = this.client
    this.client = undefined
    this.loseWaiting(new ConnectorError('CONNECTION_LOST', 'The deployment stopped before the external broker acknowledged the message', { kind: 'not_connected' }))
    this.setState({ status: 'stopped', statusReason: null, statusCode: null })
    if (!client) return
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.end(true, {}, () => resolve()), CLOSE_WAIT_MS)
      // A normal DISCONNECT keeps the session (its expiry came with CONNECT): messages wait for the next start.
      client.end(false, {}, () => { clearTimeout(force); resolve() })
    })
  }

  private connect(): void {
    if (this.stopped) return
    const index = this.serverIndex % this.servers.length
    const server = this.servers[index]!
    this.serverIndex = index + 1
    const isReturn = this.returnPending
    this.returnPending = false
    let reachedConnack = false
    const s = this.settings
    const v5 = s.protocolVersion === 5
    const tls = server.tls ? tlsOptions({ ...s.tls, enable: true }) : undefined
    const client = mqttConnect({
      host: server.host,
      port: server.port,
      protocol: server.tls ? 'mqtts' : 'mqtt',
      ...(tls ?? {}),
      clientId: this.clientId,
      ...(s.username === undefined ? {} : { username: s.username }),
      ...(s.password === undefined ? {} : { password: s.password }),
      protocolVersion: s.protocolVersion,
      clean: false,
      keepalive: s.keepaliveS,
      connectTimeout: s.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      ...(v5 ? {
        properties: { sessionExpiryInterval: s.sessionExpiryS },
        // MQTT 5: the PUBACK carries how the actions settled (a failure reason code when they did not).
        customHandleAcks: (topic: string, _message: Buffer, packet: IPublishPacket, done: (code: number) => void) => {
          void this.take(topic, packet).then(done)
        },
      } : {}),
    } as IClientOptions)
    if (!v5) {
      // MQTT 3.1.1: mqtt.js sends the PUBACK when this calls back, so the message is taken first.
      client.handleMessage = (packet, callback) => {
        if (packet.cmd !== 'publish') return callback()
        void this.take(packet.topic, packet).then(() => callback())
      }
    }
    this.client = client
    this.setState({ status: this.state.lastConnectedAt === null && this.attempt === 0 ? 'connecting' : 'reconnecting', server: server.label })
    let lastError: unknown
    client.on('error', (err) => { lastError = err })
    client.on('disconnect', (packet) => { lastError = new BrokerDisconnect(packet.reasonCode ?? 0, packet.properties?.reasonString) })
    client.on('connect', (connack) => {
      if (this.client !== client) return
      this.attempt = 0
      reachedConnack = true
      lastError = undefined
      if (index === this.preferred) this.returnFailures = 0
      else this.checkPreferred(client)
      // A new session holds none of our subscriptions; a resumed one holds what we subscribed.
      if (!connack.sessionPresent) this.subscribed = new Set()
      const now = new Date().toISOString()
      this.setState({ status: 'connected', statusReason: null, statusCode: null, lastConnectedAt: now, server: server.label })
      this.logger.info(`external broker ${server.label}: connected as ${this.clientId}${connack.sessionPresent ? ' (session resumed)' : ''}`)
      this.sync(true)
    })
    client.on('close', () => {
      if (this.client !== client) return
      this.client = undefined
      clearTimeout(this.returnTimer)
      if (this.returning) {
        this.returning = false
        this.loseWaiting(new ConnectorError('CONNECTION_LOST', `The connection to ${server.label} was closed to go back to the preferred server`, { kind: 'not_connected' }))
        if (this.stopped) return
        this.setState({ status: 'disconnected', statusReason: `going back to the preferred server ${this.servers[this.preferred]!.label}`, statusCode: null })
        this.serverIndex = this.preferred
        this.returnPending = true
        this.timer = setTimeout(() => this.connect(), 0)
        return
      }
      if (isReturn && !reachedConnack) this.returnFailures++
      const e = this.classify(lastError ?? new Error('Connection closed'), this.state.status === 'connected' ? 'connection' : 'connect', server)
      this.loseWaiting(e)
      if (this.stopped) return
      const delay = this.backoff()
      this.setState({ status: 'disconnected', statusReason: e.message, statusCode: e.code })
      this.logger.warn(`external broker ${server.label}: ${e.message}; next attempt in ${delay} ms`, { code: e.code })
      this.timer = setTimeout(() => this.connect(), delay)
    })
  }

  /**
   * While `client` is attached to another server than the preferred one: checks, after a while,
   * whether the preferred one accepts a TCP connection again, and if so closes `client` politely
   * (the session stays on that server) to connect there. A node that stayed on a failover server
   * would leave the preferred one without a consumer: what it holds for the shared subscription
   * would wait on the broker's redistribution, if it has any.
   */
  private checkPreferred(client: MqttClient): void {
    const target = this.servers[this.preferred]!
    const delay = Math.min(this.returnCheckMs * 2 ** this.returnFailures, MAX_RETURN_CHECK_MS)
    clearTimeout(this.returnTimer)
    this.returnTimer = setTimeout(() => {
      void tcpAnswers(target.host, target.port, this.settings.connectTimeoutMs).then((up) => {
        if (this.client !== client || this.stopped || !this.connected) return
        if (!up) return this.checkPreferred(client)
        this.logger.info(`external broker ${target.label} answers again: going back to it from ${this.state.server ?? 'the failover server'}`)
        this.returning = true
        // A normal DISCONNECT: the session on this server stays, and its unacknowledged messages go to the group's other members.
        client.end(false)
      })
    }, delay)
  }

  /** Hands one message to the sink; resolves with the PUBACK reason code once it is taken. */
  private take(topic: string, packet: IPublishPacket): Promise<number> {
    // A retained message the broker sends because we subscribed was published earlier: not news.
    // (MQTT 5 asks for none with Retain Handling 2; MQTT 3.1.1 marks exactly those as retained.)
    if (packet.retain && this.settings.protocolVersion === 4) return Promise.resolve(0)
    const message: PublishedMessage = {
      topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      // A subscriber does not learn who published: the broker does not say.
      clientid: '',
      username: undefined,
      peerhost: undefined,
      receivedAt: Date.now(),
      ...publishProperties(packet),
    }
    this.counts.received++
    let pending
    try {
      pending = this.sink.published(message)
    } catch (err) {
      this.counts.refused++
      this.logger.error(`external broker: a message on ${topic} could not be taken: ${(err as Error).message}`)
      return Promise.resolve(ACK_CODE.failed)
    }
    if (!pending || packet.qos === 0) return Promise.resolve(0)
    return new Promise((resolve) => pending.whenSettled((outcome) => {
      if (outcome !== 'committed') this.counts.refused++
      resolve(ACK_CODE[outcome])
    }))
  }

  /** Subscribes what is missing and unsubscribes what no longer is, one change set at a time. */
  private sync(all = false): void {
    this.syncing = this.syncing.then(() => this.syncNow(all)).catch((err: unknown) => {
      this.logger.warn(`external broker: subscriptions not updated: ${(err as Error).message}`)
    })
  }

  private async syncNow(all: boolean): Promise<void> {
    const client = this.client
    if (!client || !this.connected) return
    const s = this.settings
    const v5 = s.protocolVersion === 5
    const wanted = this.filters.map((f) => (s.sharedGroup === null ? f : `$share/${s.sharedGroup}/${f}`))
    // After a reconnect the session may hold them, but subscribing again is harmless and sure.
    const add = wanted.filter((t) => all || !this.subscribed.has(t))
    const remove = [...this.subscribed].filter((t) => !wanted.includes(t))
    if (remove.length > 0) {
      await untilClosed(client, client.unsubscribeAsync(remove))
      for (const t of remove) this.subscribed.delete(t)
    }
    if (add.length === 0) return
    // No Local (our own republished messages) is a protocol error on a shared subscription.
    const options = v5 ? { qos: s.qos, rh: 2, rap: true, ...(s.sharedGroup === null ? { nl: true } : {}) } : { qos: s.qos }
    const granted = await untilClosed(client, client.subscribeAsync(Object.fromEntries(add.map((t) => [t, options])) as Parameters<MqttClient['subscribeAsync']>[0]))
    const refused: string[] = []
    for (const g of granted) {
      if (g.qos >= 0x80) refused.push(`${g.topic} (${REASON_NAMES[g.qos] ?? `reason code ${g.qos}`})`)
      else this.subscribed.add(g.topic)
    }
    if (refused.length > 0) {
      const reason = `the broker refused the subscription to ${refused.join(', ')}`
      this.logger.warn(`external broker: ${reason}`)
      if (this.connected) this.setState({ statusReason: reason, statusCode: 'NOT_PERMITTED' })
    } else if (this.connected && this.state.statusCode === 'NOT_PERMITTED') {
      this.setState({ statusReason: null, statusCode: null })
    }
  }

  private backoff(): number {
    return reconnectDelayMs(this.attempt++, MAX_BACKOFF_MS)
  }

  private loseWaiting(err: Error): void {
    for (const fail of [...this.waiting]) fail(err)
  }

  private setState(change: Partial<typeof this.state>): void {
    const next = { ...this.state, ...change }
    if (change.status !== undefined && change.status !== this.state.status) next.statusSince = new Date().toISOString()
    this.state = next
  }

  /** A stable code and a message (with what to do) for why connecting or the connection failed. */
  private classify(err: unknown, phase: 'connect' | 'connection' = 'connection', server?: ServerAddress): ConnectorError {
    if (err instanceof ConnectorError) return err
    const t = server?.label ?? this.state.server ?? 'the external broker'
    const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as { code?: unknown; message?: unknown }
    const rc = err instanceof BrokerDisconnect ? err.reasonCode : typeof e.code === 'number' ? e.code : undefined
    const message = typeof e.message === 'string' ? e.message : String(err)
    const name = rc === undefined ? '' : (REASON_NAMES[rc] ?? `reason code ${rc}`)
    const who = this.settings.username === undefined ? 'an anonymous client' : `user "${this.settings.username}"`
    const opts = (hint: string) => ({ hint, cause: err })
    if (phase === 'connect' && rc !== undefined && !(err instanceof BrokerDisconnect)) {
      if ([4, 5, 0x86, 0x87, 0x8c].includes(rc)) return new ConnectorError('AUTHENTICATION_FAILED', `${t} refused the login of ${who}: ${name}`, opts("Check broker.username and broker.password; the broker may also not allow this client ID."))
      if (rc === 0x8a) return new ConnectorError('NOT_PERMITTED', `${t} refused the connection: banned`, opts("Ask the broker's administrator."))
      if (rc === 2 || rc === 0x85) return new ConnectorError('CONNECTION_FAILED', `${t} rejected client ID "${this.clientId}": ${name}`, opts('Choose a broker.clientIdPrefix the broker accepts.'))
      if (rc === 1 || rc === 0x84) return new ConnectorError('CONNECTION_FAILED', `${t} does not support MQTT ${this.settings.protocolVersion === 5 ? '5' : '3.1.1'}: ${name}`, opts('Set broker.protocolVersion to 4 for brokers without MQTT 5.'))
      return new ConnectorError('CONNECTION_FAILED', `${t} refused the connection: ${name}`, opts('Check the broker logs; Junction tries again.'))
    }
    if (rc === 0x8e) return new ConnectorError('CONNECTION_LOST', `${t} closed the connection: another client connected with client ID "${this.clientId}"`, opts('Give every Junction node its own JUNCTION_NODE_NAME.'))
    if (rc !== undefined) return new ConnectorError('CONNECTION_LOST', `${t} closed the connection: ${name}`, opts('Check the broker logs; Junction reconnects.'))
    if (message === 'connack timeout') return new ConnectorError('TIMEOUT', `${t} accepted the connection but did not answer CONNECT in time`, opts('Check that this port speaks MQTT (and TLS when broker.tls is on), or raise broker.connectTimeoutMs.'))
    if (message === 'Keepalive timeout') return new ConnectorError('TIMEOUT', `${t} stopped answering keepalive pings`, opts('Junction reconnects when the broker answers again.'))
    const network = classifyNetworkError(err, t)
    if (network) return network
    return new ConnectorError('CONNECTION_LOST', `The connection to ${t} was closed${message && message !== 'Connection closed' ? `: ${message}` : ''}`, opts('Junction reconnects when the broker is back.'))
  }
}

/** Whether host:port accepts a TCP connection within `timeoutMs`. */
function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port })
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * `work`, or a rejection when the connection closes first: the subscription changes are made one
 * after another, and one left waiting on a dead connection would hold back every later one.
 */
function untilClosed<T>(client: MqttClient, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const closed = () => reject(new Error('the connection closed'))
    if (client.disconnected || !client.connected) return closed()
    client.once('close', closed)
    work.then(resolve, reject).finally(() => client.removeListener('close', closed))
  })
}

/** A message's MQTT 5 properties as publishers set them (not the ones about this hop). */
function publishProperties(packet: IPublishPacket): { properties?: MessageProperties } {
  const p = packet.properties
  if (!p) return {}
  const { subscriptionIdentifier: _s, topicAlias: _t, ...rest } = p
  return Object.keys(rest).length > 0 ? { properties: rest as MessageProperties } : {}
}
