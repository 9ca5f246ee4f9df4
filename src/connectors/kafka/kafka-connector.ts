import { Kafka, type Admin } from 'kafkajs'
import {
  ConnectorError, ProbeRun, TemplateError, errorMessage, resolveHost, tcpConnect, tlsHandshake, tlsOptions,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { parseBootstrapServers, type BootstrapServer } from './bootstrap-servers.js'
import { classifyKafkaError, type KafkaPhase } from './classify-error.js'
import type { KafkaConfig, KafkaParams } from './config-schema.js'
import { KafkaChannel, type KafkaChannelHost } from './kafka-channel.js'
import {
  InThreadKafkaClient, NO_RETRY, bounded, cancelled, clientConfig, closeQuietly, describe, notConnected,
  type KafkaClient, type KafkaLogSink,
} from './kafka-client.js'
import { WorkerKafkaClient } from './worker-client.js'

/**
 * A Kafka producer connection (kafkajs). `start` connects an admin client (used for health
 * checks) and a producer; `health` does a metadata round trip on the admin client and replaces it
 * after a failure, so a broker that comes back is noticed on the next check. With
 * `producer.workerThread` (the default) both clients live in a worker thread of this instance
 * (worker-client.ts), otherwise on the calling thread; the probe always runs here.
 */
export class KafkaConnector implements Connector<KafkaParams>, KafkaChannelHost {
  private readonly servers: readonly BootstrapServer[]
  private kafkaClient: KafkaClient | undefined
  /** start() succeeded: channels may write. */
  private started = false
  private stopped = false
  private stopping: Promise<void> | undefined

  constructor(readonly config: KafkaConfig, private readonly ctx: ConnectorContext) {
    this.servers = parseBootstrapServers(config.bootstrapServers)
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const run = new ProbeRun()
    let admin: Admin | undefined
    try {
      if (signal.aborted) throw cancelled()

      await run.step('resolve', async () => {
        const results = await Promise.allSettled(this.servers.map((s) => resolveHost(s.host, signal)))
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
        if (failed) throw this.classify(failed.reason, 'handshake', this.config.bootstrapServers, signal)
        return results.map((r, i) => `${this.servers[i]?.host} -> ${(r as PromiseFulfilledResult<string>).value}`)
      }, (lines) => lines.join(', '))

      const server = await run.step('connect', () => this.firstReachable(signal), (s) => s.address)

      if (this.config.tls.enable) {
        await run.step('tls', () => this.tlsHandshake(server, signal), (d) => d)
      }

      admin = new Kafka(clientConfig(this.config, [server.address])).admin({ retry: NO_RETRY })
      const connecting = admin
      await run.step('authenticate', async () => {
        try {
          await bounded(connecting.connect(), signal)
        } catch (err) {
          throw this.classify(err, 'handshake', server.address, signal)
        }
      }, () => this.authDetail())

      await run.step('metadata', async () => {
        try {
          return await describe(connecting, signal)
        } catch (err) {
          throw this.classify(err, 'metadata', server.address, signal)
        }
      }, (c) => `${c.brokers.length} broker(s), controller ${c.controller ?? 'none'}`)

      return run.succeed()
    } catch (err) {
      return run.fail(this.classify(err, 'handshake', this.config.bootstrapServers, signal))
    } finally {
      // kafkajs's disconnect waits for requests in flight; after an abort, let it finish alone.
      if (admin) {
        const closing = closeQuietly(admin)
        if (!signal.aborted) await closing
      }
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    try {
      const client = this.config.producer.workerThread
        ? new WorkerKafkaClient(this.config, this.forwardLog, this.ctx.logger)
        : new InThreadKafkaClient(this.config, this.forwardLog)
      this.kafkaClient = client
      await client.start(signal)
      this.started = true
    } catch (err) {
      const e = this.classify(err, 'handshake', this.config.bootstrapServers, signal)
      const stopping = this.stop()
      if (!signal.aborted) await stopping
      throw e
    }
  }

  async health(signal: AbortSignal): Promise<Health> {
    const client = this.kafkaClient
    if (this.stopped || !client) {
      return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    }
    try {
      await client.health(signal)
      return { status: 'connected' }
    } catch (err) {
      const e = this.classify(err, 'request', this.config.bootstrapServers, signal)
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  /**
   * A channel for one rule action: compiles its templates (no I/O). Topic existence and write
   * permission are reported by the first write (`TOPIC_NOT_FOUND`, `NOT_PERMITTED`, permanent):
   * a topic may be a template, and a metadata request could create it on brokers that
   * auto-create topics.
   */
  async openChannel(params: KafkaParams): Promise<Channel> {
    if (this.stopped || !this.started) throw notConnected()
    try {
      return new KafkaChannel(params, this)
    } catch (err) {
      if (err instanceof TemplateError) {
        throw new ConnectorError('INVALID_PARAMS', `Invalid template in the action: ${errorMessage(err)}`, {
          kind: 'permanent', hint: 'Placeholders look like ${payload.temp} or ${tags[1]}.',
        })
      }
      throw err
    }
  }

  // --- KafkaChannelHost (used by channels) ---

  client(): KafkaClient {
    const client = this.kafkaClient
    if (this.stopped || !this.started || !client) throw notConnected()
    return client
  }

  classifyError(err: unknown): ConnectorError {
    return classifyKafkaError(err, { target: this.config.bootstrapServers, phase: 'request', tls: this.config.tls.enable, mechanism: this.config.authentication.mechanism })
  }

  /**
   * Disconnects the clients and ends the worker thread (at most CLOSE_TIMEOUT_MS, plus a second
   * for the worker). Every call waits for the same close: a stop after a failed start (which
   * stopped already) returns once everything is closed.
   */
  stop(): Promise<void> {
    this.stopped = true
    return (this.stopping ??= (async () => {
      const client = this.kafkaClient
      this.kafkaClient = undefined
      await client?.close()
    })())
  }

  /** The first bootstrap server that accepts a TCP connection, trying them in order. */
  private async firstReachable(signal: AbortSignal): Promise<BootstrapServer> {
    let firstError: unknown
    for (const s of this.servers) {
      try {
        await tcpConnect(s.host, s.port, this.config.connectTimeoutMs, signal)
        return s
      } catch (err) {
        firstError ??= err
        if (signal.aborted) break
      }
    }
    throw this.classify(firstError, 'handshake', this.config.bootstrapServers, signal)
  }

  /** The `tls` step: a TLS handshake with the same options kafkajs will use, closed at once. */
  private tlsHandshake(server: BootstrapServer, signal: AbortSignal): Promise<string> {
    return tlsHandshake({
      host: server.host, port: server.port, servername: this.config.tls.serverName, options: tlsOptions(this.config.tls) ?? {},
      verify: this.config.tls.verify, timeoutMs: this.config.connectTimeoutMs, signal, onAbort: cancelled,
    }).catch((err: unknown) => { throw this.classify(err, 'handshake', server.address, signal) })
  }


  /** kafkajs warnings and errors (message, namespace, broker; never the config), de-duplicated by the client. */
  private readonly forwardLog: KafkaLogSink = (level, message, data) => {
    if (level === 'error') this.ctx.logger.error(message, data)
    else this.ctx.logger.warn(message, data)
  }

  private authDetail(): string {
    const a = this.config.authentication
    return a.mechanism === 'none' ? 'no SASL (mechanism none)' : `SASL ${a.mechanism.toUpperCase()} as ${a.username ?? ''}`
  }

  private classify(err: unknown, phase: KafkaPhase, target: string, signal: AbortSignal): ConnectorError {
    if (err instanceof ConnectorError) return err
    if (signal.aborted) return cancelled()
    return classifyKafkaError(err, { target, phase, tls: this.config.tls.enable, mechanism: this.config.authentication.mechanism })
  }
}
