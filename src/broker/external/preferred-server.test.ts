import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { preferredServer } from './preferred-server.js'

describe('preferredServer', () => {
  it('numbered nodes spread over the servers in order', () => {
    assert.deepEqual(['node-1', 'node-2', 'node-3', 'node-4'].map((n) => preferredServer(n, 3)), [0, 1, 2, 0])
    assert.equal(preferredServer('junction-12', 5), 1)
    assert.equal(preferredServer('node-0', 3), 2, 'node 0 wraps to the last server')
  })

  it('other names: stable, within the list; one server: always it', () => {
    const a = preferredServer('plant-a', 4)
    assert.equal(preferredServer('plant-a', 4), a)
    assert.ok(a >= 0 && a < 4)
    const spread = new Set(['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'].map((n) => preferredServer(n, 3)))
    assert.ok(spread.size > 1, 'different names do not all hash to one server')
    assert.equal(preferredServer('node-2', 1), 0)
    assert.equal(preferredServer('', 3), preferredServer('', 3))
  })
})
