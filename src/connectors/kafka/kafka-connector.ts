import { Kafka, type Admin } from 'kafkajs'
import {
  ConnectorError, TemplateError, errorMessage, probeConnection, settleWithin,
  type ActionCheckNote, type Channel, type Connector, type ConnectorContext, type Health, type HostPort, type ProbeResult,
} from '../../connector-api/index.js'
import { classifyKafkaError, toKafkaError, type KafkaPhase } from './classify-error.js'
import type { KafkaConfig, KafkaParams } from './config-schema.js'
import { KafkaChannel, type KafkaChannelHost } from './kafka-channel.js'
import { InThreadKafkaClient, NO_RETRY, clientConfig, closeQuietly, describe, notConnected, parseBootstrapServers, type KafkaClient, type KafkaLogSink, type TopicInfo } from './kafka-client.js'
import { WorkerKafkaClient } from './worker-client.js'

/**
 * A Kafka producer connection (kafkajs). `start` connects an admin client (used for health
 * checks) and a producer; `health` does a metadata round trip on the admin client and replaces it
 * after a failure, so a broker that comes back is noticed on the next check. With
 * `producer.workerThread` (the default) both clients live in a worker thread of this instance
 * (worker-client.ts), otherwise on the calling thread; the probe always runs here.
 */
export class KafkaConnector implements Connector<KafkaParams>, KafkaChannelHost {
  private readonly servers: readonly HostPort[]
  private kafkaClient: KafkaClient | undefined
  /** start() succeeded: channels may write. */
  private started = false
  private stopped = false
  private closing: Promise<void> | undefined

  constructor(readonly config: KafkaConfig, private readonly ctx: ConnectorContext) {
    this.servers = parseBootstrapServers(config.bootstrapServers)
  }

  /**
   * The kit's recipe on the bootstrap servers in order: a server that does not accept the TCP
   * connection is skipped for the next one (a bootstrap list is there for brokers that are down);
   * the first one's failure is reported when none accepts.
   */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    let first: ProbeResult | undefined
    for (const server of this.servers) {
      const r = await this.probeServer(server, signal)
      const unreachable = !r.ok && r.steps.at(-1)?.name === 'connect'
      if (!unreachable || signal.aborted) return r
      first ??= r
    }
    return first!
  }

  async start(signal: AbortSignal): Promise<void> {
    const client = this.config.producer.workerThread
      ? new WorkerKafkaClient(this.config, this.forwardLog, this.ctx.logger)
      : new InThreadKafkaClient(this.config, this.forwardLog)
    this.kafkaClient = client
    try {
      await client.start(signal)
      this.started = true
    } catch (err) {
      const e = this.toError(err, 'handshake', signal)
      await this.stop(signal)
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
      const e = this.toError(err, 'request', signal)
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

  /**
   * On a rule's save: a fixed topic (a templated one names its topic per message) must exist,
   * unless the brokers create topics on first write, which is only noted. Asked on the admin
   * client, which never creates a topic. A refusal names `topic`.
   */
  async checkAction(params: KafkaParams, signal: AbortSignal): Promise<readonly ActionCheckNote[]> {
    try {
      new KafkaChannel(params, this) // templates and the topic name, as openChannel checks them
    } catch (err) {
      if (err instanceof ConnectorError) throw new ConnectorError(err.code, err.message, { kind: err.kind, ...(err.hint ? { hint: err.hint } : {}), param: 'topic' })
      if (err instanceof TemplateError) throw new ConnectorError('INVALID_PARAMS', `Invalid template in the action: ${errorMessage(err)}`, { kind: 'permanent', hint: 'Placeholders look like ${payload.temp} or ${tags[1]}.' })
      throw err
    }
    if (params.topic.includes('${')) return []
    let info
    try {
      info = await this.client().topic(params.topic, signal)
    } catch (err) {
      throw err instanceof ConnectorError ? err : this.toError(err, 'request', signal)
    }
    return topicVerdict(params.topic, info, this.config.bootstrapServers)
  }

  // --- KafkaChannelHost (used by channels) ---

  client(): KafkaClient {
    const client = this.kafkaClient
    if (this.stopped || !this.started || !client) throw notConnected()
    return client
  }

  classifyError(err: unknown): ConnectorError {
    return this.toError(err, 'request')
  }

  /**
   * Disconnects the clients and ends the worker thread (at most CLOSE_TIMEOUT_MS, plus a second
   * for the worker), sooner when `signal` aborts: the worker is then terminated, which drops its
   * sockets. Every call waits for the same close.
   */
  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const client = this.kafkaClient
    this.kafkaClient = undefined
    this.closing ??= client?.close(signal) ?? Promise.resolve()
    await settleWithin(this.closing, signal)
  }

  /** resolve, connect and tls by the kit on one bootstrap server; then kafkajs: Kafka and SASL handshake, Metadata. */
  private probeServer(server: HostPort, signal: AbortSignal): Promise<ProbeResult> {
    const { connectTimeoutMs, requestTimeoutMs, tls } = this.config
    const ctx = { target: server.address, tls: tls.enable, mechanism: this.config.authentication.mechanism }
    // kafkajs bounds each of these by its own connection, authentication and request timeouts.
    const timeoutMs = connectTimeoutMs + requestTimeoutMs
    let admin: Admin | undefined
    return probeConnection({
      host: server.host,
      port: server.port,
      timeoutMs: connectTimeoutMs,
      tls,
      classify: (err) => classifyKafkaError(err, { ...ctx, phase: 'handshake' }),
      steps: [
        {
          name: 'authenticate', timeoutMs, run: async () => {
            admin = new Kafka(clientConfig(this.config, [server.address])).admin({ retry: NO_RETRY })
            await admin.connect()
            return this.authDetail()
          },
        },
        {
          name: 'metadata', timeoutMs, run: async () => {
            try {
              const c = await describe(admin!)
              return `${c.brokers.length} broker(s), controller ${c.controller ?? 'none'}`
            } catch (err) {
              // The brokers the metadata advertises may not be the bootstrap address: another hint.
              throw toKafkaError(err, { ...ctx, phase: 'metadata' })
            }
          },
        },
      ],
      // kafkajs's disconnect waits for requests in flight; after an abort, let it finish alone.
      cleanup: () => {
        const closing = admin && closeQuietly(admin.disconnect())
        return signal.aborted ? undefined : closing
      },
    }, signal)
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

  private toError(err: unknown, phase: KafkaPhase, signal?: AbortSignal): ConnectorError {
    const { bootstrapServers, tls, authentication } = this.config
    return toKafkaError(err, { target: bootstrapServers, phase, tls: tls.enable, mechanism: authentication.mechanism }, signal)
  }
}

/**
 * What a check makes of a fixed topic: it exists (nothing to say); missing where the brokers
 * create topics on first write (a note: it will have the brokers' default partitions and
 * settings) or may (they would not say); missing with auto-creation off (refused: every write
 * would fail TOPIC_NOT_FOUND).
 */
export function topicVerdict(topic: string, info: TopicInfo, target: string): ActionCheckNote[] {
  if (info.exists) return []
  if (info.autoCreate === false) {
    throw new ConnectorError('TOPIC_NOT_FOUND', `Topic "${topic}" does not exist on ${target}, and the brokers do not create topics (auto.create.topics.enable is false)`, {
      kind: 'permanent', param: 'topic', hint: 'Create the topic first, or fix its name.',
    })
  }
  const how = info.autoCreate ? 'the brokers create it on the first write (auto.create.topics.enable)' : 'the brokers would not say whether they create topics (no permission to describe their configs); if they do not, every write fails TOPIC_NOT_FOUND'
  return [{ param: 'topic', message: `Topic "${topic}" does not exist yet: ${how}, with their default partitions and settings.` }]
}
