import '../../library-patches/debug.js'
import { isIP } from 'node:net'
import { connect as mqttConnect, type IClientOptions, type IConnackPacket, type IDisconnectPacket, type MqttClient, type Packet } from 'mqtt'
import {
  ConnectorError, InflightLimit, NOT_STARTED, asksForProperties, deadline, probeConnection, settleWithin, timedOut, tlsOptions, untilAborted,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { BrokerDisconnectError, ClosedBeforeConnackError, classifyMqttError, type MqttPhase } from './classify-error.js'
import type { MqttConfig, MqttParams } from './config-schema.js'
import { MqttChannel, type OutgoingMessage, type Publisher } from './mqtt-channel.js'
import { parseServer, type ServerAddress } from './server-address.js'

/** How long a Test waits for its polite DISCONNECT before dropping the socket. */
const PROBE_CLOSE_WAIT_MS = 1_000
/** MQTT's largest Receive Maximum (and packet identifier space): the limit when the broker names none. */
const MAX_INFLIGHT = 65_535

/**
 * An MQTT bridge: one long-lived client connection to the broker between `start` and `stop`, and
 * a short-lived client of its own for each Test.
 *
 * The client never reconnects by itself (mqtt.js `reconnectPeriod: 0`): when the connection is
 * lost, `health` says so with the reason and the runtime builds a new instance, so the status
 * shown is always the state of the one connection there is. mqtt.js never buffers either:
 * `queueQoSZero: false`, and a publish while disconnected fails with `not_connected` before it
 * reaches mqtt.js (whose offline store would otherwise keep QoS 1/2 messages silently).
 */
export class MqttConnector implements Connector<MqttParams>, Publisher {
  private readonly server: ServerAddress
  private readonly clientId: string
  private client: MqttClient | undefined
  private connack: IConnackPacket | undefined
  /** The broker's Receive Maximum: more unacknowledged QoS 1/2 publishes would be a protocol error. */
  private inflight: InflightLimit | undefined
  private stopped = false
  /** Why the running connection closed, or the connector stopped (set once it has). */
  private lost: ConnectorError | undefined
  /** Sends waiting for an acknowledgement; told when the connection closes. */
  private readonly waiting = new Set<(err: ConnectorError) => void>()
  /** The last error (or broker DISCONNECT) seen on the running connection: the reason when it closes. */
  private lastError: unknown

  constructor(private readonly config: MqttConfig, private readonly ctx: ConnectorContext) {
    this.server = parseServer(config.server, config.tls.enable)
    this.clientId = config.clientId ?? `junction-${ctx.connectorId}`
  }

  /** Resolve, connect, tls (the kit's), then CONNECT/CONNACK as `authenticate`. */
  probe(signal: AbortSignal): Promise<ProbeResult> {
    // Never the running connector's client ID: connecting with it would take its connection over.
    const probeId = `${this.clientId}-probe`
    let client: MqttClient | undefined
    return probeConnection({
      host: this.server.host, port: this.server.port, timeoutMs: this.config.connectTimeoutMs, tls: this.config.tls,
      steps: [{
        name: 'authenticate',
        run: async (bound) => {
          client = this.newClient(probeId)
          return this.describeSession(await this.waitConnected(client, probeId, bound), probeId)
        },
      }],
      classify: (err) => this.classify(err, 'connect', probeId),
      cleanup: () => client && closeClient(client, AbortSignal.any([signal, AbortSignal.timeout(PROBE_CLOSE_WAIT_MS)])),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.client) return
    if (this.stopped) throw new ConnectorError('CONNECTION_FAILED', 'This connector instance was stopped', { hint: 'Start a new instance.' })
    const client = this.newClient(this.clientId)
    this.client = client
    client.on('error', (err) => { this.lastError = err })
    client.on('disconnect', (packet: IDisconnectPacket) => {
      this.lastError = new BrokerDisconnectError(packet.reasonCode ?? 0, packet.properties?.reasonString)
    })
    client.on('close', () => this.closed(client))
    try {
      this.connack = await this.waitConnected(client, this.clientId, signal)
    } catch (err) {
      if (this.client === client) this.client = undefined
      throw err
    }
    this.lastError = undefined
    this.inflight = new InflightLimit(this.connack.properties?.receiveMaximum ?? MAX_INFLIGHT)
    if (!client.connected) this.closed(client) // closed between CONNACK and now
    this.ctx.logger.debug('MQTT connection up', { server: this.server.address, clientId: this.clientId, protocolVersion: this.config.protocolVersion })
  }

  async health(signal: AbortSignal): Promise<Health> {
    const client = this.client
    if (this.stopped || !client) return NOT_STARTED
    try {
      if (!client.connected) throw this.lostReason()
      await this.ping(client, signal)
      return { status: 'connected' }
    } catch (err) {
      const e = this.classify(err, 'connection', this.clientId)
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    this.lose(new ConnectorError('CONNECTION_LOST', 'The connector was stopped before the broker acknowledged the message', {
      hint: 'The message is retried on the next connection.',
    }))
    if (client) await closeClient(client, signal)
  }

  async openChannel(params: MqttParams): Promise<Channel> {
    const invalid = (message: string, hint: string) => new ConnectorError('INVALID_PARAMS', message, { kind: 'permanent', hint })
    const mqtt5 = this.config.protocolVersion === '5'
    // The default user_properties template is no request for properties; anything else on 3.1.1 would be lost silently.
    if (!mqtt5 && asksForProperties(params)) {
      throw invalid('MQTT properties (mqtt_properties, user_properties, userProperties) need MQTT 5, but this connector uses MQTT 3.1.1',
        "Remove the action's MQTT properties, or set the connector's protocolVersion to 5.")
    }
    const limits = this.connack?.properties
    if (limits?.maximumQoS !== undefined && params.qos > limits.maximumQoS) {
      throw invalid(`${this.server.address} accepts publishes up to QoS ${limits.maximumQoS}, the action asks for QoS ${params.qos}`,
        `Set the action's qos to ${limits.maximumQoS} or lower.`)
    }
    if (params.retain && limits?.retainAvailable === false) {
      throw invalid(`${this.server.address} does not support retained messages`, "Turn off the action's retain.")
    }
    return new MqttChannel(this, params, {
      mqtt5,
      // As EMQX does, a value that is not valid for its property leaves the property out of that message.
      onSkipped: (property, reason) => this.ctx.logger.debug('MQTT property left out of a message', { server: this.server.address, property, reason }),
    })
  }

  // --- Publisher (used by channels) ---

  get maximumPacketSize(): number | undefined {
    return this.connack?.properties?.maximumPacketSize
  }

  async publish(m: OutgoingMessage, signal: AbortSignal): Promise<void> {
    if (!this.client?.connected) throw this.notConnected()
    const limit = m.qos > 0 ? this.inflight : undefined
    // A caller that gives up ends only its wait: the message stays in flight at the broker (the
    // runtime may retry it). A connection that goes fails the wait with why (see `lose`).
    await limit?.acquire(signal, () => this.sendTimedOut())
    const client = this.client
    if (!client?.connected) {
      limit?.release()
      throw this.notConnected()
    }
    let onLost!: (err: ConnectorError) => void
    const acked = new Promise<void>((resolve, reject) => {
      onLost = reject
      this.waiting.add(onLost)
      client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain, ...(m.properties ? { properties: m.properties } : {}) }, (err) => {
        limit?.release()
        if (err) reject(this.classify(err, 'publish', this.clientId))
        else resolve()
      })
    })
    try {
      return await untilAborted(acked, signal, () => this.sendTimedOut())
    } finally {
      this.waiting.delete(onLost)
    }
  }

  // --- internals ---

  /** A client that connects at once, never reconnects and never queues. */
  private newClient(clientId: string): MqttClient {
    const c = this.config
    if (c.password !== undefined && c.username === undefined) {
      throw new ConnectorError('AUTHENTICATION_FAILED', 'A password is set without a username', { kind: 'permanent', hint: 'Set the username too (MQTT sends a password only with a user name).' })
    }
    const tls = tlsOptions(c.tls)
    const options: IClientOptions = {
      protocol: tls ? 'mqtts' : 'mqtt',
      host: this.server.host,
      port: this.server.port,
      clientId,
      clean: c.cleanStart,
      keepalive: c.keepaliveS,
      protocolVersion: c.protocolVersion === '5' ? 5 : 4,
      connectTimeout: c.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      ...(c.username === undefined ? {} : { username: c.username }),
      ...(c.password === undefined ? {} : { password: c.password }),
      ...(tls ?? {}),
      ...(tls && c.tls.serverName === undefined && isIP(this.server.host) === 0 ? { servername: this.server.host } : {}),
    }
    const client = mqttConnect(options)
    // mqtt.js emits 'error' for failures the waiters handle; an 'error' without a listener would crash the process.
    client.on('error', () => undefined)
    return client
  }

  /** Resolves with the CONNACK; rejects with the first error or an early close, classified, or TIMEOUT when `signal` aborts. */
  private async waitConnected(client: MqttClient, clientId: string, signal: AbortSignal): Promise<IConnackPacket> {
    let onError!: (err: Error) => void
    let onClose!: () => void
    const connected = new Promise<IConnackPacket>((resolve, reject) => {
      onError = reject
      onClose = () => reject(new ClosedBeforeConnackError())
      client.once('connect', resolve)
      client.on('error', onError)
      client.on('close', onClose)
    })
    try {
      return await untilAborted(connected, signal, () => timedOut(this.server.address))
    } catch (err) {
      client.end(true)
      throw this.classify(err, 'connect', clientId)
    } finally {
      client.off('error', onError)
      client.off('close', onClose)
    }
  }

  /** The running connection closed: remember why, fail what waits on it. */
  private closed(client: MqttClient): void {
    if (this.client !== client || this.lost) return
    if (!this.connack) return // still connecting: waitConnected reports it
    const e = this.lostReason()
    this.lose(e)
    if (!this.stopped) this.ctx.logger.warn('MQTT connection lost', { code: e.code, reason: e.message })
  }

  /** Fails every send waiting for an acknowledgement or a slot with `err` (once: the first reason stays). */
  private lose(err: ConnectorError): void {
    this.lost ??= err
    this.inflight?.close(this.lost)
    const waiting = [...this.waiting]
    this.waiting.clear()
    for (const fail of waiting) fail(this.lost)
  }

  private lostReason(): ConnectorError {
    if (this.lost) return this.lost
    const e = this.classify(this.lastError ?? new Error('Connection closed'), 'connection', this.clientId)
    // Whatever closed it, a send on this connection can only wait for the next one.
    return e.kind === 'not_connected' ? e : new ConnectorError(e.code, e.message, { kind: 'not_connected', ...(e.hint ? { hint: e.hint } : {}), cause: e })
  }

  /** One PINGREQ/PINGRESP round trip, bounded by connectTimeoutMs and the signal. */
  private async ping(client: MqttClient, signal: AbortSignal): Promise<void> {
    const ms = this.config.connectTimeoutMs
    let onPacket!: (packet: Packet) => void
    let onClose!: () => void
    const pong = new Promise<void>((resolve, reject) => {
      onPacket = (packet) => { if (packet.cmd === 'pingresp') resolve() }
      onClose = () => reject(this.lostReason())
      client.on('packetreceive', onPacket)
      client.on('close', onClose)
    })
    client.sendPing()
    try {
      await untilAborted(pong, deadline(signal, ms), () => new ConnectorError('TIMEOUT', `${this.server.address} did not answer a ping (PINGREQ) within ${ms} ms`, {
        hint: 'The broker is hung or the network drops packets; Junction reconnects.',
      }))
    } finally {
      client.off('packetreceive', onPacket)
      client.off('close', onClose)
    }
  }

  private describeSession(connack: IConnackPacket, clientId: string): string {
    const c = this.config
    const who = c.username === undefined ? 'anonymous' : `as user "${c.username}"`
    const p = connack.properties
    const limits = [
      p?.maximumQoS !== undefined ? `maximum QoS ${p.maximumQoS}` : '',
      p?.retainAvailable === false ? 'no retained messages' : '',
      p?.receiveMaximum !== undefined ? `receive maximum ${p.receiveMaximum}` : '',
      p?.maximumPacketSize !== undefined ? `maximum packet ${p.maximumPacketSize} bytes` : '',
    ].filter((s) => s !== '')
    const tls = c.tls.enable ? ' over TLS' : ''
    return `MQTT ${c.protocolVersion} ${who}${tls}, client ID "${clientId}"${limits.length ? `; broker limits: ${limits.join(', ')}` : ''}`
  }

  private classify(err: unknown, phase: MqttPhase, clientId: string): ConnectorError {
    return classifyMqttError(err, { target: this.server.address, phase, tls: this.config.tls.enable, clientId, username: this.config.username })
  }

  private notConnected(): ConnectorError {
    const why = this.lost
    return new ConnectorError(why?.code ?? 'CONNECTION_LOST', `Not connected to ${this.server.address}${why ? `: ${why.message}` : ''}`, {
      kind: 'not_connected', hint: 'The message waits in Junction\'s queue until the connection is back.',
    })
  }

  private sendTimedOut(): ConnectorError {
    return new ConnectorError('TIMEOUT', `${this.server.address} did not acknowledge the message in time`, {
      kind: 'retryable', hint: 'The broker is slow or overloaded; the message is retried, and may arrive twice (at-least-once).',
    })
  }
}

/** Ends a client: a DISCONNECT when it is connected and idle, else the socket is dropped; at once when `signal` aborts. */
async function closeClient(client: MqttClient, signal: AbortSignal): Promise<void> {
  const polite = client.connected && Object.keys(client.outgoing).length === 0
  try {
    const ended = new Promise<void>((resolve) => client.end(!polite, () => resolve()))
    if (await settleWithin(ended, signal)) return
  } catch {
    // a client that cannot end politely is dropped below
  }
  client.stream?.destroy()
}
