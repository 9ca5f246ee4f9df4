import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib'
import { checkHealth, ConnectorError, deadline, NOT_STARTED, notStarted, probeConnection, settleWithin, timedOut, tlsOptions, toConnectorError, untilAborted } from '../../connector-api/index.js'
import type { Channel, Connector, ConnectorContext, Health, ProbeResult } from '../../connector-api/index.js'
import { classifyAmqpError } from './classify-error.js'
import type { RabbitmqConfig, RabbitmqParams } from './config-schema.js'
import { RabbitmqChannel, type AmqpSession } from './rabbitmq-channel.js'

/**
 * A RabbitMQ connector: one AMQP connection between `start` and `stop`; each action publishes
 * over confirm channels of its own on it. The connection never reconnects by itself: when it
 * closes, health says so and the runtime builds a new instance.
 */
export class RabbitmqConnector implements Connector<RabbitmqParams>, AmqpSession {
  readonly target: string
  private model: ChannelModel | undefined
  private lost: ConnectorError | undefined
  private stopped = false

  constructor(private readonly config: RabbitmqConfig, private readonly ctx: ConnectorContext) {
    this.target = `${config.server}:${config.port}`
  }

  private readonly classifyAmqp = (err: unknown): ConnectorError | undefined => classifyAmqpError(err, this.target, this.config.virtualHost)
  classify = (err: unknown, signal?: AbortSignal): ConnectorError => toConnectorError(err, this.target, { signal, classify: this.classifyAmqp })

  /** Opens an AMQP connection (TCP, TLS, login, vhost) bounded by `signal`; a connection that opens too late is closed. */
  private open(signal: AbortSignal): Promise<ChannelModel> {
    const c = this.config
    const address = { protocol: c.tls.enable ? 'amqps' : 'amqp', hostname: c.server, port: c.port, vhost: c.virtualHost, heartbeat: Math.ceil(c.heartbeatMs / 1000) }
    const socket = { timeout: c.connectTimeoutMs, noDelay: true, clientProperties: { connection_name: `junction-${this.ctx.connectorId}` }, ...tlsOptions(c.tls) }
    const opening = connect({ ...address, username: c.username, password: c.password ?? '' }, socket)
    // A reset during the handshake means what a close does (a TLS-only port, a refusing server); RabbitMQ does either.
    const reset = (err: { code?: unknown }) => { throw err?.code === 'ECONNRESET' ? new Error('Socket closed abruptly during opening handshake', { cause: err }) : err }
    return bounded(opening, signal, this.target).catch(reset)
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    let model: ChannelModel | undefined
    return probeConnection({
      host: this.config.server, port: this.config.port, timeoutMs: this.config.connectTimeoutMs, tls: this.config.tls,
      classify: this.classifyAmqp,
      steps: [
        {
          name: 'authenticate',
          run: async (bound) => {
            model = await this.open(bound)
            model.on('error', () => {})
            const server = model.connection.serverProperties
            return `${String(server.product ?? 'AMQP server')} ${String(server.version ?? '')}, virtual host "${this.config.virtualHost}"`
          },
        },
        {
          name: 'authorize',
          run: async (bound) => {
            await (await bounded(model!.createConfirmChannel(), bound, this.target)).close()
            return 'confirm channel opened'
          },
        },
      ],
      cleanup: () => model?.close(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.stopped) throw new ConnectorError('CONNECTION_FAILED', 'This connector instance was stopped', { hint: 'Start a new instance.' })
    const model = await this.open(deadline(signal, this.config.connectTimeoutMs)).catch((err: unknown) => { throw this.classify(err, signal) })
    if (this.stopped) {
      await model.close().catch(() => {})
      throw new ConnectorError('CONNECTION_FAILED', 'Stopped while connecting', { hint: 'Start a new instance.' })
    }
    let lastError: unknown
    model.on('error', (err: unknown) => { lastError = err })
    model.on('close', (err?: unknown) => {
      if (this.model !== model) return
      this.model = undefined
      this.lost = this.classify(err ?? lastError ?? new Error('Connection closed'))
      this.ctx.logger.warn('RabbitMQ connection closed', { code: this.lost.code, reason: this.lost.message })
    })
    model.on('blocked', (reason: string) => this.ctx.logger.warn('RabbitMQ blocks publishing (resource alarm)', { reason }))
    this.model = model
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const model = this.model
    this.model = undefined
    this.lost ??= new ConnectorError('CONNECTION_LOST', 'The connector was stopped', { hint: 'Start it again.' })
    // Without a polite close-ok in time the socket is left to amqplib's heartbeat to end.
    if (model) await settleWithin(model.close().catch(() => {}), signal)
  }

  async health(signal: AbortSignal): Promise<Health> {
    const model = this.model
    if (!model) return this.lost ? { status: 'disconnected', code: this.lost.code, reason: this.lost.message } : NOT_STARTED
    // A channel open and close: two round trips through the broker's connection and channel processes.
    return checkHealth(signal, { timeoutMs: this.config.connectTimeoutMs, target: this.target, classify: this.classifyAmqp },
      async (bound) => (await bounded(model.createChannel(), bound, this.target)).close())
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    if (!this.model) {
      if (!this.lost) throw notStarted('Junction reconnects.')
      throw new ConnectorError(this.lost.code, this.lost.message, { kind: 'not_connected', hint: this.lost.hint ?? 'Junction reconnects.' })
    }
    return this.model.createConfirmChannel().catch((err: unknown) => { throw this.classify(err) })
  }

  async openChannel(params: RabbitmqParams): Promise<Channel> {
    const channel = new RabbitmqChannel(this, params, this.config.poolSize)
    await channel.open(AbortSignal.timeout(this.config.connectTimeoutMs))
    return channel
  }
}

/** `opening` until `signal` aborts (TIMEOUT); what it opens after that is closed. */
function bounded<T extends { close(): Promise<void> }>(opening: Promise<T>, signal: AbortSignal, target: string): Promise<T> {
  return untilAborted(opening, signal, () => timedOut(target), () => opening.then((x) => x.close()))
}
