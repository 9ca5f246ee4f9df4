import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { partialBatchStep } from './batch-policy.js'

describe('partialBatchStep', () => {
  const at = (o: Partial<Parameters<typeof partialBatchStep>[0]>) => partialBatchStep({ batchTimeMs: 20, inflightBatches: 0, oldestWaitedMs: 0, endOfTurn: false, ...o })

  it('nothing in flight: goes at the end of this turn of the event loop', () => {
    assert.deepEqual(at({}), { kind: 'gather' })
    assert.deepEqual(at({ endOfTurn: true }), { kind: 'send' })
  })

  it('a request in flight: waits for it, at most the rest of the batch time', () => {
    assert.deepEqual(at({ inflightBatches: 1, oldestWaitedMs: 5 }), { kind: 'hold', forMs: 15 })
    assert.deepEqual(at({ inflightBatches: 3, endOfTurn: true }), { kind: 'hold', forMs: 20 })
    assert.deepEqual(at({ inflightBatches: 1, oldestWaitedMs: 20 }), { kind: 'send' })
  })

  it('batch time 0 never waits', () => {
    assert.deepEqual(at({ batchTimeMs: 0, inflightBatches: 5 }), { kind: 'send' })
  })
})
