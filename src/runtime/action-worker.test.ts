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
