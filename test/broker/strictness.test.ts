/**
 * What the broker refuses: malformed packets, invalid strings, wildcards where they are not
 * allowed, protocol violations around CONNECT, silent clients (keep alive), and a huge declared
 * packet, which must be refused before it is buffered.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { clientId, connect, connectBytes, end, mqttString, ON_MOSQUITTO, packet, raw, rawConnected, sleep, startBroker, until, varint, type RawClient, type TestBroker } from './support.js'

let tb: TestBroker
before(async () => { tb = await startBroker({ limits: { maxPacketSize: 64 * 1024 } }) })
after(() => tb.close())

/** A v5 DISCONNECT the broker sent before closing, if any: its reason must be one of `allowed`. */
function assertDisconnectReason(c: RawClient, allowed: number[]): void {
  const d = c.packets.find((p) => p.cmd === 'disconnect')
  if (d) assert.ok(allowed.includes(d.reasonCode ?? 0), `DISCONNECT reason 0x${(d.reasonCode ?? 0).toString(16)}`)
}

/** A subscriber to everything under `prefix`, to prove refused messages go nowhere. */
async function watcher(prefix: string) {
  const w = await connect(tb)
  await w.client.subscribeAsync(`${prefix}/#`, { qos: 0 })
  return w
}

describe('malformed packets close the connection', () => {
  test('PUBLISH with QoS 3 -> DISCONNECT 0x81 (malformed) and close', async () => {
    const c = await rawConnected(tb)
    c.sendBytes(packet(0x36, [...mqttString('m/qos3'), 0, 1, 0, 0x61]))
    await c.waitClosed()
    assertDisconnectReason(c, [0x81])
  })

  test('SUBSCRIBE with wrong fixed-header flags -> close', async () => {
    const c = await rawConnected(tb)
    c.sendBytes(packet(0x80, [0, 1, 0, ...mqttString('m/x'), 0x01]))
    await c.waitClosed()
    assertDisconnectReason(c, [0x81, 0x82])
  })

  test('a remaining length of five bytes -> close', async () => {
    const c = await rawConnected(tb)
    c.sendBytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0])
    await c.waitClosed()
    assertDisconnectReason(c, [0x81, 0x95])
  })

  test('reserved packet type 0 -> close', async () => {
    const c = await rawConnected(tb)
    c.sendBytes([0x00, 0x00])
    await c.waitClosed()
    assertDisconnectReason(c, [0x81, 0x82])
  })

  test('a PUBLISH topic that is not valid UTF-8 -> close, nothing delivered', async () => {
    const prefix = `utf/${clientId()}`
    const w = await watcher(prefix)
    const c = await rawConnected(tb)
    c.sendBytes(packet(0x30, [...mqttString(Buffer.concat([Buffer.from(`${prefix}/`), Buffer.from([0xc3, 0x28])])), 0, 0x61]))
    await c.waitClosed()
    // Ill-formed strings make a malformed packet (0x81); EMQX (strict mode off) says 0x90.
    assertDisconnectReason(c, [0x81, 0x82, 0x90])
    await sleep(200)
    assert.equal(w.messages.length, 0)
    await end(w.client)
  })

  test('a PUBLISH topic containing U+0000 -> close, nothing delivered', async () => {
    const prefix = `nul/${clientId()}`
    const w = await watcher(prefix)
    const c = await rawConnected(tb)
    c.sendBytes(packet(0x30, [...mqttString(`${prefix}/a\u0000b`), 0, 0x61]))
    await c.waitClosed()
    // Ill-formed strings make a malformed packet (0x81); EMQX (strict mode off) says 0x90.
    assertDisconnectReason(c, [0x81, 0x82, 0x90])
    await sleep(200)
    assert.equal(w.messages.length, 0)
    await end(w.client)
  })

  test('a PUBLISH topic with a wildcard is refused, nothing delivered', async () => {
    const prefix = `wild/${clientId()}`
    const w = await watcher(prefix)
    const c = await rawConnected(tb)
    c.send({ cmd: 'publish', topic: `${prefix}/+`, payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false })
    // Closing is what the spec asks; a PUBACK 0x90 (topic name invalid) is also a refusal.
    await until(() => c.closed() || c.packets.some((p) => p.cmd === 'puback'), 'a refusal')
    const ack = c.packets.find((p) => p.cmd === 'puback')
    if (ack) assert.equal(ack.reasonCode, 0x90)
    else assertDisconnectReason(c, [0x81, 0x82, 0x90])
    await sleep(200)
    assert.equal(w.messages.length, 0)
    c.destroy()
    await end(w.client)
  })
})

describe('CONNECT rules', () => {
  test('a client ID that is not valid UTF-8 is refused', async () => {
    const c = await raw(tb)
    c.sendBytes(connectBytes({ clientIdBytes: Buffer.from([0x61, 0xff, 0xfe]) }))
    await c.waitClosed()
    const connack = c.packets.find((p) => p.cmd === 'connack')
    assert.ok(!connack || (connack.reasonCode ?? 0) >= 0x80, `CONNACK ${connack?.reasonCode}`)
  })

  test('a will topic with a wildcard is refused', async () => {
    const c = await raw(tb)
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 30, clientId: clientId(), will: { topic: 'will/+/x', payload: Buffer.from('w'), qos: 0, retain: false } })
    await c.waitClosed()
    const connack = c.packets.find((p) => p.cmd === 'connack')
    assert.ok(!connack || (connack.reasonCode ?? 0) >= 0x80, `CONNACK ${connack?.reasonCode}`)
  })

  test('MQTT 3.1.1: an empty client ID with clean session 0 -> CONNACK 0x02 (identifier rejected)', async () => {
    const c = await raw(tb, 4)
    c.sendBytes(connectBytes({ version: 4, clientIdBytes: Buffer.alloc(0), clean: false }))
    const connack = await c.next('connack')
    assert.equal(connack.returnCode, 0x02)
    await c.waitClosed()
  })

  test('MQTT 3.1.1: an empty client ID with clean session 1 is accepted', async () => {
    const c = await raw(tb, 4)
    c.sendBytes(connectBytes({ version: 4, clientIdBytes: Buffer.alloc(0), clean: true }))
    const connack = await c.next('connack')
    assert.equal(connack.returnCode, 0)
    c.destroy()
  })

  test('a second CONNECT on a connection closes it', async () => {
    const c = await rawConnected(tb)
    c.sendBytes(connectBytes())
    await c.waitClosed()
    assertDisconnectReason(c, [0x82])
  })

  test('a first packet other than CONNECT closes the connection', async () => {
    const c = await raw(tb)
    c.sendBytes([0xc0, 0x00]) // PINGREQ
    await c.waitClosed()
    assert.equal(c.packets.filter((p) => p.cmd === 'pingresp').length, 0)
  })

  test('the connection of a client that never completes CONNECT is closed (EMQX idle_timeout: 15 s)', { skip: ON_MOSQUITTO && 'Mosquitto 2.0 waits longer than this test' }, async () => {
    const c = await raw(tb)
    c.sendBytes([0x10]) // the start of a CONNECT, then silence
    await c.waitClosed(20_000)
  })
})

describe('keep alive', () => {
  test('a client silent for 1.5 times its keep alive is disconnected; one that pings stays', async () => {
    const silent = await rawConnected(tb, { keepalive: 1 })
    const pinging = await rawConnected(tb, { keepalive: 1 })
    const timer = setInterval(() => pinging.send({ cmd: 'pingreq' }), 400)
    try {
      await silent.waitClosed(6_000)
      assert.equal(pinging.closed(), false, 'a client that pings keeps its connection')
      assertDisconnectReason(silent, [0x8d])
    } finally {
      clearInterval(timer)
      pinging.destroy()
    }
  })
})

describe('a huge declared packet', () => {
  test('a 256 MB PUBLISH header on three connections is refused before buffering (memory stays flat)', async () => {
    if (typeof global.gc === 'function') global.gc()
    const before = process.memoryUsage().rss
    const conns = await Promise.all([0, 1, 2].map(() => rawConnected(tb)))
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    for (const c of conns) {
      c.sendBytes([0x30, ...varint(268_435_455), ...mqttString('huge/x')])
      // Keep sending while the broker lets us: a broker that buffers would keep reading.
      for (let i = 0; i < 48 && !c.closed(); i++) { c.socket.write(chunk); await sleep(2) }
    }
    await Promise.all(conns.map((c) => c.waitClosed(10_000)))
    for (const c of conns) assertDisconnectReason(c, [0x95])
    if (!ON_MOSQUITTO) {
      // The broker runs in this process: 3 x 256 MB buffered would show; 3 x 3 MB sent would not matter.
      const grown = process.memoryUsage().rss - before
      assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${Math.round(grown / 1048576)} MB`)
    }
  })
})
