import {
  BatchError, ConnectorError, compileTemplate, compileValue, deadline, untilAborted,
  type Channel, type ChannelMessage, type Render,
} from '../../connector-api/index.js'
import type { KafkaConfig, KafkaParams } from './config-schema.js'
import type { KafkaClient, KafkaRecord, PartitionStrategy } from './kafka-client.js'

/** What a channel needs from its connector. */
export interface KafkaChannelHost {
  /** The started client (here or in the worker thread); throws a `not_connected` ConnectorError when there is none. */
  client(): KafkaClient
  /** The connector's error table, for errors of a write. */
  classifyError(err: unknown): ConnectorError
  readonly config: KafkaConfig
}

/** A record ready for the client, with its approximate size. */
interface Rendered {
  readonly record: KafkaRecord
  readonly bytes: number
}

/** Channel IDs, unique in the process: a client keeps per-channel partitioner state under them. */
let lastChannelId = 0

/** Kafka's rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/
/** Bytes a record costs beyond its key, value and headers (record framing; an estimate). */
const RECORD_OVERHEAD = 32
const ACKS = { all: -1, leader: 1, none: 0 } as const

/**
 * One rule action writing to Kafka. Templates (topic, key, value, headers, timestamp) are
 * compiled once. `sendBatch` renders every message and writes them with ONE kafkajs sendBatch
 * (records grouped by rendered topic; kafkajs sends one produce request per leader broker),
 * split only when the records exceed `producer.maxBatchBytes`. `send` waits up to
 * `producer.lingerMs` for other sends of this channel and writes them together the same way.
 * `acks`, `compression` and the request timeout are applied to every write.
 */
export class KafkaChannel implements Channel {
  private readonly topic: Render
  private readonly staticTopic: string | undefined
  private readonly key: Render | undefined
  private readonly value: Render
  private readonly headers: ReadonlyArray<readonly [string, Render]>
  private readonly timestamp: ((o: ChannelMessage) => unknown) | undefined
  private readonly strategy: PartitionStrategy
  private readonly id = ++lastChannelId
  private lingering: Lingering | undefined

  constructor(params: KafkaParams, private readonly host: KafkaChannelHost) {
    this.topic = compileTemplate(params.topic)
    this.staticTopic = params.topic.includes('${') ? undefined : params.topic
    if (this.staticTopic !== undefined && !TOPIC_NAME.test(this.staticTopic)) {
      throw new ConnectorError('INVALID_PARAMS', `"${this.staticTopic}" is not a valid Kafka topic name`, {
        kind: 'permanent', hint: 'Topic names have 1 to 249 characters: letters, digits, ".", "_" and "-".',
      })
    }
    this.key = params.key === undefined ? undefined : compileTemplate(params.key)
    this.value = compileTemplate(params.value)
    this.headers = Object.entries(params.headers ?? {}).map(([name, t]) => [name, compileTemplate(t)] as const)
    this.timestamp = params.timestamp === undefined ? undefined : compileValue(params.timestamp)
    this.strategy = params.partitionStrategy
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const record = this.render(message)
    const { lingerMs } = this.host.config.producer
    if (lingerMs === 0) return this.write([record], signal)
    return this.linger(record, lingerMs, signal)
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const failures: Array<{ index: number; error: ConnectorError }> = []
    const records: Array<{ index: number; rendered: Rendered }> = []
    messages.forEach((m, index) => {
      try {
        records.push({ index, rendered: this.render(m) })
      } catch (err) {
        failures.push({ index, error: err instanceof ConnectorError ? err : this.host.classifyError(err) })
      }
    })
    let written = 0
    /** A connection or transient error: the later writes of the batch are not attempted. */
    let stop: ConnectorError | undefined
    let first: ConnectorError | undefined
    for (const chunk of bySize(records, this.host.config.producer.maxBatchBytes)) {
      let error = stop
      if (!error) {
        try {
          await this.write(chunk.map((r) => r.rendered), signal)
          written += chunk.length
          continue
        } catch (err) {
          error = err instanceof ConnectorError ? err : this.host.classifyError(err)
          // A permanent refusal (e.g. MESSAGE_TOO_LARGE) concerns this write's records only.
          if (error.kind !== 'permanent') stop = error
        }
      }
      first ??= error
      for (const r of chunk) failures.push({ index: r.index, error })
    }
    if (failures.length === 0) return
    if (written === 0 && first && failures.every((f) => f.error === first)) throw first
    failures.sort((a, b) => a.index - b.index)
    throw new BatchError(failures, `${failures.length} of ${messages.length} record(s) failed: ${failures[0]!.error.message}`)
  }

  /** Writes what is still lingering, and lets the client forget this channel's partitioner state. */
  async close(): Promise<void> {
    const batch = this.lingering
    if (batch) await this.flush(batch).catch(() => undefined)
    try {
      this.host.client().release(this.id)
    } catch {
      // Not connected: the client and its state are gone already.
    }
  }

  /**
   * One kafkajs sendBatch for `records` (grouped by topic by the client, which may be in the
   * worker thread), bounded by `requestTimeoutMs` and `signal` here, whatever the worker does.
   */
  private async write(records: readonly Rendered[], signal: AbortSignal): Promise<void> {
    const c = this.host.config
    try {
      const client = this.host.client()
      // kafkajs takes no AbortSignal: a write that gets no answer in time is given up here and
      // ends by kafkajs's own timeouts (or is still written: at least once).
      await untilAborted(client.write({
        records: records.map((r) => r.record),
        // An idempotent producer must wait for all in-sync replicas (kafkajs refuses otherwise).
        acks: c.producer.idempotent ? ACKS.all : ACKS[c.producer.acks],
        compression: c.producer.compression,
        timeout: c.requestTimeoutMs,
        channel: this.id,
        strategy: this.strategy,
      }), deadline(signal, c.requestTimeoutMs), () => gaveUp(signal.aborted ? undefined : c.requestTimeoutMs))
    } catch (err) {
      throw err instanceof ConnectorError ? err : this.host.classifyError(err)
    }
  }

  /**
   * Queues `record` with the other sends of the next `lingerMs` (or until they reach
   * maxBatchBytes) and writes them together. Each caller gets the write's outcome; a caller
   * whose signal aborts stops waiting, but its record still goes out with the others.
   */
  private linger(record: Rendered, lingerMs: number, signal: AbortSignal): Promise<void> {
    let batch = this.lingering
    if (!batch) {
      const fresh: Lingering = { records: [], waiters: [], bytes: 0, timer: setTimeout(() => void this.flush(fresh).catch(() => undefined), lingerMs) }
      batch = this.lingering = fresh
    }
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }))
    batch.records.push(record)
    batch.bytes += record.bytes
    if (batch.bytes >= this.host.config.producer.maxBatchBytes) void this.flush(batch).catch(() => undefined)
    return untilAborted(done, signal, () => gaveUp())
  }

  private async flush(batch: Lingering): Promise<void> {
    if (this.lingering === batch) this.lingering = undefined
    clearTimeout(batch.timer)
    try {
      await this.write(batch.records, new AbortController().signal)
      for (const w of batch.waiters) w.resolve()
    } catch (err) {
      for (const w of batch.waiters) w.reject(err)
      throw err
    }
  }

  /** The record for one message; a permanent INVALID_DATA error when the message cannot make one. */
  private render(m: ChannelMessage): Rendered {
    const topic = this.staticTopic ?? this.topic(m)
    // A static topic was checked once, in the constructor.
    if (topic !== this.staticTopic && !TOPIC_NAME.test(topic)) {
      throw new ConnectorError('INVALID_DATA', `The topic template rendered "${topic.slice(0, 300)}", which is not a valid Kafka topic name`, {
        kind: 'permanent', hint: 'Topic names have 1 to 249 characters: letters, digits, ".", "_" and "-". Check the fields the topic template uses.',
      })
    }
    const value = this.value(m)
    const key = this.key?.(m) ?? null
    let bytes = RECORD_OVERHEAD + Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key))
    const record: { -readonly [K in keyof KafkaRecord]: KafkaRecord[K] } = { topic, key, value }
    if (this.headers.length > 0) {
      const headers: Record<string, string> = {}
      for (const [name, render] of this.headers) {
        const v = render(m)
        headers[name] = v
        bytes += Buffer.byteLength(name) + Buffer.byteLength(v)
      }
      record.headers = headers
    }
    if (this.timestamp) {
      const raw = this.timestamp(m)
      const ts = toTimestamp(raw)
      if (ts === 'invalid') {
        throw new ConnectorError('INVALID_DATA', `The timestamp template rendered ${String(JSON.stringify(raw)).slice(0, 100)}, which is not epoch milliseconds`, {
          kind: 'permanent', hint: 'The timestamp must be a non-negative integer number of milliseconds since 1970 (a number or a numeric string).',
        })
      }
      if (ts !== undefined) record.timestamp = ts
    }
    return { record, bytes }
  }
}

interface Lingering {
  readonly records: Rendered[]
  readonly waiters: Array<{ resolve(): void; reject(err: unknown): void }>
  bytes: number
  readonly timer: NodeJS.Timeout
}

/**
 * A record timestamp from a template value: epoch milliseconds as a number or numeric string;
 * missing means "now" (kafkajs stamps the send time).
 */
function toTimestamp(v: unknown): string | undefined | 'invalid' {
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d*)?\s*$/.test(v) ? Number(v) : v instanceof Date ? v.getTime() : Number.NaN
  if (!Number.isFinite(n) || n < 0 || n > 8.64e15) return 'invalid'
  return String(Math.trunc(n))
}

/** Consecutive chunks of at most `maxBytes` (a record bigger than that goes alone). */
function* bySize<T extends { rendered: Rendered }>(items: readonly T[], maxBytes: number): Generator<T[]> {
  let chunk: T[] = []
  let bytes = 0
  for (const item of items) {
    if (chunk.length > 0 && bytes + item.rendered.bytes > maxBytes) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(item)
    bytes += item.rendered.bytes
  }
  if (chunk.length > 0) yield chunk
}

/** A write given up after `timeoutMs`, or when the runtime's signal aborted (no `timeoutMs`). */
function gaveUp(timeoutMs?: number): ConnectorError {
  return new ConnectorError('TIMEOUT', timeoutMs === undefined
    ? 'Gave up waiting for Kafka to acknowledge the write; it may still be written'
    : `Kafka did not acknowledge the write within ${timeoutMs} ms; it may still be written`, {
    kind: 'retryable', hint: 'The brokers are slow or unreachable; check them, or raise requestTimeoutMs (or the request TTL).',
  })
}
