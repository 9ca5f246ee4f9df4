/**
 * End-to-end acknowledgement in the broker: when its sink answers a publish with a pending
 * acknowledgement, the PUBACK/PUBREC waits for it, says how it ended (MQTT 5), is left out for a
 * loss (MQTT 3.1.1), and the connection keeps being served meanwhile, up to our Receive Maximum.
 * The sink here is a scripted stand-in for the rule engine (tested with real actions in
 * test/e2e/acknowledge.test.ts).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Packet } from 'mqtt-packet'
import type { AcknowledgementOutcome, BrokerSink, PendingAcknowledgement, PublishedMessage } from '../../src/broker/broker-types.js'
import { ON_MOSQUITTO, rawConnected, sleep, startBroker, until, type TestBroker } from './support.js'

/** Holds the acknowledgement of every message on `hold/...` until the test settles it. */
class HoldingSink implements BrokerSink {
  readonly received: PublishedMessage[] = []
  readonly held = new Map<string, (o: AcknowledgementOutcome) => void>()

  published(m: PublishedMessage): PendingAcknowledgement | void {
    this.received.push(m)
    if (!m.topic.startsWith('hold/')) return
    let outcome: AcknowledgementOutcome | undefined
    let settled: ((o: AcknowledgementOutcome) => void) | undefined
    this.held.set(m.topic, (o) => { outcome = o; settled?.(o) })
    return { whenSettled: (f) => { if (outcome) f(outcome); else settled = f } }
  }

  settle(topic: string, outcome: AcknowledgementOutcome = 'committed'): void {
    const f = this.held.get(topic)
    assert.ok(f, `no held message on ${topic}`)
    this.held.delete(topic)
    f(outcome)
  }

  clientEvent(): void {}
  wants(): boolean { return false }
}

const acks = (packets: Packet[], cmd: 'puback' | 'pubrec') => packets.filter((p) => p.cmd === cmd) as Array<{ messageId: number; reasonCode?: number }>

describe('held acknowledgements', { skip: ON_MOSQUITTO && 'a Junction broker feature' }, () => {
  let tb: TestBroker
  const sink = new HoldingSink()
  before(async () => { tb = await startBroker({ sink }) })
  after(() => tb.close())

  test('a PUBACK waits for its message; others are served meanwhile; PUBACKs may leave out of order', async () => {
    const c = await rawConnected(tb)
    c.send({ cmd: 'publish', topic: 'hold/1', payload: 'a', qos: 1, messageId: 1, retain: false, dup: false })
    c.send({ cmd: 'publish', topic: 'hold/2', payload: 'b', qos: 1, messageId: 2, retain: false, dup: false })
    c.send({ cmd: 'publish', topic: 'free/3', payload: 'c', qos: 1, messageId: 3, retain: false, dup: false })
    c.send({ cmd: 'pingreq' })
    await c.next('pingresp')
    await until(() => acks(c.packets, 'puback').length === 1, 'the free message acknowledged')
    assert.deepEqual(acks(c.packets, 'puback').map((p) => p.messageId), [3])
    sink.settle('hold/2')
    await until(() => acks(c.packets, 'puback').length === 2, 'hold/2 acknowledged')
    sink.settle('hold/1')
    await until(() => acks(c.packets, 'puback').length === 3, 'hold/1 acknowledged')
    assert.deepEqual(acks(c.packets, 'puback').map((p) => p.messageId), [3, 2, 1])
    // No subscriber: MQTT 5's "no matching subscribers", as without holding.
    assert.deepEqual(acks(c.packets, 'puback').map((p) => p.reasonCode), [0x10, 0x10, 0x10])
    c.destroy()
  })

  test('MQTT 5 is told a loss: 0x80 for a failure, 0x97 for a full queue', async () => {
    const c = await rawConnected(tb)
    c.send({ cmd: 'publish', topic: 'hold/fail', payload: 'a', qos: 1, messageId: 7, retain: false, dup: false })
    c.send({ cmd: 'publish', topic: 'hold/full', payload: 'b', qos: 1, messageId: 8, retain: false, dup: false })
    await until(() => sink.held.has('hold/full'), 'both held')
    sink.settle('hold/fail', 'failed')
    sink.settle('hold/full', 'quota_exceeded')
    await until(() => acks(c.packets, 'puback').length === 2, 'both answered')
    assert.deepEqual(acks(c.packets, 'puback').map((p) => [p.messageId, p.reasonCode]), [[7, 0x80], [8, 0x97]])
    c.destroy()
  })

  test('MQTT 3.1.1 gets no PUBACK for a loss (it resends after reconnecting)', async () => {
    const c = await rawConnected(tb, { protocolVersion: 4 })
    c.send({ cmd: 'publish', topic: 'hold/v4-lost', payload: 'a', qos: 1, messageId: 1, retain: false, dup: false })
    c.send({ cmd: 'publish', topic: 'hold/v4-kept', payload: 'b', qos: 1, messageId: 2, retain: false, dup: false })
    await until(() => sink.held.has('hold/v4-kept'), 'both held')
    sink.settle('hold/v4-lost', 'failed')
    sink.settle('hold/v4-kept')
    await until(() => acks(c.packets, 'puback').length === 1, 'the stored one acknowledged')
    await sleep(200)
    assert.deepEqual(acks(c.packets, 'puback').map((p) => p.messageId), [2])
    c.destroy()
  })

  test('QoS 2: PUBREC waits; a resend while held is not routed again; PUBREL/PUBCOMP after', async () => {
    const c = await rawConnected(tb)
    const before = sink.received.length
    c.send({ cmd: 'publish', topic: 'hold/q2', payload: 'a', qos: 2, messageId: 5, retain: false, dup: false })
    await until(() => sink.held.has('hold/q2'), 'held')
    c.send({ cmd: 'publish', topic: 'hold/q2', payload: 'a', qos: 2, messageId: 5, retain: false, dup: true })
    c.send({ cmd: 'pingreq' })
    await c.next('pingresp')
    assert.equal(sink.received.length - before, 1, 'routed once')
    assert.equal(acks(c.packets, 'pubrec').length, 0, 'no PUBREC before it settles')
    sink.settle('hold/q2')
    const rec = await c.next('pubrec')
    assert.equal(rec.messageId, 5)
    c.send({ cmd: 'pubrel', messageId: 5 })
    const comp = await c.next('pubcomp')
    assert.equal(comp.reasonCode ?? 0, 0, 'the id was awaiting release')
    c.destroy()
  })

  test('past our Receive Maximum of waiting acknowledgements the connection is not read until they are answered', async () => {
    const c = await rawConnected(tb)
    const n = 1100
    for (let i = 1; i <= n; i++) c.send({ cmd: 'publish', topic: `hold/rm/${i}`, payload: 'x', qos: 1, messageId: i, retain: false, dup: false })
    await until(() => sink.held.size >= 1025, 'past 1024 held')
    await sleep(100)
    c.send({ cmd: 'pingreq' })
    await sleep(300)
    assert.equal(c.packets.filter((p) => p.cmd === 'pingresp').length, 0, 'not read while too many wait')
    for (const topic of [...sink.held.keys()]) if (topic.startsWith('hold/rm/')) sink.settle(topic)
    await c.next('pingresp')
    // What was not read before arrives now; answer it too.
    await until(() => { for (const t of [...sink.held.keys()]) if (t.startsWith('hold/rm/')) sink.settle(t); return acks(c.packets, 'puback').length === n }, `${n} PUBACKs`)
    c.destroy()
  })
})
