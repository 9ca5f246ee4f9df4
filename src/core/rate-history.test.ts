import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { RateHistory } from './rate-history.js'

describe('RateHistory', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }))
  afterEach(() => mock.timers.reset())

  it('averages the last complete seconds, and falls to 0 once a whole window has no add', () => {
    const h = new RateHistory()
    assert.equal(h.rate(), 0, 'nothing added yet')
    h.add(50)
    mock.timers.tick(1000)
    h.add(30)
    mock.timers.tick(1000)
    assert.equal(h.rate(), 8, '80 in the last 10 complete seconds')
    mock.timers.tick(9000)
    assert.equal(h.rate(), 3, 'the 50 is out of the window, the 30 still in')
    mock.timers.tick(1000)
    assert.equal(h.rate(), 0)
    h.add(20)
    mock.timers.tick(1000)
    assert.equal(h.rate(), 2, 'an add after an idle window counts again')
    assert.deepEqual(h.series(3), [0, 0, 20])
  })
})
