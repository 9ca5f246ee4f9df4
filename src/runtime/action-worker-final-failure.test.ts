// The ActionWorker's final-failure hook (fallback actions, the failed-message store): every
// message that leaves without delivery is handed over once, with its reason and the sends tried.
// A scripted in-memory channel drives it (pure logic).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel, ChannelMessage } from '../connector-api/index.js'
import { ConnectorError } from '../connector-api/index.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS, type ActionOptions, type ChannelSource } from './action-worker.js'
import type { FailureDetail } from './failed-messages.js'
import { ActionMetrics } from './metrics.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }

function setup(options: Partial<ActionOptions>, errors: Error[] = [], connected = true) {
  const lost: Array<{ n: unknown; reason: string; detail: FailureDetail }> = []
  const channel: Channel = {
    send: async () => {
      const e = errors.shift()
      if (e) throw e
    },
  }
  const source: ChannelSource = { acquire: async () => (connected ? channel : undefined), reportLost() {}, onReady: () => () => {} }
  const metrics = new ActionMetrics()
  const w = new ActionWorker('a', source, { ...DEFAULT_ACTION_OPTIONS, ...options }, metrics, quiet, (m: ChannelMessage, reason, detail) => lost.push({ n: m.n, reason, detail }))
  return { w, lost, metrics }
}

describe('ActionWorker final-failure hook', () => {
  it('a permanent error: reason failed, the error, the sends tried (a retry counts)', async () => {
    const refused = new ConnectorError('CONSTRAINT_VIOLATION', 'check constraint', { kind: 'permanent' })
    const { w, lost } = setup({}, [new ConnectorError('TIMEOUT', 'slow', { kind: 'retryable' }), refused])
    w.enqueue({ n: 1 })
    assert.ok(await w.drained(10_000))
    assert.deepEqual(lost.map((l) => [l.n, l.reason, l.detail.attempts, l.detail.error?.code]), [[1, 'failed', 2, 'CONSTRAINT_VIOLATION']])
    w.stop()
  })

  it('queue_full: the oldest pushed out, never sent', () => {
    // One request at a time: the first is in flight, the others wait in the queue.
    const { w, lost, metrics } = setup({ maxBufferBytes: 200, requestTtlMs: 60_000, inflightWindow: 1 }, [], false)
    for (let n = 0; n < 5; n++) w.enqueue({ n, pad: 'x'.repeat(60) })
    assert.ok(lost.length > 0)
    assert.equal(lost.length, metrics.dropped.queue_full)
    assert.deepEqual(lost.map((l) => [l.n, l.reason, l.detail.attempts]), lost.map((_, i) => [i + 1, 'queue_full', 0]))
    w.stop()
  })

  it('expired while the connector is down', async () => {
    const { w, lost } = setup({ requestTtlMs: 100 }, [], false)
    w.enqueue({ n: 7 })
    await new Promise((r) => setTimeout(r, 400))
    w.enqueue({ n: 8 }) // the pump runs and finds 7 expired
    assert.deepEqual(lost.map((l) => [l.n, l.reason]), [[7, 'expired']])
    w.stop()
  })

  it('stopped: what is queued at stop and what comes after, without a disk buffer', async () => {
    const { w, lost, metrics } = setup({ requestTtlMs: 60_000 }, [], false)
    for (let n = 0; n < 3; n++) w.enqueue({ n })
    // The first sends find no connection and put the messages back in the queue.
    await new Promise((r) => setTimeout(r, 50))
    w.stop()
    w.enqueue({ n: 3 })
    assert.deepEqual(lost.map((l) => [l.n, l.reason]).sort(), [[0, 'stopped'], [1, 'stopped'], [2, 'stopped'], [3, 'stopped']])
    assert.equal(metrics.dropped.stopped, 4)
    assert.equal(metrics.queuing, 0)
  })
})
