/**
 * The codec against real clients: a minimal broker built only on PacketDecoder and encodePacket
 * (CONNECT, SUBSCRIBE, PUBLISH at QoS 0-2 with its acks, PING, DISCONNECT) serves the `mqtt`
 * package's client on MQTT 5 and 3.1.1, and Debian's mosquitto_pub/mosquitto_sub (libmosquitto,
 * an independent encoder); a raw socket checks that a bad packet is answered with the decoder's
 * reason code.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import mqtt from 'mqtt'
import { PacketDecoder } from './decoder.js'
import { encodePacket, v3ConnackReturnCode } from './encoder.js'
import type { ClientPacket, ProtocolVersion, PublishPacket, QoS, ServerPacket } from './packet-types.js'
import { topicMatches } from '../topic-filter.js'

interface Session {
  socket: net.Socket
  version: ProtocolVersion
  subscriptions: Map<string, QoS>
  nextId: number
}

/** Just enough broker to carry messages between clients, speaking only through the codec. */
function startBroker(): Promise<net.Server> {
  const sessions = new Set<Session>()
  const server = net.createServer((socket) => {
    let session: Session | undefined
    const send = (packet: ServerPacket) => socket.write(encodePacket(packet, session?.version ?? 4))
    const deliver = (publish: PublishPacket) => {
      for (const target of sessions) {
        let granted: QoS | undefined
        for (const [filter, qos] of target.subscriptions) {
          if (topicMatches(filter, publish.topic) && (granted === undefined || qos > granted)) granted = qos
        }
        if (granted === undefined) continue
        const qos = Math.min(granted, publish.qos) as QoS
        const properties = target.version === 5 && publish.properties ? { ...publish.properties, topicAlias: undefined } : undefined
        target.nextId = (target.nextId % 0xffff) + 1
        target.socket.write(encodePacket({ cmd: 'publish', topic: publish.topic, payload: publish.payload, qos, ...(qos > 0 ? { messageId: target.nextId } : {}), ...(properties ? { properties } : {}) }, target.version))
      }
    }
    const decoder = new PacketDecoder({
      maxPacketSize: 1024 * 1024,
      onPacket: (packet: ClientPacket) => {
        switch (packet.cmd) {
          case 'connect':
            session = { socket, version: packet.protocolVersion, subscriptions: new Map(), nextId: 0 }
            sessions.add(session)
            send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 })
            break
          case 'subscribe':
            for (const subscription of packet.subscriptions) session!.subscriptions.set(subscription.topic, subscription.qos)
            send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) })
            break
          case 'publish':
            if (packet.qos === 1) send({ cmd: 'puback', messageId: packet.messageId! })
            if (packet.qos === 2) send({ cmd: 'pubrec', messageId: packet.messageId! })
            deliver(packet)
            break
          case 'pubrel':
            send({ cmd: 'pubcomp', messageId: packet.messageId })
            break
          case 'pubrec':
            send({ cmd: 'pubrel', messageId: packet.messageId })
            break
          case 'pingreq':
            send({ cmd: 'pingresp' })
            break
          case 'disconnect':
            socket.end()
            break
        }
      },
    })
    socket.on('data', (chunk: Buffer) => {
      const error = decoder.push(chunk)
      if (!error) return
      if (session?.version === 5) send({ cmd: 'disconnect', reasonCode: error.reasonCode, properties: { reasonString: error.message } })
      else if (!session && error.protocolVersion === 5) socket.write(encodePacket({ cmd: 'connack', reasonCode: error.reasonCode }, 5))
      else if (!session && v3ConnackReturnCode(error.reasonCode) !== undefined) socket.write(encodePacket({ cmd: 'connack', reasonCode: error.reasonCode }, 4))
      socket.end()
    })
    socket.on('close', () => session && sessions.delete(session))
    socket.on('error', () => {})
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

let server: net.Server
let url: string
let port: number
before(async () => {
  server = await startBroker()
  port = (server.address() as net.AddressInfo).port
  url = `mqtt://127.0.0.1:${port}`
})
after(() => {
  server.close()
})

function nextMessage(client: mqtt.MqttClient): Promise<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }> {
  return new Promise((resolve) => client.once('message', (topic, payload, packet) => resolve({ topic, payload, packet })))
}

for (const protocolVersion of [5, 4] as const) {
  test(`the mqtt client on MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: subscribe, publish at QoS 0, 1 and 2, ping`, async () => {
    const subscriber = await mqtt.connectAsync(url, { protocolVersion, clientId: `sub-${protocolVersion}`, reconnectPeriod: 0, keepalive: 1 })
    const publisher = await mqtt.connectAsync(url, { protocolVersion, clientId: `pub-${protocolVersion}`, reconnectPeriod: 0 })
    try {
      const granted = await subscriber.subscribeAsync({ 'sensors/+/temp': { qos: 2 } })
      assert.equal(granted[0]?.qos, 2)
      for (const qos of [0, 1, 2] as const) {
        const received = nextMessage(subscriber)
        const properties = protocolVersion === 5 ? { contentType: 'text/plain', userProperties: { unit: 'C', site: ['a', 'b'] } } : undefined
        await publisher.publishAsync('sensors/r1/temp', `21.${qos} °C`, { qos, ...(properties ? { properties } : {}) })
        const message = await received
        assert.equal(message.topic, 'sensors/r1/temp')
        assert.equal(message.payload.toString(), `21.${qos} °C`)
        assert.equal(message.packet.qos, qos)
        if (protocolVersion === 5) {
          assert.equal(message.packet.properties?.contentType, 'text/plain')
          assert.deepEqual({ ...message.packet.properties?.userProperties }, { unit: 'C', site: ['a', 'b'] })
        }
      }
      // keepalive 1 s: the client pings within 1.5 s and closes if no PINGRESP comes.
      await new Promise((resolve) => setTimeout(resolve, 1600))
      assert.equal(subscriber.connected, true)
    } finally {
      await Promise.all([subscriber.endAsync(), publisher.endAsync()])
    }
  })
}

const hasMosquitto = spawnSync('mosquitto_pub', ['--help']).error === undefined

test('mosquitto_pub (MQTT 5, properties, QoS 1 and 2) reaches an mqtt client; mosquitto_sub (3.1.1) receives', { skip: !hasMosquitto && 'mosquitto clients not installed' }, async () => {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'mosquitto-peer', reconnectPeriod: 0 })
  try {
    await client.subscribeAsync('from/mosquitto/#', { qos: 2 })
    for (const qos of ['1', '2']) {
      const received = nextMessage(client)
      // Not spawnSync: the broker runs in this process and must keep answering.
      const publish = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-q', qos, '-t', `from/mosquitto/${qos}`, '-m', `hello ${qos}`, '-D', 'publish', 'user-property', 'origin', 'libmosquitto', '-D', 'publish', 'content-type', 'text/plain'])
      let stderr = ''
      publish.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const [status] = (await once(publish, 'exit')) as [number]
      assert.equal(status, 0, stderr)
      const message = await received
      assert.equal(message.topic, `from/mosquitto/${qos}`)
      assert.equal(message.payload.toString(), `hello ${qos}`)
      assert.equal(message.packet.properties?.contentType, 'text/plain')
      assert.deepEqual({ ...message.packet.properties?.userProperties }, { origin: 'libmosquitto' })
    }

    const subscriber = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-q', '1', '-C', '1', '-v', '-t', 'to/mosquitto/+'])
    let output = ''
    subscriber.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    // Publish until the subscriber, which connects on its own schedule, has got one.
    const timer = setInterval(() => void client.publishAsync('to/mosquitto/x', 'for libmosquitto', { qos: 1 }), 100)
    const [code] = (await once(subscriber, 'exit')) as [number]
    clearInterval(timer)
    assert.equal(code, 0)
    assert.equal(output.trim(), 'to/mosquitto/x for libmosquitto')
  } finally {
    await client.endAsync()
  }
})

test('a bad packet from a raw client is answered with the reason code and the connection closed', async () => {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  const closed = once(socket, 'close')
  // CONNECT (MQTT 5, clean, client id "raw"), then a PUBLISH to "a/#".
  socket.write(Buffer.from([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 60, 0, 0, 3, 0x72, 0x61, 0x77]))
  socket.write(Buffer.from([0x30, 6, 0, 3, 0x61, 0x2f, 0x23, 0]))
  await closed
  const bytes = Buffer.concat(received)
  assert.deepEqual(bytes.subarray(0, 5), Buffer.from([0x20, 3, 0, 0, 0]), 'CONNACK first')
  assert.equal(bytes[5], 0xe0, 'then DISCONNECT')
  assert.equal(bytes[7], 0x90, 'Topic Name invalid')
})
