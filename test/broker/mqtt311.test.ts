/**
 * MQTT 3.1.1 and 3.1 basics: connect, QoS 0/1/2 both ways, granted QoS, retained messages, will,
 * persistent sessions, SUBACK failure for a denied subscription, refused connections.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { clientId, connect, connectBytes, end, ON_MOSQUITTO, raw, rawConnected, settle, sleep, startBroker, until, type TestBroker } from './support.js'

let tb: TestBroker
before(async () => { tb = await startBroker({ denySubscribe: ['secret/sub'], users: { bob: 'pw' } }) })
after(() => tb.close())

for (const [version, name] of [[4, 'MQTT 3.1.1'], [3, 'MQTT 3.1']] as const) {
  describe(name, () => {
    test('publish and subscribe at QoS 0, 1 and 2; a message goes out at the lower of the two QoS', async () => {
      const topic = `v${version}/${clientId()}`
      const sub = await connect(tb, { protocolVersion: version })
      const granted = await sub.client.subscribeAsync({ [`${topic}/q1`]: { qos: 1 }, [`${topic}/q2`]: { qos: 2 } })
      assert.deepEqual(granted.map((g) => g.qos), [1, 2])
      const pub = await connect(tb, { protocolVersion: version })
      await pub.client.publishAsync(`${topic}/q1`, 'a', { qos: 2 })
      await pub.client.publishAsync(`${topic}/q2`, 'b', { qos: 2 })
      await pub.client.publishAsync(`${topic}/q2`, 'c', { qos: 1 })
      await pub.client.publishAsync(`${topic}/q2`, 'd', { qos: 0 })
      await until(() => sub.messages.length === 4, 'four messages')
      // Messages of different QoS need not arrive in order (mqtt.js hands a QoS 2 one over at PUBREL).
      assert.deepEqual(sub.messages.map((m) => [m.payload.toString(), m.packet.qos]).sort(), [['a', 1], ['b', 2], ['c', 1], ['d', 0]])
      await end(sub.client, pub.client)
    })

    test('overlapping subscriptions: one copy at the highest QoS, or one copy per subscription at its QoS', { todo: ON_MOSQUITTO && 'Mosquitto 2.0.11 sends one copy at QoS 1 (Paho\'s test_overlapping_subscriptions fails on it too)' }, async () => {
      const base = `v${version}/overlap/${clientId()}`
      const sub = await connect(tb, { protocolVersion: version })
      await sub.client.subscribeAsync({ [`${base}/#`]: { qos: 2 }, [`${base}/+`]: { qos: 1 } })
      const pub = await connect(tb, { protocolVersion: version })
      await pub.client.publishAsync(`${base}/x`, 'o', { qos: 2 })
      await until(() => sub.messages.length >= 1, 'the message')
      await sleep(300)
      const qos = sub.messages.map((m) => m.packet.qos).sort()
      assert.ok(JSON.stringify(qos) === '[2]' || JSON.stringify(qos) === '[1,2]', `copies at QoS ${qos}`)
      await end(sub.client, pub.client)
    })

    test('retained messages are delivered to a new subscriber with the RETAIN flag, and deleted by an empty one', async () => {
      const topic = `v${version}/ret/${clientId()}`
      const pub = await connect(tb, { protocolVersion: version })
      await pub.client.publishAsync(topic, 'kept', { qos: 1, retain: true })
      const s1 = await connect(tb, { protocolVersion: version })
      await s1.client.subscribeAsync(topic, { qos: 1 })
      await until(() => s1.messages.length === 1, 'the retained message')
      assert.equal(s1.messages[0]!.packet.retain, true)
      await pub.client.publishAsync(topic, '', { qos: 1, retain: true })
      const s2 = await connect(tb, { protocolVersion: version })
      await s2.client.subscribeAsync(topic, { qos: 1 })
      await settle(s2.client)
      await sleep(150)
      assert.equal(s2.messages.length, 0)
      await end(pub.client, s1.client, s2.client)
    })

    test('the will is published when the connection drops, not after DISCONNECT', async () => {
      const topic = `v${version}/will/${clientId()}`
      const w = await connect(tb)
      await w.client.subscribeAsync(`${topic}/#`, { qos: 1 })
      const polite = await rawConnected(tb, { protocolVersion: version, will: { topic: `${topic}/polite`, payload: Buffer.from('p'), qos: 1, retain: false } })
      polite.send({ cmd: 'disconnect' })
      await polite.waitClosed()
      const rude = await rawConnected(tb, { protocolVersion: version, will: { topic: `${topic}/rude`, payload: Buffer.from('r'), qos: 1, retain: false } })
      rude.destroy()
      await until(() => w.messages.length >= 1, 'the will')
      await sleep(200)
      assert.deepEqual(w.messages.map((m) => m.topic), [`${topic}/rude`])
      await end(w.client)
    })

    test('a persistent session (clean session 0) keeps subscriptions and queues QoS 1 messages while offline', async () => {
      const id = clientId(`v${version}p`)
      const topic = `v${version}/persist/${id}`
      const a = await connect(tb, { protocolVersion: version, clientId: id, clean: false })
      await a.client.subscribeAsync(topic, { qos: 1 })
      await a.client.endAsync()
      const pub = await connect(tb, { protocolVersion: version })
      await pub.client.publishAsync(topic, 'queued', { qos: 1 })
      const b = await connect(tb, { protocolVersion: version, clientId: id, clean: false })
      // MQTT 3.1 has no session-present flag.
      if (version === 4) assert.equal(b.connack.sessionPresent, true)
      await until(() => b.messages.length === 1, 'the queued message')
      await end(b.client, pub.client)
      // Clean session 1 discards it.
      const c = await connect(tb, { protocolVersion: version, clientId: id, clean: true })
      assert.equal(c.connack.sessionPresent, false)
      await end(c.client)
    })

    test('SUBACK 0x80 for a denied subscription', { todo: ON_MOSQUITTO && 'Mosquitto\'s acl_file does not check subscriptions' }, async () => {
      const s = await rawConnected(tb, { protocolVersion: version })
      s.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'secret/sub', qos: 1 }, { topic: `ok/${clientId()}`, qos: 0 }] })
      const suback = await s.next('suback')
      assert.deepEqual(suback.granted, [0x80, 0])
      s.destroy()
    })

    test('a bad password is refused with return code 4, an unknown anonymous-less user with 4 or 5', async () => {
      const c = await raw(tb, version)
      c.send({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 30, clientId: clientId(), username: 'bob', password: Buffer.from('nope') })
      const connack = await c.next('connack')
      assert.ok([4, 5].includes(connack.returnCode ?? 0), `return code ${connack.returnCode}`)
      await c.waitClosed()
    })

    test('pings are answered', async () => {
      const c = await rawConnected(tb, { protocolVersion: version })
      c.send({ cmd: 'pingreq' })
      await c.next('pingresp')
      c.destroy()
    })
  })
}

describe('MQTT 3.1.1 refusals', () => {
  test('an unknown protocol level gets CONNACK return code 1 (unacceptable protocol version)', async () => {
    const c = await raw(tb, 4)
    c.sendBytes(connectBytes({ version: 7 as 4 }))
    await c.waitClosed()
    const hex = c.bytes().toString('hex')
    assert.ok(hex === '' || hex === '20020001' || hex.startsWith('20030084'), `CONNACK bytes ${hex}`)
  })

  test('a wrong protocol name closes the connection without success', async () => {
    const c = await raw(tb, 4)
    c.sendBytes(connectBytes({ version: 4, protocolName: 'HJ' }))
    await c.waitClosed()
    const connack = c.packets.find((p) => p.cmd === 'connack')
    assert.ok(!connack || connack.returnCode !== 0)
  })

  test('a v3.1.1 connection taken over by the same client ID is closed', async () => {
    const id = clientId('v4take')
    const old = await rawConnected(tb, { protocolVersion: 4, clientId: id })
    const fresh = await connect(tb, { protocolVersion: 4, clientId: id })
    await old.waitClosed()
    assert.equal(fresh.client.connected, true)
    await end(fresh.client)
  })

  test('return code 3 (server unavailable) when maxConnections is reached', { skip: ON_MOSQUITTO && 'Mosquitto closes the extra connection without CONNACK' }, async () => {
    const small = await startBroker({ limits: { maxConnections: 1 } })
    try {
      const first = await connect(small, { protocolVersion: 4 })
      const c = await raw(small, 4)
      c.sendBytes(connectBytes({ version: 4 }))
      assert.equal((await c.next('connack')).returnCode, 3)
      await c.waitClosed()
      await end(first.client)
    } finally { await small.close() }
  })
})
