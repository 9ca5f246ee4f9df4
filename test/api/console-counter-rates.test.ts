// The console's Broker page draws rates from counters it reads every 2 s (the API serves totals
// since the broker started); this is the arithmetic, kept apart from React so it is tested alone.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addRates } from '../../console/src/lib/counter-rates.ts'

const reading = (at: number, received: number, sent: number) => ({ at, values: { received, sent } })

describe('console counter rates', () => {
  it('the growth over the interval, once per second of it (one chart point per second)', () => {
    const s = addRates({ received: [], sent: [] }, reading(0, 100, 10), reading(2000, 120, 30))
    assert.deepEqual(s, { received: [10, 10], sent: [10, 10] })
    const t = addRates(s, reading(2000, 120, 30), reading(3000, 125, 30))
    assert.deepEqual(t, { received: [10, 10, 5], sent: [10, 10, 0] })
  })

  it('a late poll still gives per-second rates', () => {
    const s = addRates({ received: [], sent: [] }, reading(0, 0, 0), reading(2500, 50, 0))
    assert.deepEqual(s.received, [20, 20, 20], '50 in 2.5 s, over 3 points')
  })

  it('a counter going down (the broker restarted) adds nothing', () => {
    const before = { received: [4], sent: [4] }
    assert.equal(addRates(before, reading(0, 100, 100), reading(2000, 3, 1)), before)
  })

  it('keeps the last minute', () => {
    let s = { received: [] as number[], sent: [] as number[] }
    for (let i = 0; i < 40; i++) s = addRates(s, reading(i * 2000, i, i), reading((i + 1) * 2000, i + 2, i + 2))
    assert.equal(s.received.length, 60)
    assert.ok(s.received.every((v) => v === 1))
  })

  it('no time between readings: nothing added', () => {
    const before = { received: [], sent: [] }
    assert.equal(addRates(before, reading(5, 1, 1), reading(5, 2, 2)), before)
  })
})
