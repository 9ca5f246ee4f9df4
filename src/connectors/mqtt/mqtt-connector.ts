import '../../library-patches/debug.js'
import { isIP } from 'node:net'
import { connect as mqttConnect, type IClientOptions, type IConnackPacket, type IDisconnectPacket, type MqttClient, type Packet } from 'mqtt'
import {
  ConnectorError, ProbeRun, asksForProperties, resolveHost, tcpConnect, tlsHandshake, tlsOptions,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { BrokerDisconnectError, ClosedBeforeConnackError, classifyMqttError, type MqttPhase } from './classify-error.js'
import type { MqttConfig, MqttParams } from './config-schema.js'
import { MqttChannel, type OutgoingMessage, type Publisher } from './mqtt-channel.js'
import { parseServer, type ServerAddress } from './server-address.js'

/** How long `stop()` waits for a polite DISCONNECT before dropping the socket. */
const STOP_WAIT_MS = 2_000
/** The same after a Test. */
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
  private slots: InflightSlots | undefined
  private stopped = false
  /** Why the running connection closed (set once it has). */
  private lost: ConnectorError | undefined
  /** The last error (or broker DISCONNECT) seen on the running connection: the reason when it closes. */
  private lastError: unknown
  /** Sends waiting for an acknowledgement; told when the connection closes. */
  private readonly waiting = new Set<(err: ConnectorError) => void>()

  constructor(private readonly config: MqttConfig, private readonly ctx: ConnectorContext) {
    this.server = parseServer(config.server, config.tls.enable)
    this.clientId = config.clientId ?? `junction-${ctx.connectorId}`
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const c = this.config
    const run = new ProbeRun()
    // Never the running connector's client ID: connecting with it would take its connection over.
    const probeId = `${this.clientId}-probe`
    let client: MqttClient | undefined
    try {
      if (signal.aborted) throw this.cancelled()
      const address = await run.step('resolve', () => this.guard(resolveHost(this.server.host, signal), signal), (a) => a)
      await run.step('connect', () => this.guard(tcpConnect(address, this.server.port, c.connectTimeoutMs, signal), signal),
        () => `${address}:${this.server.port}`)
      if (c.tls.enable) {
        await run.step('tls', () => this.tlsHandshake(address, signal), (d) => d)
      }
      await run.step('authenticate', () => {
        client = this.newClient(probeId)
        return this.waitConnected(client, probeId, signal)
      }, (connack) => this.describeSession(connack, probeId))
      return run.succeed()
    } catch (err) {
      return run.fail(this.classify(err, 'connect', signal, probeId))
    } finally {
      if (client) {
        const closing = closeClient(client, PROBE_CLOSE_WAIT_MS)
        if (!signal.aborted) await closing
      }
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.client) return
    if (this.stopped) throw new ConnectorError('CONNECTION_FAILED', 'This connector instance was stopped', { hint: 'Start a new instance.' })
    let client: MqttClient
    try {
      client = this.newClient(this.clientId)
    } catch (err) {
      throw this.classify(err, 'connect', signal, this.clientId)
    }
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
      throw this.classify(err, 'connect', signal, this.clientId)
    }
    this.lastError = undefined
    this.slots = new InflightSlots(this.connack.properties?.receiveMaximum ?? MAX_INFLIGHT)
    if (!client.connected) this.closed(client) // closed between CONNACK and now
    this.ctx.logger.debug('MQTT connection up', { server: this.server.address, clientId: this.clientId, protocolVersion: this.config.protocolVersion })
  }

  async health(signal: AbortSignal): Promise<Health> {
    const client = this.client
    if (this.stopped || !client) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    if (!client.connected) {
      const e = this.lost ?? this.lostError()
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
    try {
      await this.ping(client, signal)
      return { status: 'connected' }
    } catch (err) {
      const e = this.classify(err, 'connection', signal, this.clientId)
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    this.failWaiting(new ConnectorError('CONNECTION_LOST', 'The connector was stopped before the broker acknowledged the message', {
      hint: 'The message is retried on the next connection.',
    }))
    if (client) await closeClient(client, STOP_WAIT_MS)
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

  assertConnected(): void {
    if (!this.client?.connected) throw this.notConnected()
  }

  async publish(m: OutgoingMessage, signal: AbortSignal): Promise<void> {
    this.assertConnected()
    if (signal.aborted) throw this.sendTimedOut()
    const slots = this.slots
    // The broker's Receive Maximum: more unacknowledged QoS 1/2 publishes would be a protocol error.
    if (m.qos > 0 && slots) await slots.acquire(signal, () => this.sendTimedOut(), this.waiting)
    const client = this.client
    if (!client?.connected) {
      if (m.qos > 0) slots?.release()
      throw this.notConnected()
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const settle = (err?: ConnectorError) => {
        if (settled) return
        settled = true
        this.waiting.delete(onLost)
        signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onLost = (err: ConnectorError) => settle(err)
      // The message stays in flight at the broker; only this wait ends (the runtime may retry it).
      const onAbort = () => settle(this.sendTimedOut())
      this.waiting.add(onLost)
      signal.addEventListener('abort', onAbort, { once: true })
      client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain, ...(m.properties ? { properties: m.properties } : {}) }, (err) => {
        if (m.qos > 0) slots?.release()
        settle(err ? this.classify(err, 'publish', undefined, this.clientId) : undefined)
      })
    })
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

  /** Resolves with the CONNACK, or rejects with the first error, an early close or the abort. */
  private waitConnected(client: MqttClient, clientId: string, signal: AbortSignal): Promise<IConnackPacket> {
    return new Promise((resolve, reject) => {
      const finish = (err: unknown, connack?: IConnackPacket) => {
        client.off('connect', onConnect)
        client.off('error', onError)
        client.off('close', onClose)
        signal.removeEventListener('abort', onAbort)
        if (connack) return resolve(connack)
        client.end(true)
        reject(this.classify(err, 'connect', signal, clientId))
      }
      const onConnect = (connack: IConnackPacket) => finish(undefined, connack)
      const onError = (err: Error) => finish(err)
      const onClose = () => finish(new ClosedBeforeConnackError())
      const onAbort = () => finish(this.cancelled())
      client.once('connect', onConnect)
      client.on('error', onError)
      client.on('close', onClose)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** The running connection closed: remember why, fail what waits on it. */
  private closed(client: MqttClient): void {
    if (this.client !== client || this.lost) return
    if (!this.connack) return // still connecting: waitConnected reports it
    const e = this.lostError()
    this.lost = e
    this.failWaiting(e)
    if (!this.stopped) this.ctx.logger.warn('MQTT connection lost', { code: e.code, reason: e.message })
  }

  private lostError(): ConnectorError {
    const e = this.classify(this.lastError ?? new Error('Connection closed'), 'connection', undefined, this.clientId)
    // Whatever closed it, a send on this connection can only wait for the next one.
    return e.kind === 'not_connected' ? e : new ConnectorError(e.code, e.message, { kind: 'not_connected', ...(e.hint ? { hint: e.hint } : {}), cause: e })
  }

  private failWaiting(err: ConnectorError): void {
    const waiting = [...this.waiting]
    this.waiting.clear()
    for (const fail of waiting) fail(err)
  }

  /** One PINGREQ/PINGRESP round trip, bounded by connectTimeoutMs and the signal. */
  private ping(client: MqttClient, signal: AbortSignal): Promise<void> {
    const ms = this.config.connectTimeoutMs
    return new Promise((resolve, reject) => {
      const finish = (err?: unknown) => {
        clearTimeout(timer)
        client.off('packetreceive', onPacket)
        client.off('close', onClose)
        signal.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(err)
      }
      const onPacket = (packet: Packet) => { if (packet.cmd === 'pingresp') finish() }
      const onClose = () => finish(this.lost ?? this.lostError())
      const onAbort = () => finish(this.pingTimedOut(ms))
      const timer = setTimeout(() => finish(this.pingTimedOut(ms)), ms)
      client.on('packetreceive', onPacket)
      client.on('close', onClose)
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      client.sendPing()
    })
  }

  /** The `tls` step: a TLS handshake with the connector's TLS settings on a connection of its own. */
  private tlsHandshake(address: string, signal: AbortSignal): Promise<string> {
    const c = this.config
    return tlsHandshake({
      host: address, port: this.server.port, servername: c.tls.serverName ?? (isIP(this.server.host) === 0 ? this.server.host : undefined),
      options: tlsOptions(c.tls) ?? {}, verify: c.tls.verify, timeoutMs: c.connectTimeoutMs, signal, onAbort: () => this.cancelled(),
    }).catch((err: unknown) => { throw this.classify(err, 'tls', signal, this.clientId) })
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

  /** `work`, or a TIMEOUT as soon as `signal` aborts. */
  private guard<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.cancelled())
      work.then(
        (v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
        (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err) },
      )
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private classify(err: unknown, phase: MqttPhase, signal: AbortSignal | undefined, clientId: string): ConnectorError {
    if (err instanceof ConnectorError) return err
    if (signal?.aborted) return this.cancelled()
    return classifyMqttError(err, { target: this.server.address, phase, tls: this.config.tls.enable, clientId, username: this.config.username })
  }

  private notConnected(): ConnectorError {
    const why = this.lost
    return new ConnectorError(why?.code ?? 'CONNECTION_LOST', `Not connected to ${this.server.address}${why ? `: ${why.message}` : ''}`, {
      kind: 'not_connected', hint: 'The message waits in Junction\'s queue until the connection is back.',
    })
  }

  private cancelled(): ConnectorError {
    return new ConnectorError('TIMEOUT', `Gave up waiting for ${this.server.address}: the operation was cancelled or ran out of time`, {
      hint: 'Check that the broker is reachable and answers quickly, or allow more time.',
    })
  }

  private pingTimedOut(ms: number): ConnectorError {
    return new ConnectorError('TIMEOUT', `${this.server.address} did not answer a ping (PINGREQ) within ${ms} ms`, {
      hint: 'The broker is hung or the network drops packets; Junction reconnects.',
    })
  }

  private sendTimedOut(): ConnectorError {
    return new ConnectorError('TIMEOUT', `${this.server.address} did not acknowledge the message in time`, {
      kind: 'retryable', hint: 'The broker is slow or overloaded; the message is retried, and may arrive twice (at-least-once).',
    })
  }
}

/**
 * Counts unacknowledged QoS 1/2 publishes against the broker's Receive Maximum; a publish over it
 * waits for a slot (bounded by its signal and the runtime's inflight window, never queued here).
 */
class InflightSlots {
  private used = 0
  private readonly queue: Array<() => void> = []

  constructor(private readonly max: number) {}

  acquire(signal: AbortSignal, timedOut: () => ConnectorError, lost: Set<(err: ConnectorError) => void>): Promise<void> {
    if (this.used < this.max) {
      this.used++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const wake = () => {
        cleanup()
        resolve()
      }
      const onAbort = () => {
        const i = this.queue.indexOf(wake)
        if (i >= 0) this.queue.splice(i, 1)
        cleanup()
        reject(timedOut())
      }
      const onLost = (err: ConnectorError) => {
        const i = this.queue.indexOf(wake)
        if (i >= 0) this.queue.splice(i, 1)
        cleanup()
        reject(err)
      }
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort)
        lost.delete(onLost)
      }
      this.queue.push(wake)
      lost.add(onLost)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Hands the slot to the next waiting publish, or frees it. */
  release(): void {
    const next = this.queue.shift()
    if (next) next()
    else this.used = Math.max(0, this.used - 1)
  }
}

/** Ends a client: a DISCONNECT when it is connected and idle, else the socket is dropped; bounded by `waitMs`. */
function closeClient(client: MqttClient, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      client.stream?.destroy()
      finish()
    }, waitMs)
    const polite = client.connected && Object.keys(client.outgoing).length === 0
    try {
      client.end(!polite, () => finish())
    } catch {
      client.stream?.destroy()
      finish()
    }
  })
}
