/**
 * MQTT 5 sessions: session expiry and clean start, the offline queue of a persistent session
 * (and its bound), message expiry while queued, and will messages with and without will delay.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { clientId, connect, recordMessages, end, rawConnected, sleep, startBroker, until, type TestBroker } from './support.js'

describe('MQTT 5 session expiry', () => {
  let tb: TestBroker
  before(async () => { tb = await startBroker() })
  after(() => tb.close())

  test('a session is kept for its expiry interval: subscription and missed QoS 1 messages survive', async () => {
    const id = clientId('keep')
    const topic = `sess/${id}`
    const a = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 30 } })
    await a.client.subscribeAsync(topic, { qos: 1 })
    await a.client.endAsync()
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'while away', { qos: 1 })
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 30 } })
    const got = b.messages
    assert.equal(b.connack.sessionPresent, true)
    await until(() => got.length === 1, 'the queued message')
    assert.equal(got[0]!.payload.toString(), 'while away')
    await end(b.client, pub.client)
  })

  test('a session is discarded once its expiry interval has passed', async () => {
    const id = clientId('expire')
    const topic = `sess/${id}`
    const a = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 1 } })
    await a.client.subscribeAsync(topic, { qos: 1 })
    await a.client.endAsync()
    await sleep(2_200)
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'after expiry', { qos: 1 })
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 1 } })
    const got = b.messages
    assert.equal(b.connack.sessionPresent, false)
    await pub.client.publishAsync(topic, 'after reconnect', { qos: 1 })
    await sleep(300)
    assert.deepEqual(got.map((m) => m.payload.toString()), [], 'the subscription went with the session')
    await end(b.client, pub.client)
  })

  test('session expiry 0 (the default) ends the session with the connection', async () => {
    const id = clientId('zero')
    const a = await connect(tb, { clientId: id, clean: false })
    await a.client.subscribeAsync(`sess/${id}`, { qos: 1 })
    await a.client.endAsync()
    const b = await connect(tb, { clientId: id, clean: false })
    assert.equal(b.connack.sessionPresent, false)
    await end(b.client)
  })

  test('clean start discards a kept session', async () => {
    const id = clientId('clean')
    const topic = `sess/${id}`
    const a = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 30 } })
    await a.client.subscribeAsync(topic, { qos: 1 })
    await a.client.endAsync()
    const b = await connect(tb, { clientId: id, clean: true, properties: { sessionExpiryInterval: 30 } })
    const got = b.messages
    assert.equal(b.connack.sessionPresent, false)
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'x', { qos: 1 })
    await sleep(300)
    assert.equal(got.length, 0)
    await end(b.client, pub.client)
  })
})

describe('MQTT 5 offline queue and message expiry', () => {
  let tb: TestBroker
  before(async () => { tb = await startBroker({ limits: { maxQueuedMessages: 5 } }) })
  after(() => tb.close())

  async function awaySubscriber(topic: string): Promise<string> {
    const id = clientId('away')
    const a = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } })
    await a.client.subscribeAsync(topic, { qos: 1 })
    await a.client.endAsync()
    return id
  }

  test('QoS 1 messages published while a persistent session is offline arrive in order on reconnect', async () => {
    const topic = `queue/${clientId()}`
    const id = await awaySubscriber(topic)
    const pub = await connect(tb)
    for (let i = 0; i < 4; i++) await pub.client.publishAsync(topic, `m${i}`, { qos: 1 })
    await pub.client.publishAsync(topic, 'qos0', { qos: 0 })
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } })
    const got = b.messages
    await until(() => got.length >= 4, 'the four QoS 1 messages')
    await sleep(200)
    assert.deepEqual(got.filter((m) => m.packet.qos === 1).map((m) => m.payload.toString()), ['m0', 'm1', 'm2', 'm3'])
    await end(b.client, pub.client)
  })

  test('the offline queue is bounded by maxQueuedMessages', async () => {
    const topic = `queue/${clientId()}`
    const id = await awaySubscriber(topic)
    const pub = await connect(tb)
    for (let i = 0; i < 20; i++) await pub.client.publishAsync(topic, `m${i}`, { qos: 1 })
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } })
    const got = b.messages
    await until(() => got.length >= 1, 'queued messages')
    await sleep(500)
    assert.ok(got.length <= 5, `${got.length} messages delivered from a queue bounded at 5`)
    await end(b.client, pub.client)
  })

  test('a queued message whose expiry interval passes is not delivered', async () => {
    const topic = `expiry/${clientId()}`
    const id = await awaySubscriber(topic)
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'short-lived', { qos: 1, properties: { messageExpiryInterval: 1 } })
    await pub.client.publishAsync(topic, 'long-lived', { qos: 1, properties: { messageExpiryInterval: 60 } })
    await sleep(2_200)
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } })
    const got = b.messages
    await until(() => got.length >= 1, 'the unexpired message')
    await sleep(200)
    assert.deepEqual(got.map((m) => m.payload.toString()), ['long-lived'])
    await end(b.client, pub.client)
  })

  test('a forwarded message carries its expiry interval less the time it waited', async () => {
    const topic = `expiry/${clientId()}`
    const id = await awaySubscriber(topic)
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'aging', { qos: 1, properties: { messageExpiryInterval: 30 } })
    await sleep(2_100)
    const b = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } })
    const got = b.messages
    await until(() => got.length >= 1, 'the queued message')
    const left = got[0]!.packet.properties?.messageExpiryInterval
    assert.ok(left !== undefined && left <= 28 && left > 0, `expiry forwarded as ${left}`)
    await end(b.client, pub.client)
  })

  test('an online subscriber gets the expiry interval forwarded', async () => {
    const topic = `expiry/${clientId()}`
    const sub = await connect(tb)
    const got = recordMessages(sub.client)
    await sub.client.subscribeAsync(topic, { qos: 1 })
    const pub = await connect(tb)
    await pub.client.publishAsync(topic, 'fresh', { qos: 1, properties: { messageExpiryInterval: 30 } })
    await until(() => got.length === 1, 'the message')
    const left = got[0]!.packet.properties?.messageExpiryInterval
    assert.ok(left !== undefined && left <= 30 && left >= 29, `expiry forwarded as ${left}`)
    await end(sub.client, pub.client)
  })
})

describe('MQTT 5 will messages', () => {
  let tb: TestBroker
  before(async () => { tb = await startBroker() })
  after(() => tb.close())

  async function willWatcher(topic: string) {
    const w = await connect(tb)
    const got = recordMessages(w.client)
    await w.client.subscribeAsync(topic, { qos: 1 })
    return { client: w.client, got }
  }

  function willConnect(topic: string, extra: { delay?: number; expiry?: number; id?: string } = {}) {
    return rawConnected(tb, {
      clientId: extra.id ?? clientId('will'),
      clean: true,
      ...(extra.expiry !== undefined ? { properties: { sessionExpiryInterval: extra.expiry } } : {}),
      will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, ...(extra.delay !== undefined ? { properties: { willDelayInterval: extra.delay } } : {}) },
    })
  }

  test('the will is published when the connection drops without DISCONNECT', async () => {
    const topic = `will/${clientId()}`
    const w = await willWatcher(topic)
    const c = await willConnect(topic)
    c.destroy()
    await until(() => w.got.length === 1, 'the will message')
    assert.equal(w.got[0]!.payload.toString(), 'gone')
    await end(w.client)
  })

  test('the will is not published after DISCONNECT 0x00', async () => {
    const topic = `will/${clientId()}`
    const w = await willWatcher(topic)
    const c = await willConnect(topic)
    c.send({ cmd: 'disconnect', reasonCode: 0 })
    await c.waitClosed()
    // A second, abrupt client proves the watcher would have seen a will by now.
    const probe = await willConnect(topic)
    probe.destroy()
    await until(() => w.got.length >= 1, 'the probe will')
    await sleep(200)
    assert.equal(w.got.length, 1)
    await end(w.client)
  })

  test('the will is published after DISCONNECT 0x04 (disconnect with will message)', async () => {
    const topic = `will/${clientId()}`
    const w = await willWatcher(topic)
    const c = await willConnect(topic)
    c.send({ cmd: 'disconnect', reasonCode: 0x04 })
    await until(() => w.got.length === 1, 'the will message')
    await end(w.client)
  })

  test('a will delay holds the will back', async () => {
    const topic = `will/${clientId()}`
    const w = await willWatcher(topic)
    const delayed = await willConnect(topic, { delay: 2, expiry: 30 })
    const immediate = await willConnect(`${topic}/now`, {})
    await w.client.subscribeAsync(`${topic}/now`, { qos: 1 })
    delayed.destroy()
    immediate.destroy()
    // The undelayed will shows how soon a will arrives; the delayed one must not have come yet.
    await until(() => w.got.some((m) => m.topic.endsWith('/now')), 'the undelayed will')
    await sleep(300)
    assert.equal(w.got.filter((m) => m.topic === topic).length, 0, 'delayed will sent early')
    await until(() => w.got.some((m) => m.topic === topic), 'the delayed will', 6_000)
    await end(w.client)
  })

  test('a client that reconnects within the will delay cancels its will', async () => {
    const topic = `will/${clientId()}`
    const id = clientId('back')
    const w = await willWatcher(topic)
    const c = await willConnect(topic, { delay: 2, expiry: 30, id })
    c.destroy()
    await sleep(200)
    const again = await connect(tb, { clientId: id, clean: false, properties: { sessionExpiryInterval: 30 } })
    await sleep(3_000)
    assert.equal(w.got.length, 0, 'the will was cancelled by the reconnect')
    await end(again.client, w.client)
  })
})
