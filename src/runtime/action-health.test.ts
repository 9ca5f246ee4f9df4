// The health rules (pure: facts and a clock in, a state out), and the same rules fed by a real
// ActionWorker in front of a scripted in-memory channel. Delivery to real servers: test/e2e/delivery-health.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel, ChannelMessage } from '../connector-api/index.js'
import { BatchError, ConnectorError } from '../connector-api/index.js'
import { connectorDelivery, DeliveryTracker, evaluateHealth, FAILING_AFTER_REQUESTS, stallBoundMs, type ActionHealth } from './action-health.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS, type ChannelSource } from './action-worker.js'
import { ActionMetrics, ruleActionTotals } from './metrics.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const permanent = (code = 'INVALID_STATEMENT', message = 'relation "t" does not exist') => ({ error: { code, message, kind: 'permanent' } })
const retryable = (code = 'TIMEOUT', message = 'timed out') => ({ error: { code, message, kind: 'retryable' } })

describe('action health (pure)', () => {
  it('idle with nothing sent, and idle after successes, is ok', () => {
    const t = new DeliveryTracker(10_000)
    assert.deepEqual(t.health(0, T0), { state: 'ok' })
    t.settled(5, [], T0)
    assert.deepEqual(t.health(0, T0 + 3600_000), { state: 'ok' }, 'a long idle time is not a stall')
  })

  it('one permanent failure (a message lost) is failing at once, with code, message and since', () => {
    const t = new DeliveryTracker(10_000)
    t.settled(1, [permanent()], T0)
    assert.deepEqual(t.health(0, T0 + 1), { state: 'failing', code: 'INVALID_STATEMENT', message: 'relation "t" does not exist', since: new Date(T0).toISOString() })
  })

  it('retryable failures are failing only from the third request in a row; code and message are the latest, since the first', () => {
    const t = new DeliveryTracker(10_000)
    t.settled(1, [retryable('TIMEOUT', 'first')], T0)
    t.settled(1, [retryable('SERVER_ERROR', 'second')], T0 + 1000)
    assert.equal(t.health(1, T0 + 1500).state, 'ok', 'two transient failures: still retrying, not failing')
    t.settled(1, [retryable('SERVER_ERROR', 'third')], T0 + 3000)
    assert.equal(FAILING_AFTER_REQUESTS, 3)
    assert.deepEqual(t.health(1, T0 + 3001), { state: 'failing', code: 'SERVER_ERROR', message: 'third', since: new Date(T0).toISOString() })
  })

  it('a batch of many failed messages counts as one request', () => {
    const t = new DeliveryTracker(10_000)
    t.settled(100, Array.from({ length: 100 }, () => retryable()), T0)
    assert.equal(t.health(100, T0).state, 'ok')
  })

  it('any success ends the run: failing heals back to ok', () => {
    const t = new DeliveryTracker(10_000)
    for (let i = 0; i < 5; i++) t.settled(1, [permanent()], T0 + i)
    assert.equal(t.health(0, T0 + 10).state, 'failing')
    t.settled(1, [], T0 + 20)
    assert.deepEqual(t.health(0, T0 + 21), { state: 'ok' })
    t.settled(1, [permanent('CONSTRAINT_VIOLATION', 'null value')], T0 + 30)
    assert.deepEqual(t.health(0, T0 + 31), { state: 'failing', code: 'CONSTRAINT_VIOLATION', message: 'null value', since: new Date(T0 + 30).toISOString() }, 'a new run starts at its own first failure')
  })

  it('a batch that delivered some and lost some is ok: the resource takes deliveries', () => {
    const t = new DeliveryTracker(10_000)
    t.settled(10, [permanent()], T0)
    assert.equal(t.health(0, T0).state, 'ok')
  })

  it('failing stays failing without new traffic: health heals only through a delivery', () => {
    const t = new DeliveryTracker(10_000)
    t.settled(1, [permanent()], T0)
    assert.equal(t.health(0, T0 + 24 * 3600_000).state, 'failing')
  })

  it('stalled: messages wait and nothing was delivered for the bound, counted from when waiting began', () => {
    const t = new DeliveryTracker(5_000)
    t.settled(1, [], T0)
    t.waitingChanged(3, T0 + 60_000)
    assert.equal(t.health(3, T0 + 60_000 + 4_999).state, 'ok', 'below the bound')
    assert.deepEqual(t.health(3, T0 + 60_000 + 12_000), { state: 'stalled', message: '3 message(s) waiting; nothing delivered for 12 s', since: new Date(T0 + 60_000).toISOString() })
    t.waitingChanged(7, T0 + 61_000)
    assert.equal(t.health(7, T0 + 66_000).since, new Date(T0 + 60_000).toISOString(), 'more arriving does not restart the clock')
  })

  it('a success while messages keep waiting restarts the stall clock; nothing waiting is never stalled', () => {
    const t = new DeliveryTracker(5_000)
    t.waitingChanged(1, T0)
    t.settled(1, [], T0 + 4_000)
    assert.equal(t.health(1, T0 + 8_000).state, 'ok')
    assert.equal(t.health(1, T0 + 9_000).state, 'stalled')
    t.waitingChanged(0, T0 + 9_500)
    assert.equal(t.health(0, T0 + 60_000).state, 'ok')
  })

  it('failing wins over stalled', () => {
    const facts = { run: { since: T0, requests: 1, lost: 1, code: 'X', message: 'm' }, lastSuccess: 0, waitingSince: T0, waiting: 5, stallAfterMs: 1000 }
    assert.equal(evaluateHealth(facts, T0 + 60_000).state, 'failing')
    assert.equal(evaluateHealth({ ...facts, run: undefined }, T0 + 60_000).state, 'stalled')
  })

  it('the stall bound: a quarter of the TTL between 1 s and 10 s, plus the batch time', () => {
    assert.equal(stallBoundMs(DEFAULT_ACTION_OPTIONS), 10_000)
    assert.equal(stallBoundMs({ requestTtlMs: 20_000, batchTimeMs: 0 }), 5_000)
    assert.equal(stallBoundMs({ requestTtlMs: 1_000, batchTimeMs: 20 }), 1_020)
    assert.equal(stallBoundMs({ requestTtlMs: 3600_000, batchTimeMs: 0 }), 10_000)
  })

  it("a connector's delivery is the worst of its actions' health, with the first one's reason and the earliest since", () => {
    const ok: ActionHealth = { state: 'ok' }
    const stalled: ActionHealth = { state: 'stalled', message: '2 waiting', since: '2026-01-01T00:00:05.000Z' }
    const failA: ActionHealth = { state: 'failing', code: 'A', message: 'a', since: '2026-01-01T00:00:09.000Z' }
    const failB: ActionHealth = { state: 'failing', code: 'B', message: 'b', since: '2026-01-01T00:00:01.000Z' }
    assert.deepEqual(connectorDelivery([]), { state: 'ok', failingActions: 0, stalledActions: 0 })
    assert.deepEqual(connectorDelivery([ok, ok]), { state: 'ok', failingActions: 0, stalledActions: 0 })
    assert.deepEqual(connectorDelivery([ok, stalled]), { state: 'stalled', reason: '2 waiting', since: '2026-01-01T00:00:05.000Z', failingActions: 0, stalledActions: 1 })
    assert.deepEqual(connectorDelivery([stalled, failA, failB]), { state: 'failing', reason: 'a', code: 'A', since: '2026-01-01T00:00:01.000Z', failingActions: 2, stalledActions: 1 })
  })

  it("a rule's action totals: total, success, failed, discarded over its actions", () => {
    const a = new ActionMetrics()
    const b = new ActionMetrics()
    Object.assign(a, { matched: 10, success: 6, failed: 3 })
    a.dropped.expired = 1
    Object.assign(b, { matched: 4, success: 1, failed: 0 })
    b.dropped.queue_full = 2
    b.queuing = 1
    assert.deepEqual(ruleActionTotals([a, b]), { total: 14, success: 7, failed: 3, discarded: 3 })
  })
})

/** A channel whose each send waits for the test's verdict. */
class ControlledSource implements ChannelSource {
  readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  private readonly channel: Channel = {
    send: (_m: ChannelMessage) => new Promise<void>((resolve, reject) => { this.pending.push({ resolve, reject }) }),
  }

  async acquire() { return this.channel }
  reportLost() {}
  onReady() { return () => {} }

  async settleNext(verdict: Error | 'ok'): Promise<void> {
    for (let i = 0; i < 100 && this.pending.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    const p = this.pending.shift()
    assert.ok(p, 'a send is waiting')
    if (verdict === 'ok') p.resolve()
    else p.reject(verdict)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} }

describe('action health through ActionWorker', () => {
  it('permanent failures make it failing with the code kept next to lastError; a delivery heals it', async () => {
    const source = new ControlledSource()
    const metrics = new ActionMetrics(stallBoundMs(DEFAULT_ACTION_OPTIONS))
    const w = new ActionWorker('r#0', source, DEFAULT_ACTION_OPTIONS, metrics, quiet)
    try {
      w.enqueue({ n: 1 })
      assert.equal(metrics.health().state, 'ok', 'in flight for a moment only')
      await source.settleNext(new ConnectorError('INVALID_STATEMENT', 'relation "missing" does not exist', { kind: 'permanent' }))
      assert.deepEqual([metrics.failed, metrics.lastErrorCode, metrics.lastError], [1, 'INVALID_STATEMENT', 'relation "missing" does not exist'])
      const h = metrics.snapshot().health
      assert.equal(h.state, 'failing')
      assert.equal(h.code, 'INVALID_STATEMENT')
      assert.equal(h.message, 'relation "missing" does not exist')
      assert.ok(h.since && Date.parse(h.since) <= Date.now())
      w.enqueue({ n: 2 })
      await source.settleNext('ok')
      assert.deepEqual(metrics.snapshot().health, { state: 'ok' })
    } finally {
      w.stop()
    }
  })

  it('a send that never answers is stalled once the bound has passed, ok again when it completes', async () => {
    const source = new ControlledSource()
    const metrics = new ActionMetrics(150)
    const w = new ActionWorker('r#0', source, DEFAULT_ACTION_OPTIONS, metrics, quiet)
    try {
      w.enqueue({ n: 1 })
      w.enqueue({ n: 2 })
      assert.equal(metrics.health().state, 'ok')
      await new Promise((r) => setTimeout(r, 250))
      const h = metrics.health()
      assert.equal(h.state, 'stalled')
      assert.match(h.message ?? '', /^2 message\(s\) waiting; nothing delivered for \d+ s$/)
      await source.settleNext('ok')
      await source.settleNext('ok')
      assert.equal(metrics.health().state, 'ok')
      assert.equal(metrics.queuing + metrics.inflight, 0)
    } finally {
      w.stop()
    }
  })

  it('a partial batch failure leaves it ok while a batch of only failures (permanent) makes it failing', async () => {
    const metrics = new ActionMetrics()
    let fail: 'some' | 'all' = 'some'
    const channel: Channel = {
      send: async () => {},
      sendBatch: async (ms) => {
        const bad = fail === 'all' ? ms.map((_, i) => i) : [0]
        throw new BatchError(bad.map((index) => ({ index, error: new ConnectorError('CONSTRAINT_VIOLATION', 'null value in column', { kind: 'permanent' }) })))
      },
    }
    const source: ChannelSource = { acquire: async () => channel, reportLost() {}, onReady: () => () => {} }
    const w = new ActionWorker('r#0', source, { ...DEFAULT_ACTION_OPTIONS, batchSize: 3, batchTimeMs: 1 }, metrics, quiet)
    try {
      for (let i = 0; i < 3; i++) w.enqueue({ n: i })
      assert.ok(await w.drained(2000))
      assert.deepEqual([metrics.success, metrics.failed, metrics.health().state], [2, 1, 'ok'])
      fail = 'all'
      for (let i = 0; i < 3; i++) w.enqueue({ n: i })
      assert.ok(await w.drained(2000))
      assert.deepEqual([metrics.failed, metrics.health().state, metrics.health().code], [4, 'failing', 'CONSTRAINT_VIOLATION'])
    } finally {
      w.stop()
    }
  })
})
