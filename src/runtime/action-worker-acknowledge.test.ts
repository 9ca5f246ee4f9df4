// `acknowledge: on-delivery` in the action worker and the engine's counter: which outcome each way
// an entry ends reports (pure logic, a scripted in-memory channel; the broker and PostgreSQL side
// is tested end to end in test/e2e/acknowledge.test.ts).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { AcknowledgementOutcome } from '../broker/broker-types.js'
import type { Channel, ChannelMessage } from '../connector-api/index.js'
import { ConnectorError } from '../connector-api/index.js'
import { AcknowledgementCounter } from '../rules/acknowledgement.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS, type ActionOptions, type ChannelSource } from './action-worker.js'
import { DiskBuffer } from './disk-buffer.js'
import { ActionMetrics } from './metrics.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }

/** A channel whose sends wait until the test answers them. */
class HeldSource implements ChannelSource {
  connected = true
  readonly pending: Array<{ ids: number[]; resolve: () => void; reject: (e: Error) => void }> = []
  private readonly channel: Channel = {
    send: (m: ChannelMessage) => this.wait([m]),
    sendBatch: (ms: readonly ChannelMessage[]) => this.wait(ms),
  }

  private wait(ms: readonly ChannelMessage[]): Promise<void> {
    return new Promise((resolve, reject) => this.pending.push({ ids: ms.map((m) => m.n as number), resolve, reject }))
  }

  async acquire() { return this.connected ? this.channel : undefined }
  reportLost() {}
  onReady() { return () => {} }
}

function worker(source: ChannelSource, options: Partial<ActionOptions>, disk?: { buffer: DiskBuffer; pending: [] }) {
  return new ActionWorker('a-1', source, { ...DEFAULT_ACTION_OPTIONS, acknowledge: 'on-delivery', ...options }, new ActionMetrics(), quiet, undefined, disk)
}

/** A message's counter as the engine makes it, with what the broker would be told. */
function message() {
  const ack = new AcknowledgementCounter()
  const told: AcknowledgementOutcome[] = []
  return {
    ack, told,
    /** The engine is done running rules: from now on the last release settles it. */
    seal() { ack.release(); ack.whenSettled((o) => told.push(o)) },
  }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('acknowledgement counter', () => {
  it('settles once, after the engine and every hold released; the first loss decides', () => {
    const m = message()
    const a = m.ack.hold()
    const b = m.ack.hold()
    m.seal()
    a('failed')
    a('committed') // a second release of one hold is ignored
    assert.deepEqual(m.told, [])
    b('quota_exceeded')
    assert.deepEqual(m.told, ['failed'])
  })

  it('settles at once when nothing held it', () => {
    const m = message()
    m.seal()
    assert.deepEqual(m.told, ['committed'])
  })
})

describe('action worker with acknowledge: on-delivery', () => {
  it('reports committed only after the send succeeded', async () => {
    const s = new HeldSource()
    const w = worker(s, { batchSize: 2, batchTimeMs: 10_000 })
    const m1 = message()
    const m2 = message()
    w.enqueue({ n: 1 }, m1.ack)
    w.enqueue({ n: 2 }, m2.ack)
    m1.seal()
    m2.seal()
    await tick()
    assert.deepEqual(m1.told, [])
    assert.equal(s.pending.length, 1)
    s.pending[0]!.resolve()
    await tick()
    assert.deepEqual([m1.told, m2.told], [['committed'], ['committed']])
    w.stop()
  })

  it('reports failed on a permanent error', async () => {
    const s = new HeldSource()
    const w = worker(s, {})
    const m = message()
    w.enqueue({ n: 1 }, m.ack)
    m.seal()
    await tick()
    s.pending.shift()!.reject(new ConnectorError('CONNECTION_FAILED', 'bad row', { kind: 'permanent' }))
    await tick()
    assert.deepEqual(m.told, ['failed'])
    w.stop()
  })

  it('reports quota_exceeded when the queue bound drops a message', async () => {
    const s = new HeldSource()
    const w = worker(s, { inflightWindow: 1, maxBufferBytes: 1024 })
    const [first, dropped, kept] = [message(), message(), message()]
    w.enqueue({ n: 1 }, first.ack)
    w.enqueue({ n: 2, pad: 'x'.repeat(900) }, dropped.ack)
    w.enqueue({ n: 3, pad: 'x'.repeat(900) }, kept.ack)
    for (const m of [first, dropped, kept]) m.seal()
    assert.deepEqual([first.told, dropped.told, kept.told], [[], ['quota_exceeded'], []])
    w.stop()
    assert.deepEqual(kept.told, ['failed'], 'stop drops what is queued')
  })

  it('reports failed when the TTL runs out while the connector is down', async () => {
    const s = new HeldSource()
    s.connected = false
    const w = worker(s, { requestTtlMs: 100 })
    const m = message()
    w.enqueue({ n: 1 }, m.ack)
    m.seal()
    const end = Date.now() + 10_000
    while (m.told.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(m.told, ['failed'])
    w.stop()
  })

  it('reports failed for a send that fails after the worker stopped', async () => {
    const s = new HeldSource()
    const w = worker(s, {})
    const m = message()
    w.enqueue({ n: 1 }, m.ack)
    m.seal()
    await tick()
    w.stop()
    s.pending.shift()!.reject(new ConnectorError('CONNECTION_FAILED', 'reset', { kind: 'retryable' }))
    await tick()
    assert.deepEqual(m.told, ['failed'])
  })

  it('ignores the counter with acknowledge: on-arrival', () => {
    const w = worker(new HeldSource(), { acknowledge: 'on-arrival' })
    const m = message()
    w.enqueue({ n: 1 }, m.ack)
    m.seal()
    assert.deepEqual(m.told, ['committed'])
    assert.equal(w.holdsAcknowledgement, false)
    w.stop()
  })

  it('with a disk buffer, committed once written; stop without one reports failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ack-disk-'))
    try {
      const s = new HeldSource()
      const opened = DiskBuffer.open(dir)
      const w = worker(s, { diskBuffer: true }, { buffer: opened.buffer, pending: [] })
      const m = message()
      w.enqueue({ n: 1 }, m.ack)
      m.seal()
      assert.deepEqual(m.told, ['committed'], 'before any send')
      w.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const w = worker(new HeldSource(), { inflightWindow: 1 })
    const [sent, queued] = [message(), message()]
    w.enqueue({ n: 1 }, sent.ack)
    w.enqueue({ n: 2 }, queued.ack)
    sent.seal()
    queued.seal()
    w.stop()
    assert.deepEqual(queued.told, ['failed'], 'queued, no disk buffer: dropped as stopped')
  })
})
