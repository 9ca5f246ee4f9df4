import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Session, SessionQueue, type BrokerMessage, type Outbound } from './session.js'

let seq = 0
const out = (qos: 0 | 1 | 2, label: string): Outbound => {
  const message: BrokerMessage = { topic: label, payload: Buffer.alloc(0), qos, retain: false, properties: undefined, expiresAt: undefined, from: undefined, receivedAt: 0 }
  return { message, qos, retain: false, ids: undefined, seq: ++seq }
}

describe('SessionQueue', () => {
  it('keeps arrival order across QoS levels', () => {
    const q = new SessionQueue()
    for (const o of [out(1, 'a'), out(0, 'b'), out(1, 'c'), out(0, 'd')]) q.push(o, 10)
    const order: string[] = []
    while (q.length > 0) order.push(q.shift()!.message.topic)
    assert.deepEqual(order, ['a', 'b', 'c', 'd'])
  })

  it('when full, drops its oldest QoS 0 message first, then its oldest message', () => {
    const q = new SessionQueue()
    q.push(out(1, 'q1-a'), 3)
    q.push(out(0, 'q0-a'), 3)
    q.push(out(1, 'q1-b'), 3)
    assert.equal(q.push(out(1, 'q1-c'), 3)!.message.topic, 'q0-a')
    assert.equal(q.push(out(1, 'q1-d'), 3)!.message.topic, 'q1-a')
    assert.equal(q.length, 3)
    assert.deepEqual(q.clear().map((o) => o.message.topic), ['q1-b', 'q1-c', 'q1-d'])
  })

  it('a QoS 0 message never takes the place of a QoS 1/2 one in a full queue', () => {
    const q = new SessionQueue()
    q.push(out(1, 'q1-a'), 2)
    q.push(out(2, 'q2-b'), 2)
    const late = out(0, 'q0-late')
    assert.equal(q.push(late, 2), late, 'the new QoS 0 message is the one dropped')
    assert.deepEqual(q.clear().map((o) => o.message.topic), ['q1-a', 'q2-b'])
  })

  it('drops only QoS 0 messages when a session goes offline', () => {
    const q = new SessionQueue()
    for (const o of [out(0, 'a'), out(1, 'b'), out(0, 'c')]) q.push(o, 10)
    assert.deepEqual(q.dropQos0().map((o) => o.message.topic), ['a', 'c'])
    assert.equal(q.shift()!.message.topic, 'b')
  })
})

describe('Session packet identifiers', () => {
  it('skips identifiers in flight and wraps after 65535', () => {
    const s = new Session<unknown>('c')
    const first = s.allocateId()
    s.inflight.set(2, { out: out(1, 'x'), released: false })
    assert.equal(first, 1)
    assert.equal(s.allocateId(), 3)
    for (let i = 4; i <= 65535; i++) s.allocateId()
    assert.equal(s.allocateId(), 1)
  })
})
