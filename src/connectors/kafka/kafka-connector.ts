import { isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Kafka, logLevel, type Admin, type KafkaConfig as KafkajsConfig, type logCreator, type Producer, type SASLOptions } from 'kafkajs'
import {
  ConnectorError, ProbeRun, TemplateError, errorMessage, resolveHost, tcpConnect, tlsOptions,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { parseBootstrapServers, type BootstrapServer } from './bootstrap-servers.js'
import { classifyKafkaError, type KafkaPhase } from './classify-error.js'
import type { KafkaConfig, KafkaParams } from './config-schema.js'
import { KafkaChannel, type KafkaChannelHost } from './kafka-channel.js'
import { junctionPartitioner } from './partitioner.js'

/**
 * Producer retries inside kafkajs, for a broker that changes leaders or restarts during a write.
 * The runtime retries failed deliveries on top, so these stay short.
 */
const PRODUCER_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 }
/** The admin client (connect check, health) never retries: one attempt, one answer. */
const NO_RETRY = { retries: 0 }
/** A kafkajs log message repeated within this time is not forwarded again. */
const LOG_REPEAT_MS = 30_000
/** How long closing a client may take in stop() and after a probe. */
const CLOSE_TIMEOUT_MS = 5_000

/** The admin client that health checks use, and whether it has connected. */
interface AdminSlot {
  readonly admin: Admin
  connected: boolean
}

/**
 * A Kafka producer connection (kafkajs). `start` connects an admin client (used for health
 * checks) and a producer; `health` does a metadata round trip on the admin client and replaces it
 * after a failure, so a broker that comes back is noticed on the next check.
 */
export class KafkaConnector implements Connector<KafkaParams>, KafkaChannelHost {
  private readonly servers: readonly BootstrapServer[]
  private kafka: Kafka | undefined
  private adminSlot: AdminSlot | undefined
  private producerClient: Producer | undefined
  private stopped = false

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

      admin = new Kafka(this.clientConfig([server.address], true)).admin({ retry: NO_RETRY })
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
    const kafka = new Kafka(this.clientConfig(this.servers.map((s) => s.address), false))
    this.kafka = kafka
    const slot: AdminSlot = { admin: kafka.admin({ retry: NO_RETRY }), connected: false }
    this.adminSlot = slot
    try {
      // The admin client connects first and without retries, so a wrong address fails fast.
      await bounded(slot.admin.connect(), signal)
      slot.connected = true
      const idempotent = this.config.producer.idempotent
      const producer = kafka.producer({
        idempotent,
        allowAutoTopicCreation: true,
        retry: PRODUCER_RETRY,
        // Murmur2 on the key, like the Java client (the same key lands on the same partition),
        // or the action's random / round_robin choice.
        createPartitioner: junctionPartitioner,
        ...(idempotent ? { maxInFlightRequests: 1 } : {}),
      })
      this.producerClient = producer
      await bounded(producer.connect(), signal)
    } catch (err) {
      const e = this.classify(err, 'handshake', this.config.bootstrapServers, signal)
      const stopping = this.stop()
      if (!signal.aborted) await stopping
      throw e
    }
  }

  async health(signal: AbortSignal): Promise<Health> {
    const kafka = this.kafka
    if (this.stopped || !kafka) {
      return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    }
    // A fresh admin client after a failed check: kafkajs keeps stale broker state otherwise.
    const slot = this.adminSlot ?? (this.adminSlot = { admin: kafka.admin({ retry: NO_RETRY }), connected: false })
    try {
      await bounded((async () => {
        if (!slot.connected) {
          await slot.admin.connect()
          slot.connected = true
        }
        await describe(slot.admin, signal)
      })(), signal, this.config.requestTimeoutMs)
      return { status: 'connected' }
    } catch (err) {
      const e = this.classify(err, 'request', this.config.bootstrapServers, signal)
      if (this.adminSlot === slot) this.adminSlot = undefined
      void closeQuietly(slot.admin)
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
    if (this.stopped || !this.producerClient) throw this.notConnected()
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

  producer(): Producer {
    const producer = this.producerClient
    if (this.stopped || !producer) throw this.notConnected()
    return producer
  }

  classifyError(err: unknown): ConnectorError {
    return classifyKafkaError(err, { target: this.config.bootstrapServers, phase: 'request', tls: this.config.tls.enable, mechanism: this.config.authentication.mechanism })
  }

  private notConnected(): ConnectorError {
    return new ConnectorError('CONNECTION_LOST', 'The Kafka connector is not started', { kind: 'not_connected', hint: 'Junction reconnects it.' })
  }

  async stop(): Promise<void> {
    this.stopped = true
    const producer = this.producerClient
    const slot = this.adminSlot
    this.producerClient = undefined
    this.adminSlot = undefined
    this.kafka = undefined
    await Promise.all([producer && closeQuietly(producer), slot && closeQuietly(slot.admin)])
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
    const options = tlsOptions(this.config.tls) ?? {}
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: server.host,
        port: server.port,
        ...(isIP(server.host) ? {} : { servername: server.host }),
        ...options,
      })
      let settled = false
      const done = (err: unknown, detail?: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        if (err === undefined) resolve(detail ?? '')
        else reject(this.classify(err, 'handshake', server.address, signal))
      }
      const onAbort = () => done(cancelled())
      const timer = setTimeout(() => done(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), this.config.connectTimeoutMs)
      signal.addEventListener('abort', onAbort, { once: true })
      socket.once('secureConnect', () => {
        const verified = this.config.tls.verify ? 'certificate verified' : 'certificate not verified (verify is off)'
        done(undefined, `${socket.getProtocol() ?? 'TLS'}, ${verified}`)
      })
      socket.on('error', (err) => done(err))
    })
  }

  private clientConfig(brokers: string[], forProbe: boolean): KafkajsConfig {
    const c = this.config
    const ssl = tlsOptions(c.tls)
    const sasl = saslOptions(c.authentication)
    return {
      clientId: c.clientId,
      brokers,
      ...(ssl ? { ssl } : {}),
      ...(sasl ? { sasl } : {}),
      connectionTimeout: c.connectTimeoutMs,
      authenticationTimeout: c.connectTimeoutMs,
      requestTimeout: c.requestTimeoutMs,
      enforceRequestTimeout: true,
      retry: NO_RETRY,
      // The probe reports its failures in its result; started clients forward warnings and errors.
      logLevel: forProbe ? logLevel.NOTHING : logLevel.WARN,
      ...(forProbe ? {} : { logCreator: this.logCreator }),
    }
  }

  /** When each kafkajs message was last forwarded. */
  private readonly logged = new Map<string, number>()

  /**
   * Forwards kafkajs warnings and errors: the message and a few safe fields, never the config.
   * The same message again within LOG_REPEAT_MS is dropped (a dead broker repeats itself).
   */
  private readonly logCreator: logCreator = () => ({ namespace, level, log }) => {
    if (level !== logLevel.ERROR && level !== logLevel.WARN) return
    const now = Date.now()
    const last = this.logged.get(log.message)
    if (last !== undefined && now - last < LOG_REPEAT_MS) return
    if (this.logged.size >= 100) this.logged.clear()
    this.logged.set(log.message, now)
    const data: Record<string, unknown> = { source: 'kafkajs', namespace }
    if (typeof log.broker === 'string') data.broker = log.broker
    if (typeof log.error === 'string') data.error = log.error
    if (typeof log.retryCount === 'number') data.retryCount = log.retryCount
    if (level === logLevel.ERROR) this.ctx.logger.error(log.message, data)
    else this.ctx.logger.warn(log.message, data)
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

function saslOptions(a: KafkaConfig['authentication']): SASLOptions | undefined {
  const username = a.username ?? ''
  const password = a.password ?? ''
  switch (a.mechanism) {
    case 'none':
      return undefined
    case 'plain':
      return { mechanism: 'plain', username, password }
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password }
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password }
  }
}

/** describeCluster, with kafkajs's quirk turned into an error: it answers `null` internally when every broker failed. */
async function describe(admin: Admin, signal: AbortSignal) {
  let c: Awaited<ReturnType<Admin['describeCluster']>>
  try {
    c = await bounded(admin.describeCluster(), signal)
  } catch (err) {
    if (err instanceof TypeError) {
      throw new ConnectorError('CONNECTION_LOST', 'No broker answered the metadata request', {
        kind: 'retryable', hint: 'Check that the brokers are running and reachable.', cause: err,
      })
    }
    throw err
  }
  if (c.brokers.length === 0) {
    throw new ConnectorError('CONNECTION_FAILED', 'The cluster metadata lists no brokers', {
      hint: 'The cluster is starting or unhealthy; check the brokers.',
    })
  }
  return c
}

function cancelled(): ConnectorError {
  return new ConnectorError('TIMEOUT', 'Gave up: the operation was cancelled or ran out of time', {
    kind: 'retryable', hint: 'Check that the brokers are reachable and answer quickly, or allow more time.',
  })
}

/**
 * `promise`, or a rejection as soon as `signal` aborts or `timeoutMs` passes. kafkajs takes no
 * AbortSignal; the operation itself is bounded by kafkajs's own timeouts and then ignored.
 */
function bounded<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs?: number): Promise<T> {
  promise.catch(() => {})
  if (signal.aborted) return Promise.reject(cancelled())
  return new Promise<T>((resolve, reject) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(() => reject(Object.assign(new Error(`No answer within ${timeoutMs} ms`), { name: 'TimeoutError' }))), timeoutMs)
    const onAbort = () => finish(() => reject(cancelled()))
    const finish = (settle: () => void) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      settle()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((v) => finish(() => resolve(v)), (err: unknown) => finish(() => reject(err)))
  })
}

async function closeQuietly(client: { disconnect(): Promise<void> }): Promise<void> {
  try {
    await bounded(client.disconnect(), new AbortController().signal, CLOSE_TIMEOUT_MS)
  } catch {
    // Closing is best effort: the sockets go away with the client.
  }
}
