import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeadlineSignals } from './deadline-signals.js'

// The signals' timers are unref'd (as AbortSignal.timeout's): something else keeps the process up meanwhile.
const keptAlive = async <T>(work: Promise<T>): Promise<T> => {
  const keep = setInterval(() => {}, 1_000)
  try {
    return await work
  } finally {
    clearInterval(keep)
  }
}

describe('DeadlineSignals', () => {
  it('deadlines in one slot share a signal that aborts with a TimeoutError, not before the deadline', async () => {
    const d = new DeadlineSignals(50)
    const deadline = Date.now() + 120
    const a = d.at(deadline)
    assert.equal(d.at(Math.ceil(deadline / 50) * 50), a, 'the end of the same slot')
    const b = d.at(deadline + 200)
    assert.notEqual(a, b, 'another slot, another signal')
    const abortedAt = await keptAlive(new Promise<number>((resolve) => a.addEventListener('abort', () => resolve(Date.now()), { once: true })))
    assert.ok(abortedAt >= deadline - 1, `aborted ${deadline - abortedAt} ms early`)
    assert.equal((a.reason as DOMException).name, 'TimeoutError')
    assert.equal(b.aborted, false)
    assert.notEqual(d.at(deadline), a, 'a slot that fired is forgotten')
  })

  it('a deadline already past aborts at once', async () => {
    const s = new DeadlineSignals().at(Date.now() - 1_000)
    await keptAlive(new Promise((resolve) => s.addEventListener('abort', resolve, { once: true })))
    assert.equal(s.aborted, true)
  })
})
