// What an action's check makes of a fixed topic's metadata (pure logic; the shared test broker
// auto-creates topics, so the refusal is shown here, and the rest in test/e2e/action-checks.test.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectorError } from '../../connector-api/index.js'
import { topicVerdict } from './kafka-connector.js'

describe('topicVerdict', () => {
  it('an existing topic: nothing to say', () => {
    assert.deepEqual(topicVerdict('t', { exists: true, autoCreate: undefined }, 'k:9092'), [])
    assert.deepEqual(topicVerdict('t', { exists: true, autoCreate: false }, 'k:9092'), [])
  })

  it('a missing topic with auto-creation off is refused: permanent TOPIC_NOT_FOUND on the topic param', () => {
    assert.throws(() => topicVerdict('orders', { exists: false, autoCreate: false }, 'k:9092'), (err: unknown) =>
      err instanceof ConnectorError && err.code === 'TOPIC_NOT_FOUND' && err.kind === 'permanent' && err.param === 'topic' && /"orders" does not exist on k:9092/.test(err.message))
  })

  it('a missing topic the brokers create, or may create, is a note on the topic param', () => {
    const on = topicVerdict('orders', { exists: false, autoCreate: true }, 'k:9092')
    assert.equal(on.length, 1)
    assert.equal(on[0]!.param, 'topic')
    assert.match(on[0]!.message, /create it on the first write/)
    const unknown = topicVerdict('orders', { exists: false, autoCreate: undefined }, 'k:9092')
    assert.match(unknown[0]!.message, /would not say/)
  })
})
