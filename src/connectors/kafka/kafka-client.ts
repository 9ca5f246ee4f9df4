import { CompressionTypes, Kafka, logLevel, type ConfigResourceTypes, type Admin, type KafkaConfig as KafkajsConfig, type logCreator, type Producer, type SASLOptions, type TopicMessages } from 'kafkajs'
import { ConnectorError, deadline, hostPorts, settleWithin, timedOut, tlsOptions, untilAborted, type HostPort } from '../../connector-api/index.js'
import type { KafkaConfig } from './config-schema.js'
import { installProduceEncoder } from './produce-encoder.js'
import { PICK_PARTITION, junctionPartitioner, randomPicker, roundRobinPicker, type PartitionPicker, type PickedMessage } from './partitioner.js'

/**
 * The validated `bootstrapServers` (`host:port[,host:port...]`) as the kit's host/port pairs, in
 * the order given, without repeats; `address` is what kafkajs wants (IPv6 in brackets).
 */
export function parseBootstrapServers(value: string): HostPort[] {
  const seen = new Set<string>()
  return hostPorts(value, 9092).filter((s) => !seen.has(s.address) && seen.add(s.address))
}

/**
 * Producer retries inside kafkajs, for a broker that changes leaders or restarts during a write.
 * The runtime retries failed deliveries on top, so these stay short.
 */
const PRODUCER_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 }
/** The admin client (connect check, health) never retries: one attempt, one answer. */
export const NO_RETRY = { retries: 0 }
/** A kafkajs log message repeated within this time is not forwarded again. */
const LOG_REPEAT_MS = 30_000
/** How long closing a client may take in stop() and after a probe, unless the stop's signal says less. */
export const CLOSE_TIMEOUT_MS = 5_000
/** DescribeConfigs' resource type of a broker (kafkajs's ConfigResourceTypes.BROKER; its enum is not an ESM named export). */
const BROKER_RESOURCE = 4 as ConfigResourceTypes

/**
 * One record as the channel renders it: plain data, so that it can be posted to a worker thread
 * (structured clone) as well as handed to kafkajs on the same thread.
 */
export interface KafkaRecord {
  readonly topic: string
  /** Text as the channel renders it; bytes once unpacked in the worker thread (worker-protocol.ts). */
  readonly key: string | Buffer | null
  readonly value: string | Buffer
  readonly headers?: Record<string, string>
  /** Epoch milliseconds as a decimal string; absent: kafkajs stamps the send time. */
  readonly timestamp?: string
  /** An explicit partition (the key-hash partitioner honours it); no action setting uses it yet. */
  readonly partition?: number
}

export type PartitionStrategy = 'key_hash' | 'random' | 'round_robin'

/** One kafkajs sendBatch: the records of one channel with the producer options of the write. */
export interface WriteRequest {
  readonly records: readonly KafkaRecord[]
  /** -1 all in-sync replicas, 1 the leader, 0 none. */
  readonly acks: -1 | 0 | 1
  readonly compression: 'none' | 'gzip'
  /** The broker's ack timeout (ms). */
  readonly timeout: number
  /** The channel writing, which owns the state of its partition strategy (round_robin counters). */
  readonly channel: number
  readonly strategy: PartitionStrategy
}

/** What the brokers say about one topic (an action's check). */
export interface TopicInfo {
  readonly exists: boolean
  /** The brokers' auto.create.topics.enable; undefined when they would not say (no DescribeConfigs permission). */
  readonly autoCreate: boolean | undefined
}

export type KafkaLogSink = (level: 'error' | 'warn', message: string, data: Record<string, unknown>) => void

/**
 * The started kafkajs clients of a connector: an admin client for health and a producer. Either
 * on the calling thread (`InThreadKafkaClient`) or in a worker thread (`WorkerKafkaClient`, which
 * runs an `InThreadKafkaClient` there). Failures are thrown as kafkajs threw them (or as
 * ConnectorErrors the client made itself); the connector classifies them.
 */
export interface KafkaClient {
  /** Connects the admin client (no retries, so a wrong address fails fast), then the producer. */
  start(signal: AbortSignal): Promise<void>
  /** One kafkajs sendBatch. Not bounded in time here: the channel bounds it. */
  write(request: WriteRequest): Promise<void>
  /** One describeCluster round trip, bounded by `requestTimeoutMs`; a failed check replaces the admin client. */
  health(signal: AbortSignal): Promise<void>
  /** The channel is closed: forget its partition strategy's state. */
  release(channel: number): void
  /** Whether `topic` exists (a metadata request that creates nothing), bounded by `requestTimeoutMs`. */
  topic(topic: string, signal: AbortSignal): Promise<TopicInfo>
  /** Disconnects everything (at most CLOSE_TIMEOUT_MS, or until `signal` aborts). Idempotent; never throws. */
  close(signal: AbortSignal): Promise<void>
}

/** The admin client that health checks use, and whether it has connected. */
interface AdminSlot {
  readonly admin: Admin
  connected: boolean
}

/** The kafkajs clients on the calling thread (the main thread, or the connector's worker thread). */
export class InThreadKafkaClient implements KafkaClient {
  private kafka: Kafka | undefined
  private adminSlot: AdminSlot | undefined
  private producer: Producer | undefined
  private closed = false
  /** round_robin pickers by channel (random is stateless and shared). */
  private readonly pickers = new Map<number, PartitionPicker>()
  private readonly random = randomPicker()

  constructor(private readonly config: KafkaConfig, private readonly log: KafkaLogSink) {}

  async start(signal: AbortSignal): Promise<void> {
    const bounded = <T>(work: Promise<T>) => untilAborted(work, signal, () => timedOut(this.config.bootstrapServers))
    const brokers = parseBootstrapServers(this.config.bootstrapServers).map((s) => s.address)
    const kafka = new Kafka(clientConfig(this.config, brokers, kafkaLogCreator(this.log)))
    this.kafka = kafka
    const slot: AdminSlot = { admin: kafka.admin({ retry: NO_RETRY }), connected: false }
    this.adminSlot = slot
    // The admin client connects first and without retries, so a wrong address fails fast.
    await bounded(slot.admin.connect())
    slot.connected = true
    // Closed meanwhile (an aborted start is stopped at once): no producer that nothing would close.
    if (this.closed) throw notConnected()
    const idempotent = this.config.producer.idempotent
    // Our one-pass Produce encoder in place of kafkajs's, for every producer of this thread.
    installProduceEncoder()
    const producer = kafka.producer({
      idempotent,
      allowAutoTopicCreation: true,
      retry: PRODUCER_RETRY,
      // Murmur2 on the key, like the Java client (the same key lands on the same partition),
      // or the action's random / round_robin choice.
      createPartitioner: junctionPartitioner,
      ...(idempotent ? { maxInFlightRequests: 1 } : {}),
    })
    this.producer = producer
    await bounded(producer.connect())
  }

  async write(request: WriteRequest): Promise<void> {
    const producer = this.producer
    if (this.closed || !producer) throw notConnected()
    const pick = this.picker(request)
    const topicMessages: TopicMessages[] = []
    const byTopic = new Map<string, TopicMessages>()
    for (const r of request.records) {
      let t = byTopic.get(r.topic)
      if (!t) {
        t = { topic: r.topic, messages: [] }
        byTopic.set(r.topic, t)
        topicMessages.push(t)
      }
      const message: PickedMessage = { key: r.key, value: r.value }
      if (r.headers !== undefined) message.headers = r.headers
      if (r.timestamp !== undefined) message.timestamp = r.timestamp
      if (r.partition !== undefined) message.partition = r.partition
      if (pick) message[PICK_PARTITION] = pick
      t.messages.push(message)
    }
    await producer.sendBatch({
      topicMessages,
      acks: request.acks,
      timeout: request.timeout,
      compression: request.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
    })
  }

  async health(signal: AbortSignal): Promise<void> {
    const kafka = this.kafka
    if (this.closed || !kafka) throw notConnected()
    // A fresh admin client after a failed check: kafkajs keeps stale broker state otherwise.
    const slot = this.adminSlot ?? (this.adminSlot = { admin: kafka.admin({ retry: NO_RETRY }), connected: false })
    const bound = deadline(signal, this.config.requestTimeoutMs)
    try {
      await untilAborted((async () => {
        if (!slot.connected) {
          await slot.admin.connect()
          slot.connected = true
        }
        await describe(slot.admin)
      })(), bound, () => timedOut(this.config.bootstrapServers))
    } catch (err) {
      if (this.adminSlot === slot) this.adminSlot = undefined
      slot.admin.disconnect().catch(() => {})
      throw err
    }
  }

  release(channel: number): void {
    this.pickers.delete(channel)
  }

  /**
   * On the health check's admin client, which never auto-creates topics: the cluster's topic
   * list, then (only for a topic that is missing) the auto.create.topics.enable of one broker.
   */
  async topic(topic: string, signal: AbortSignal): Promise<TopicInfo> {
    const kafka = this.kafka
    if (this.closed || !kafka) throw notConnected()
    const slot = this.adminSlot ?? (this.adminSlot = { admin: kafka.admin({ retry: NO_RETRY }), connected: false })
    return untilAborted((async () => {
      if (!slot.connected) {
        await slot.admin.connect()
        slot.connected = true
      }
      if ((await slot.admin.listTopics()).includes(topic)) return { exists: true, autoCreate: undefined }
      let autoCreate: boolean | undefined
      try {
        const { brokers } = await describe(slot.admin)
        const r = await slot.admin.describeConfigs({
          resources: [{ type: BROKER_RESOURCE, name: String(brokers[0]!.nodeId), configNames: ['auto.create.topics.enable'] }],
          includeSynonyms: false,
        })
        const value = r.resources[0]?.configEntries.find((e) => e.configName === 'auto.create.topics.enable')?.configValue
        autoCreate = value === undefined ? undefined : value === 'true'
      } catch {
        autoCreate = undefined // not allowed to describe configs: the check cannot tell
      }
      return { exists: false, autoCreate }
    })(), deadline(signal, this.config.requestTimeoutMs), () => timedOut(this.config.bootstrapServers))
  }

  async close(signal: AbortSignal): Promise<void> {
    this.closed = true
    const producer = this.producer
    const slot = this.adminSlot
    this.producer = undefined
    this.adminSlot = undefined
    this.kafka = undefined
    this.pickers.clear()
    await closeQuietly(Promise.all([producer?.disconnect(), slot?.admin.disconnect()]), signal)
  }

  private picker(request: WriteRequest): PartitionPicker | undefined {
    switch (request.strategy) {
      case 'key_hash':
        return undefined
      case 'random':
        return this.random
      case 'round_robin': {
        let p = this.pickers.get(request.channel)
        if (!p) this.pickers.set(request.channel, (p = roundRobinPicker()))
        return p
      }
    }
  }
}

export function notConnected(): ConnectorError {
  return new ConnectorError('CONNECTION_LOST', 'The Kafka connector is not started', { kind: 'not_connected', hint: 'Junction reconnects it.' })
}

/** The kafkajs client settings: started clients forward warnings and errors to `logger`, a probe (no logger) logs nothing. */
export function clientConfig(c: KafkaConfig, brokers: string[], logger?: logCreator): KafkajsConfig {
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
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    ...(logger ? { logCreator: logger } : {}),
  }
}

/**
 * Forwards kafkajs warnings and errors to `sink`: the message and a few safe fields, never the
 * config. The same message again within LOG_REPEAT_MS is dropped (a dead broker repeats itself).
 */
export function kafkaLogCreator(sink: KafkaLogSink): logCreator {
  /** When each kafkajs message was last forwarded. */
  const logged = new Map<string, number>()
  return () => ({ namespace, level, log }) => {
    if (level !== logLevel.ERROR && level !== logLevel.WARN) return
    const now = Date.now()
    const last = logged.get(log.message)
    if (last !== undefined && now - last < LOG_REPEAT_MS) return
    if (logged.size >= 100) logged.clear()
    logged.set(log.message, now)
    const data: Record<string, unknown> = { source: 'kafkajs', namespace }
    if (typeof log.broker === 'string') data.broker = log.broker
    if (typeof log.error === 'string') data.error = log.error
    if (typeof log.retryCount === 'number') data.retryCount = log.retryCount
    sink(level === logLevel.ERROR ? 'error' : 'warn', log.message, data)
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
export async function describe(admin: Admin) {
  let c: Awaited<ReturnType<Admin['describeCluster']>>
  try {
    c = await admin.describeCluster()
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

/** Waits for kafkajs's disconnects at most CLOSE_TIMEOUT_MS or until `signal`; the sockets go away with the client either way. */
export async function closeQuietly(disconnecting: Promise<unknown>, signal = new AbortController().signal): Promise<void> {
  await settleWithin(disconnecting, deadline(signal, CLOSE_TIMEOUT_MS))
}
