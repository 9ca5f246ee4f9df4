import type { Channel, ChannelMessage, ConnectorLogger } from '../connector-api/index.js'
import { BatchError, ConnectorError, errorMessage, reconnectDelayMs } from '../connector-api/index.js'
import { partialBatchStep } from './batch-policy.js'
import { DeadlineSignals } from './deadline-signals.js'
import type { DiskBuffer } from './disk-buffer.js'
import type { AcknowledgementHold, AcknowledgementRelease } from '../rules/acknowledgement.js'
import type { FailureDetail } from './failed-messages.js'
import type { ActionMetrics, DropReason } from './metrics.js'

/** Where an action's messages go: the channel on its connector's live connection. */
export interface ChannelSource {
  /** The channel on the current connection (opened on first use and after a swap); undefined while not connected. */
  acquire(): Promise<Channel | undefined>
  /**
   * The channel, when it is open on the current connection already: what `acquire` would give,
   * without a promise per delivery (undefined: ask `acquire`).
   */
  current?(): Channel | undefined
  /** A send found the connection gone: the connector should re-check it now rather than at the next interval. */
  reportLost(reason: string): void
  /** Calls `listener` whenever the connector (re)connects; returns the unsubscribe function. */
  onReady(listener: () => void): () => void
}

export interface ActionOptions {
  /** Messages per request; 1 sends one by one. */
  readonly batchSize: number
  /**
   * The longest the oldest queued message waits for its batch to fill while earlier batches are
   * in flight (an upper bound, not a fixed wait: with none in flight, a message leaves at once;
   * see batch-policy.ts). 0: never waits, whatever is queued leaves whenever a slot is free.
   */
  readonly batchTimeMs: number
  /** Requests (batches) in flight at once. */
  readonly inflightWindow: number
  /** A message not delivered within this time after it was queued is dropped as expired. */
  readonly requestTtlMs: number
  /** Bound of the queue in bytes (JSON size); beyond it the oldest messages are dropped. */
  readonly maxBufferBytes: number
  /** Keep the queue on disk too, so it survives a restart (at-least-once). */
  readonly diskBuffer: boolean
  /**
   * When the device's QoS 1/2 publish is acknowledged: `on-arrival` (default) as it reaches the
   * broker; `on-delivery` once this action delivered it (or wrote it to its disk buffer), see
   * docs/delivery.md.
   */
  readonly acknowledge?: 'on-arrival' | 'on-delivery'
  /** Keep what finally fails or is dropped in the action's failed-message store (rule-runtime opens it). */
  readonly keepFailed?: boolean
  readonly keepFailedMaxMessages?: number
  readonly keepFailedMaxBytes?: number
}

export const DEFAULT_ACTION_OPTIONS: ActionOptions = {
  batchSize: 1,
  batchTimeMs: 0,
  inflightWindow: 100,
  requestTtlMs: 45_000,
  maxBufferBytes: 256 * 1024 * 1024,
  diskBuffer: false,
}

interface Entry {
  readonly message: ChannelMessage
  readonly bytes: number
  readonly enqueuedAt: number
  attempts: number
  /** Its place in the disk buffer, when there is one. */
  readonly seq: number | undefined
  /** Tells the publisher's pending acknowledgement how the entry ended (acknowledge: on-delivery). */
  readonly ack?: AcknowledgementRelease
}

/**
 * Called with each message that finally failed or was dropped (a `stopped` one only when there
 * is no disk buffer to keep it), for fallback actions and the failed-message store.
 */
export type FinalFailureHandler = (message: ChannelMessage, reason: 'failed' | DropReason, detail: FailureDetail) => void

/**
 * One rule action's delivery: a bounded queue in front of a channel, with batching (up to a
 * size; a batch forms while earlier ones are in flight, bounded by a time), an inflight window,
 * retries with backoff while the message's TTL allows, and a pause while the connector is not
 * connected. Every message ends counted exactly once as success, failed or dropped (with its
 * reason); until then it is queuing or inflight.
 */
export class ActionWorker {
  private readonly queue = new Deque<Entry>()
  private queuedBytes = 0
  private inflightBatches = 0
  /** The channel's own bound on requests at once, learnt at the first delivery (see Channel.concurrency). */
  private channelConcurrency = Infinity
  private batchTimer: NodeJS.Timeout | undefined
  /** A partial batch is cut at the end of this turn of the event loop (batch-policy.ts, `gather`). */
  private gathering: NodeJS.Immediate | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private waitingForConnection = false
  private consecutiveFailures = 0
  private stopped = false
  private readonly unsubscribe: () => void
  private readonly deadlines = new DeadlineSignals()

  constructor(
    readonly id: string,
    private readonly source: ChannelSource,
    private readonly options: ActionOptions,
    readonly metrics: ActionMetrics,
    private readonly logger: ConnectorLogger,
    private readonly onFinalFailure: FinalFailureHandler = () => {},
    private readonly disk?: { buffer: DiskBuffer; pending: ReadonlyArray<{ seq: number; message: ChannelMessage }> },
  ) {
    this.unsubscribe = source.onReady(() => {
      if (!this.waitingForConnection) return
      this.waitingForConnection = false
      clearTimeout(this.retryTimer)
      this.retryTimer = undefined
      this.pump()
    })
    // What a previous run left queued on disk goes first.
    for (const p of disk?.pending ?? []) this.accept(p.message, p.seq)
    if (disk && disk.pending.length > 0) {
      logger.info(`action ${id}: ${disk.pending.length} message(s) recovered from the disk buffer`)
      this.pump()
    }
  }

  /** The engine passes the message's pending acknowledgement to this action (acknowledge: on-delivery). */
  get holdsAcknowledgement(): boolean {
    return this.options.acknowledge === 'on-delivery'
  }

  enqueue(message: ChannelMessage, ack?: AcknowledgementHold): void {
    let release = ack && this.options.acknowledge === 'on-delivery' ? ack.hold() : undefined
    if (this.stopped) {
      this.metrics.matched++
      this.drop(1, 'stopped')
      release?.('failed')
      this.onFinalFailure(message, 'stopped', { attempts: 0 })
      return
    }
    const seq = this.disk?.buffer.append(message)
    if (seq !== undefined && release) {
      // Written to the OS before append returns: it survives the process being killed.
      release('committed')
      release = undefined
    }
    this.accept(message, seq, release)
    // Nothing for the pump to do (it runs per message, so this matters): a partial batch waits
    // for a request in flight, its timer or the end of this turn, or every request slot is busy
    // (a finished request pumps).
    if ((this.batchTimer || this.gathering) && this.queue.length < this.options.batchSize) return
    if (this.inflightBatches >= this.inflightLimit()) return
    this.pump()
  }

  /** Batches in flight at once: the action's window, within what its channel can work on. */
  private inflightLimit(): number {
    return Math.min(this.options.inflightWindow, this.channelConcurrency)
  }

  private accept(message: ChannelMessage, seq: number | undefined, ack?: AcknowledgementRelease): void {
    this.metrics.matched++
    const bytes = approximateBytes(message)
    this.queue.pushBack({ message, bytes, enqueuedAt: Date.now(), attempts: 0, seq, ack })
    this.queuedBytes += bytes
    this.metrics.queuing++
    // Bounded in bytes: the oldest go first, counted, never silently.
    while (this.queuedBytes > this.options.maxBufferBytes && this.queue.length > 1) {
      const old = this.queue.popFront()!
      this.queuedBytes -= old.bytes
      this.metrics.queuing--
      this.done(old)
      old.ack?.('quota_exceeded')
      this.drop(1, 'queue_full')
      this.onFinalFailure(old.message, 'queue_full', { attempts: old.attempts })
    }
  }

  /** The entry left the queue for good: its disk copy can go. */
  private done(e: Entry): void {
    if (e.seq !== undefined) this.disk?.buffer.settle(e.seq)
  }

  /**
   * Stops taking messages; those still queued are dropped as `stopped` (with a disk buffer they
   * stay on disk and are delivered after the next start). In-flight requests finish.
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.unsubscribe()
    clearTimeout(this.batchTimer)
    clearImmediate(this.gathering)
    clearTimeout(this.retryTimer)
    const n = this.queue.length
    // Without a disk buffer they are gone from here: the failure handler may keep them.
    for (let e = this.queue.popFront(); e; e = this.queue.popFront()) {
      e.ack?.('failed')
      if (!this.disk) this.onFinalFailure(e.message, 'stopped', { attempts: e.attempts })
    }
    this.queue.clear()
    this.queuedBytes = 0
    this.metrics.queuing -= n
    if (n > 0) this.drop(n, 'stopped')
    if (this.disk) {
      if (n > 0) this.logger.info(`action ${this.id}: ${n} queued message(s) kept in the disk buffer for the next start`)
      // Closed now: whatever is still in flight is delivered again from disk by the next owner.
      this.disk.buffer.close()
    }
  }

  /** The disk buffer, for its owner to remove once the action is gone for good. */
  get diskBuffer(): DiskBuffer | undefined {
    return this.disk?.buffer
  }

  /** Resolves when nothing is queued or in flight (tests, benchmarks, shutdown). */
  async drained(timeoutMs = 30_000): Promise<boolean> {
    const end = Date.now() + timeoutMs
    while (this.queue.length > 0 || this.inflightBatches > 0) {
      if (Date.now() > end) return false
      await new Promise((r) => setTimeout(r, 10))
    }
    return true
  }

  /** `endOfTurn`: called by the `gather` it scheduled (batch-policy.ts). */
  private pump(endOfTurn = false): void {
    while (!this.stopped) {
      this.expireFront()
      if (this.queue.length === 0 || this.waitingForConnection || this.retryTimer) return
      if (this.inflightBatches >= this.inflightLimit()) return
      const { batchSize, batchTimeMs } = this.options
      if (this.queue.length < batchSize) {
        const oldestWaitedMs = batchTimeMs > 0 ? Date.now() - this.queue.peekFront()!.enqueuedAt : 0
        const step = partialBatchStep({ batchTimeMs, inflightBatches: this.inflightBatches, oldestWaitedMs, endOfTurn })
        if (step.kind === 'gather') {
          this.gathering ??= setImmediate(() => {
            this.gathering = undefined
            this.pump(true)
          })
          return
        }
        if (step.kind === 'hold') {
          if (!this.batchTimer) {
            this.batchTimer = setTimeout(() => {
              this.batchTimer = undefined
              this.pump()
            }, step.forMs)
          }
          return
        }
      }
      clearTimeout(this.batchTimer)
      this.batchTimer = undefined
      const batch: Entry[] = []
      while (batch.length < batchSize && this.queue.length > 0) {
        const e = this.queue.popFront()!
        this.queuedBytes -= e.bytes
        batch.push(e)
      }
      this.metrics.queuing -= batch.length
      this.metrics.inflight += batch.length
      this.inflightBatches++
      void this.deliver(batch)
    }
  }

  private async deliver(batch: Entry[]): Promise<void> {
    let outcome: { failures: Array<{ index: number; error: ConnectorError }> } | undefined
    try {
      const channel = this.source.current?.() ?? (await this.source.acquire())
      if (!channel) throw new ConnectorError('CONNECTION_LOST', 'The connector is not connected', { kind: 'not_connected' })
      this.channelConcurrency = Math.max(1, channel.concurrency ?? Infinity)
      let oldest = batch[0]!.enqueuedAt
      for (let i = 1; i < batch.length; i++) if (batch[i]!.enqueuedAt < oldest) oldest = batch[i]!.enqueuedAt
      const signal = this.deadlines.at(oldest + this.options.requestTtlMs)
      if (batch.length === 1) await channel.send(batch[0]!.message, signal)
      else if (channel.sendBatch) await channel.sendBatch(batch.map((e) => e.message), signal)
      else await sendEach(channel, batch.map((e) => e.message), signal)
      outcome = { failures: [] }
    } catch (err) {
      outcome = { failures: err instanceof BatchError ? [...err.failures] : batch.map((_, index) => ({ index, error: asConnectorError(err) })) }
    } finally {
      this.inflightBatches--
      this.metrics.inflight -= batch.length
    }
    this.settle(batch, outcome.failures)
    this.pump()
  }

  private settle(batch: Entry[], failures: Array<{ index: number; error: ConnectorError }>): void {
    this.metrics.settled(batch.length, failures)
    if (failures.length === 0) return this.delivered(batch)
    const failed = new Map(failures.map((f) => [f.index, f.error]))
    for (let i = 0; i < batch.length; i++) {
      if (failed.has(i)) continue
      this.done(batch[i]!)
      batch[i]!.ack?.('committed')
    }
    if (batch.length > failed.size) this.countDelivered(batch.length - failed.size)
    const retry: Entry[] = []
    let lost: string | undefined
    let backoff = false
    let retryAfterMs = 0
    for (const [index, error] of failed) {
      const entry = batch[index]!
      this.recordError(error)
      if (error.kind === 'permanent') {
        this.done(entry)
        entry.ack?.('failed')
        this.metrics.failed++
        this.metrics.failedRate.add(1)
        this.onFinalFailure(entry.message, 'failed', { attempts: entry.attempts + 1, error })
        continue
      }
      entry.attempts++
      retry.push(entry)
      retryAfterMs = Math.max(retryAfterMs, error.retryAfterMs ?? 0)
      if (error.kind === 'not_connected') lost = error.message
      else backoff = true
    }
    if (retry.length === 0) return
    if (this.stopped) {
      // A stopped worker sends nothing again: they end here, counted as `stopped` like the queue at
      // stop (with a disk buffer they stay on disk for the next start), and a device waiting for them is told now.
      for (const e of retry) {
        e.ack?.('failed')
        if (!this.disk) this.onFinalFailure(e.message, 'stopped', { attempts: e.attempts })
      }
      this.drop(retry.length, 'stopped')
      return
    }
    this.metrics.retried += retry.length
    // Back to the front, in their order: they were first and stay first.
    for (let i = retry.length - 1; i >= 0; i--) {
      this.queue.pushFront(retry[i]!)
      this.queuedBytes += retry[i]!.bytes
    }
    this.metrics.queuing += retry.length
    this.consecutiveFailures++
    if (lost !== undefined) {
      this.waitingForConnection = true
      this.source.reportLost(lost)
    }
    if (lost !== undefined || backoff) this.scheduleRetry(retryAfterMs)
  }

  /** The common case, every message of the request delivered: no failure bookkeeping at all. */
  private delivered(batch: Entry[]): void {
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!
      if (e.seq !== undefined) this.disk?.buffer.settle(e.seq)
      e.ack?.('committed')
    }
    this.countDelivered(batch.length)
  }

  private countDelivered(n: number): void {
    this.metrics.success += n
    this.metrics.successRate.add(n)
    this.metrics.lastSuccessMs = Date.now()
    this.consecutiveFailures = 0
  }

  /**
   * Retry after a backoff even while waiting for the connector: its status may lag the truth. A
   * delay the resource asked for (Retry-After) is waited at least, up to the TTL: by then the
   * first message waiting has expired anyway.
   */
  private scheduleRetry(retryAfterMs = 0): void {
    if (this.retryTimer || this.stopped) return
    const delay = Math.max(reconnectDelayMs(this.consecutiveFailures - 1, 5_000), Math.min(retryAfterMs, this.options.requestTtlMs))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.waitingForConnection = false
      this.pump()
    }, delay)
  }

  private expireFront(): void {
    const now = Date.now()
    let expired = 0
    while (this.queue.length > 0 && now - this.queue.peekFront()!.enqueuedAt > this.options.requestTtlMs) {
      const e = this.queue.popFront()!
      this.queuedBytes -= e.bytes
      this.done(e)
      e.ack?.('failed')
      expired++
      this.onFinalFailure(e.message, 'expired', { attempts: e.attempts })
    }
    if (expired > 0) {
      this.metrics.queuing -= expired
      this.drop(expired, 'expired')
    }
  }

  private drop(n: number, reason: DropReason): void {
    this.metrics.dropped[reason] += n
    this.metrics.droppedRate.add(n)
  }

  private recordError(error: ConnectorError): void {
    if (this.metrics.lastError !== error.message) this.logger.warn(`action ${this.id}: ${error.kind} failure: ${error.message}`, { code: error.code })
    this.metrics.lastError = error.message
    this.metrics.lastErrorCode = error.code
    this.metrics.lastErrorAt = new Date().toISOString()
  }
}

async function sendEach(channel: Channel, messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(messages.map((m) => channel.send(m, signal)))
  const failures = results.flatMap((r, index) => (r.status === 'rejected' ? [{ index, error: asConnectorError(r.reason) }] : []))
  if (failures.length > 0) throw new BatchError(failures)
}

/** Unknown errors are retried (within the TTL) rather than lost: they may be transient. */
function asConnectorError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err
  if ((err as { name?: string } | undefined)?.name === 'TimeoutError') {
    return new ConnectorError('TIMEOUT', 'The request timed out (request TTL)', { kind: 'retryable' })
  }
  return new ConnectorError('CONNECTION_FAILED', errorMessage(err), { kind: 'retryable' })
}

/**
 * About the size of `message` as JSON, for the queue's byte bound. A walk rather than
 * JSON.stringify: it runs once per queued message, and building the string cost 4-6 times as
 * much (and its garbage). Bounded in nodes, so a huge or cyclic value costs at most that.
 */
function approximateBytes(message: ChannelMessage): number {
  sizeBudget = 10_000
  return jsonSize(message) + 64
}

/** Objects and arrays `jsonSize` may still visit in the current call (one thread: module state). */
let sizeBudget = 0

function jsonSize(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return v.length + 2
    case 'number':
      return 8
    case 'boolean':
      return 5
    case 'bigint':
      return 20
    case 'object': {
      if (v === null) return 4
      if (--sizeBudget < 0) return 0
      if (Buffer.isBuffer(v)) return v.length
      let n = 2
      if (Array.isArray(v)) {
        for (const item of v) n += jsonSize(item) + 1
      } else {
        for (const key in v) n += key.length + 4 + jsonSize((v as Record<string, unknown>)[key])
      }
      return n
    }
    default:
      return 0
  }
}

/** A growable ring buffer: O(1) at both ends (Array.shift is O(n) on large queues). */
class Deque<T> {
  private items: Array<T | undefined> = new Array(64)
  private head = 0
  length = 0

  pushBack(v: T): void {
    if (this.length === this.items.length) this.grow()
    this.items[(this.head + this.length) % this.items.length] = v
    this.length++
  }

  pushFront(v: T): void {
    if (this.length === this.items.length) this.grow()
    this.head = (this.head - 1 + this.items.length) % this.items.length
    this.items[this.head] = v
    this.length++
  }

  popFront(): T | undefined {
    if (this.length === 0) return undefined
    const v = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.length--
    return v
  }

  peekFront(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head]
  }

  clear(): void {
    this.items = new Array(64)
    this.head = 0
    this.length = 0
  }

  private grow(): void {
    const next: Array<T | undefined> = new Array(this.items.length * 2)
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
