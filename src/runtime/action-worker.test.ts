// The delivery state machine, driven by a scripted in-memory channel (pure logic; delivery to
// real servers is tested end to end in test/).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel, ChannelMessage } from '../connector-api/index.js'
import { BatchError, ConnectorError } from '../connector-api/index.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS, type ActionOptions, type ChannelSource } from './action-worker.js'
import { ActionMetrics } from './metrics.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }

class ScriptedSource implements ChannelSource {
  connected = true
  readonly batches: number[][] = []
  readonly delivered: number[] = []
  /** Errors to throw for the next sends, in order. */
  failures: Array<(batch: number[]) => Error> = []
  delayMs = 0
  /** The channel's Channel.concurrency. */
  concurrency: number | undefined
  concurrent = 0
  maxConcurrent = 0
  lost = 0
  private listeners = new Set<() => void>()

  private readonly channel: Channel = Object.defineProperty({
    send: (m: ChannelMessage, signal: AbortSignal) => this.sendBatchImpl([m], signal),
    sendBatch: (ms: readonly ChannelMessage[], signal: AbortSignal) => this.sendBatchImpl(ms, signal),
  }, 'concurrency', { get: () => this.concurrency })

  private async sendBatchImpl(messages: readonly ChannelMessage[], _signal: AbortSignal): Promise<void> {
    const ids = messages.map((m) => m.n as number)
    this.concurrent++
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent)
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs))
      const fail = this.failures.shift()
      if (fail) {
        const err = fail(ids)
        if (err instanceof BatchError) {
          const bad = new Set(err.failures.map((f) => f.index))
          this.delivered.push(...ids.filter((_, i) => !bad.has(i)))
        }
        throw err
      }
      this.batches.push(ids)
      this.delivered.push(...ids)
    } finally {
      this.concurrent--
    }
  }

  async acquire() { return this.connected ? this.channel : undefined }
  reportLost() { this.lost++ }
  onReady(l: () => void) { this.listeners.add(l); return () => this.listeners.delete(l) }
  reconnect() { this.connected = true; for (const l of this.listeners) l() }
}

function worker(source: ChannelSource, options: Partial<ActionOptions> = {}, onFail?: (m: ChannelMessage, r: string) => void) {
  const metrics = new ActionMetrics()
  const w = new ActionWorker('a-1', source, { ...DEFAULT_ACTION_OPTIONS, ...options }, metrics, quiet, onFail)
  return { w, metrics }
}

function assertAddsUp(m: ActionMetrics): void {
  assert.equal(m.matched, m.success + m.failed + m.droppedTotal + m.queuing + m.inflight, JSON.stringify(m.snapshot()))
}

const send = (w: ActionWorker, from: number, to: number) => { for (let n = from; n < to; n++) w.enqueue({ n }) }

describe('ActionWorker', () => {
  it('sends full batches at once and the rest when the batch time is up', async () => {
    const s = new ScriptedSource()
    const { w, metrics } = worker(s, { batchSize: 100, batchTimeMs: 50 })
    send(w, 0, 250)
    assert.deepEqual(s.batches.length, 0, 'sending is asynchronous')
    assertAddsUp(metrics)
    assert.ok(await w.drained())
    assert.deepEqual(s.batches.map((b) => b.length), [100, 100, 50])
    assert.equal(metrics.success, 250)
    assertAddsUp(metrics)
  })

  it('keeps at most inflightWindow requests in flight', async () => {
    const s = new ScriptedSource()
    s.delayMs = 20
    const { w, metrics } = worker(s, { batchSize: 1, inflightWindow: 3 })
    send(w, 0, 20)
    assertAddsUp(metrics)
    assert.equal(metrics.inflight, 3)
    assert.ok(await w.drained())
    assert.equal(s.maxConcurrent, 3)
    assert.equal(metrics.success, 20)
  })

  it('keeps no more requests in flight than the channel can work on at once (a pool\'s size)', async () => {
    const s = new ScriptedSource()
    s.delayMs = 20
    s.concurrency = 2
    // A long batch time: only full batches leave, whatever the clock does meanwhile.
    const { w, metrics } = worker(s, { batchSize: 3, batchTimeMs: 60_000, inflightWindow: 10 })
    // The bound is learnt from the channel at the first delivery.
    send(w, 0, 3)
    assert.ok(await w.drained())
    send(w, 3, 33)
    assert.ok(await w.drained())
    assert.equal(s.maxConcurrent, 2)
    assert.equal(metrics.success, 33)
    // The rest waited in the queue and still left in full batches.
    assert.deepEqual(s.batches.slice(1).map((b) => b.length), Array(10).fill(3))
    assertAddsUp(metrics)
  })

  it('while the connector is down, holds messages and delivers each exactly once when it is back', async () => {
    const s = new ScriptedSource()
    const { w, metrics } = worker(s, { batchSize: 10, batchTimeMs: 20 })
    s.failures = [() => new ConnectorError('CONNECTION_LOST', 'gone', { kind: 'not_connected' })]
    s.connected = true
    send(w, 0, 10)
    await new Promise((r) => setTimeout(r, 20))
    s.connected = false
    send(w, 10, 35)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(metrics.success, 0)
    assert.equal(metrics.queuing, 35)
    assert.ok(s.lost >= 1, 'the connector was told')
    assertAddsUp(metrics)
    s.reconnect()
    assert.ok(await w.drained())
    assert.deepEqual([...s.delivered].sort((a, b) => a - b), Array.from({ length: 35 }, (_, i) => i))
    assert.equal(metrics.success, 35)
    assert.ok(metrics.retried >= 10)
    assertAddsUp(metrics)
  })

  it('retries retryable errors with backoff until they succeed', async () => {
    const s = new ScriptedSource()
    const { w, metrics } = worker(s, { batchSize: 5, batchTimeMs: 20 })
    s.failures = [() => new ConnectorError('TIMEOUT', 'slow', { kind: 'retryable' }), () => new ConnectorError('TIMEOUT', 'slow', { kind: 'retryable' })]
    send(w, 0, 5)
    assert.ok(await w.drained(10_000))
    assert.deepEqual(s.delivered, [0, 1, 2, 3, 4])
    assert.equal(metrics.retried, 10)
    assert.equal(metrics.lastError, 'slow')
    assertAddsUp(metrics)
  })

  it('waits at least the delay a failure asks for (Retry-After) before the retry, beyond the backoff', async () => {
    const s = new ScriptedSource()
    const { w, metrics } = worker(s)
    const failedAt: number[] = []
    // The first backoff is 1 s +-20 %: a retry before 2 s would ignore the asked delay.
    s.failures = [() => { failedAt.push(Date.now()); return new ConnectorError('RATE_LIMITED', 'slow down', { kind: 'retryable', retryAfterMs: 2_000 }) }]
    w.enqueue({ n: 0 })
    assert.ok(await w.drained(10_000))
    const sentAt = Date.now()
    assert.deepEqual(s.delivered, [0])
    assert.ok(sentAt - failedAt[0]! >= 1_990, `retried after ${sentAt - failedAt[0]!} ms`)
    assert.equal(metrics.retried, 1)
    assertAddsUp(metrics)
  })

  it('a partial batch failure fails only those messages; permanent ones go to the fallback', async () => {
    const s = new ScriptedSource()
    const fallback: Array<[unknown, string]> = []
    const { w, metrics } = worker(s, { batchSize: 4, batchTimeMs: 20 }, (m, r) => fallback.push([m.n, r]))
    s.failures = [() => new BatchError([
      { index: 1, error: new ConnectorError('CONSTRAINT_VIOLATION', 'null value in column', { kind: 'permanent' }) },
      { index: 3, error: new ConnectorError('TIMEOUT', 'deadlock', { kind: 'retryable' }) },
    ])]
    send(w, 0, 4)
    assert.ok(await w.drained(10_000))
    assert.deepEqual([...s.delivered].sort(), [0, 2, 3])
    assert.equal(metrics.success, 3)
    assert.equal(metrics.failed, 1)
    assert.deepEqual(fallback, [[1, 'failed']])
    assertAddsUp(metrics)
  })

  it('a channel without sendBatch (MQTT) gets a batch as separate sends, all in flight at once; a failed one alone is retried or failed', async () => {
    let open = 0
    let most = 0
    const delivered: number[] = []
    const tries = new Map<number, number>()
    const channel: Channel = {
      async send(m) {
        const n = m.n as number
        tries.set(n, (tries.get(n) ?? 0) + 1)
        open++
        most = Math.max(most, open)
        await new Promise((r) => setTimeout(r, 10))
        open--
        if (n === 1) throw new ConnectorError('INVALID_TOPIC', 'wildcard', { kind: 'permanent' })
        if (n === 2 && tries.get(n) === 1) throw new ConnectorError('TIMEOUT', 'no PUBACK in time', { kind: 'retryable' })
        delivered.push(n)
      },
    }
    const source: ChannelSource = { acquire: async () => channel, reportLost() {}, onReady: () => () => {} }
    const fallback: unknown[] = []
    const { w, metrics } = worker(source, { batchSize: 4, batchTimeMs: 20 }, (m) => fallback.push(m.n))
    send(w, 0, 4)
    assert.ok(await w.drained(10_000))
    assert.equal(most, 4, 'the batch went out at once')
    assert.deepEqual(delivered.sort(), [0, 2, 3])
    assert.deepEqual([tries.get(0), tries.get(2), tries.get(3)], [1, 2, 1], 'only the failed one was sent again')
    assert.deepEqual(fallback, [1])
    assert.deepEqual([metrics.success, metrics.failed], [3, 1])
    assertAddsUp(metrics)
  })

  it('drops messages whose TTL passed while the connector stayed down, counted as expired', async () => {
    const s = new ScriptedSource()
    s.connected = false
    const fallback: string[] = []
    const { w, metrics } = worker(s, { requestTtlMs: 100 }, (_m, r) => fallback.push(r))
    send(w, 0, 7)
    await new Promise((r) => setTimeout(r, 150))
    s.reconnect()
    assert.ok(await w.drained(10_000))
    assert.equal(metrics.dropped.expired, 7)
    assert.equal(metrics.success, 0)
    assert.deepEqual(fallback, Array(7).fill('expired'))
    assertAddsUp(metrics)
  })

  it('bounds the queue in bytes by dropping the oldest, counted as queue_full', async () => {
    const s = new ScriptedSource()
    s.connected = false
    const { w, metrics } = worker(s, { maxBufferBytes: 800 })
    send(w, 0, 1)
    await new Promise((r) => setTimeout(r, 20)) // the first send found the connector down: it waits
    send(w, 1, 50)
    assert.ok(metrics.dropped.queue_full > 0)
    assert.ok(metrics.queuing < 50)
    assertAddsUp(metrics)
    s.reconnect()
    assert.ok(await w.drained())
    assert.equal(Math.max(...s.delivered), 49, 'the newest survive')
    assert.equal(metrics.success + metrics.dropped.queue_full, 50)
  })

  it('stop drops what is queued as stopped, and later messages too', async () => {
    const s = new ScriptedSource()
    s.connected = false
    const { w, metrics } = worker(s)
    send(w, 0, 5)
    await new Promise((r) => setTimeout(r, 20))
    w.stop()
    w.enqueue({ n: 5 })
    assert.equal(metrics.dropped.stopped, 6)
    assertAddsUp(metrics)
  })

  it('messages in flight when the worker stops that then fail retryably end as stopped, not queued again', async () => {
    const s = new ScriptedSource()
    s.delayMs = 50
    const lost = () => new ConnectorError('CONNECTION_LOST', 'gone', { kind: 'not_connected' })
    s.failures = [lost, lost, lost]
    const kept: string[] = []
    const { w, metrics } = worker(s, {}, (_m, reason) => kept.push(reason))
    send(w, 0, 3)
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(metrics.inflight, 3)
    w.stop()
    assert.ok(await w.drained(5_000), 'nothing left queued or in flight')
    assert.equal(metrics.dropped.stopped, 3)
    assert.deepEqual(kept, ['stopped', 'stopped', 'stopped'], 'the failure handler hears of each')
    assert.equal(metrics.queuing, 0)
    assertAddsUp(metrics)
  })
})

/**
 * A channel whose every request takes the time `delayOf` gives it, recording the batches in the
 * order they were sent (cut) and in the order they completed.
 */
class TimedSource implements ChannelSource {
  readonly sent: number[][] = []
  readonly completed: number[][] = []
  readonly delivered: number[] = []
  concurrent = 0
  maxConcurrent = 0
  failures: Array<() => Error> = []
  constructor(private readonly delayOf: (batch: number[], index: number) => number = () => 0, readonly concurrency?: number) {}

  private readonly channel: Channel = Object.defineProperty({
    send: (m: ChannelMessage) => this.request([m]),
    sendBatch: (ms: readonly ChannelMessage[]) => this.request(ms),
  }, 'concurrency', { get: () => this.concurrency })

  private async request(messages: readonly ChannelMessage[]): Promise<void> {
    const ids = messages.map((m) => m.n as number)
    const index = this.sent.push(ids) - 1
    this.concurrent++
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent)
    try {
      const delay = this.delayOf(ids, index)
      if (delay > 0) await new Promise((r) => setTimeout(r, delay))
      const fail = this.failures.shift()
      if (fail) throw fail()
      this.completed.push(ids)
      this.delivered.push(...ids)
    } finally {
      this.concurrent--
    }
  }

  async acquire() { return this.channel }
  reportLost() {}
  onReady() { return () => {} }
}

const nextTurn = () => new Promise((r) => setImmediate(r))
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('ActionWorker batching: no wait when nothing is in flight', () => {
  it('a lone message goes at once, whatever the batch time (no timer)', async () => {
    const s = new TimedSource()
    // A batch time no test could wait out: the message cannot have left on a timer.
    const { w, metrics } = worker(s, { batchSize: 500, batchTimeMs: 600_000 })
    w.enqueue({ n: 0 })
    await nextTurn()
    assert.deepEqual(s.sent, [[0]])
    assert.ok(await w.drained(1_000))
    assert.equal(metrics.success, 1)
    // Again once idle: each lone message goes by itself.
    w.enqueue({ n: 1 })
    await nextTurn()
    assert.deepEqual(s.sent, [[0], [1]])
    assertAddsUp(metrics)
    w.stop()
  })

  it('messages arriving in the same synchronous run (one socket read) leave as one batch', async () => {
    const s = new TimedSource()
    const { w, metrics } = worker(s, { batchSize: 500, batchTimeMs: 600_000 })
    send(w, 0, 10)
    assert.equal(s.sent.length, 0, 'cut at the end of the turn, not at the first message')
    await nextTurn()
    assert.deepEqual(s.sent, [range(0, 10)])
    assert.ok(await w.drained(1_000))
    assert.equal(metrics.success, 10)
    assertAddsUp(metrics)
    w.stop()
  })

  it('while a request is in flight, what arrives forms the next batch, up to batchSize, sent when it completes', async () => {
    const s = new TimedSource(() => 40)
    const { w, metrics } = worker(s, { batchSize: 50, batchTimeMs: 600_000 })
    w.enqueue({ n: 0 })
    await nextTurn()
    assert.deepEqual(s.sent, [[0]])
    // 120 messages in small groups, on separate turns, while [0] is in flight.
    for (let n = 1; n < 121; n += 3) {
      send(w, n, Math.min(n + 3, 121))
      await nextTurn()
    }
    // Full batches do not wait: a slot is free (window 100).
    assert.deepEqual(s.sent.map((b) => b.length), [1, 50, 50])
    assert.equal(s.completed.length, 0, 'the first request is still in flight')
    assert.equal(metrics.queuing, 20, 'the rest waits for the requests in flight')
    assert.ok(await w.drained(5_000))
    assert.deepEqual(s.sent.map((b) => b.length), [1, 50, 50, 20])
    assert.deepEqual(s.sent.flat(), range(0, 121), 'in order')
    assert.deepEqual([...s.delivered].sort((a, b) => a - b), range(0, 121), 'each exactly once')
    assert.equal(metrics.success, 121)
    assertAddsUp(metrics)
    w.stop()
  })

  it('the batch time bounds that wait: a partial batch takes a free slot while a slow request is still in flight', async () => {
    // The first request hangs far longer than the batch time; the others are quick.
    const s = new TimedSource((_b, i) => (i === 0 ? 1_500 : 0))
    const { w, metrics } = worker(s, { batchSize: 100, batchTimeMs: 30 })
    w.enqueue({ n: 0 })
    await nextTurn()
    send(w, 1, 6)
    await nextTurn()
    assert.deepEqual(s.sent, [[0]], 'held behind the request in flight')
    assert.equal(metrics.queuing, 5)
    // By the batch time, not by the slow request's end.
    while (s.completed.length === 0) await new Promise((r) => setTimeout(r, 5))
    assert.deepEqual(s.completed, [range(1, 6)], 'left and completed while [0] was still in flight')
    assert.ok(await w.drained(5_000))
    assert.deepEqual(s.completed, [range(1, 6), [0]])
    assert.equal(metrics.success, 6)
    assertAddsUp(metrics)
    w.stop()
  })

  it('under load, batches fill to batchSize within the inflight limit, in order, each message delivered once', async () => {
    const s = new TimedSource(() => 15, 2)
    const { w, metrics } = worker(s, { batchSize: 25, batchTimeMs: 600_000 })
    let n = 0
    // ~40 messages per turn for 30 turns: far more than one request per turn can take.
    for (let turn = 0; turn < 30; turn++) {
      send(w, n, n + 40)
      n += 40
      await nextTurn()
      assertAddsUp(metrics)
    }
    assert.ok(await w.drained(10_000))
    assert.deepEqual(s.sent.flat(), range(0, n), 'cut in arrival order')
    assert.deepEqual([...s.delivered].sort((a, b) => a - b), range(0, n))
    assert.ok(s.maxConcurrent <= 2, `at most the channel's concurrency in flight (${s.maxConcurrent})`)
    assert.ok(s.sent.every((b) => b.length <= 25))
    // Only the first (nothing in flight yet) and the last (the end of the load) may be partial.
    const partial = s.sent.slice(1, -1).filter((b) => b.length < 25)
    assert.deepEqual(partial, [], 'batches fill while the window is busy')
    assert.equal(metrics.success, n)
    assertAddsUp(metrics)
    w.stop()
  })

  it('retried messages keep their place and are delivered exactly once', async () => {
    const s = new TimedSource(() => 5)
    s.failures = [() => new ConnectorError('TIMEOUT', 'slow', { kind: 'retryable' })]
    const { w, metrics } = worker(s, { batchSize: 10, batchTimeMs: 600_000 })
    w.enqueue({ n: 0 })
    await nextTurn()
    send(w, 1, 4)
    assert.ok(await w.drained(10_000))
    assert.equal(s.sent[0]![0], 0)
    assert.deepEqual(s.delivered, [0, 1, 2, 3], 'the failed first message still first')
    assert.equal(metrics.retried, 1)
    assert.equal(metrics.success, 4)
    assertAddsUp(metrics)
    w.stop()
  })

  it('batchTimeMs 0: no batch ever waits; whatever is queued leaves whenever a slot is free', async () => {
    const s = new TimedSource(() => 20)
    const { w, metrics } = worker(s, { batchSize: 10, batchTimeMs: 0 })
    w.enqueue({ n: 0 })
    w.enqueue({ n: 1 })
    assert.ok(await w.drained(1_000))
    assert.deepEqual(s.sent, [[0], [1]])
    assert.equal(s.maxConcurrent, 2)
    assertAddsUp(metrics)
    w.stop()
  })
})
