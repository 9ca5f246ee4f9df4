/**
 * The encoder beyond the random round trips: the client's maximum packet size, input forms
 * mqtt-packet also takes, where it deliberately writes shorter bytes than mqtt-packet, length
 * boundaries, and the errors that catch broker bugs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { PacketEncodeError, encodePacket, encodePublish, encodePublishHeader } from './encoder.js'
import { PacketDecoder } from './decoder.js'
import type { ClientPacket, ProtocolVersion, ServerPacket } from './packet-types.js'

function referenceParse(bytes: Buffer, protocolVersion: ProtocolVersion): Record<string, unknown> {
  const parser = mqttPacket.parser({ protocolVersion } as object)
  const packets: Record<string, unknown>[] = []
  parser.on('packet', (packet: object) => packets.push({ ...packet }))
  parser.on('error', (error: unknown) => {
    throw error
  })
  parser.parse(bytes)
  assert.equal(packets.length, 1)
  return packets[0]!
}

function decodeOne(bytes: Buffer, protocolVersion: ProtocolVersion): ClientPacket {
  const packets: ClientPacket[] = []
  const error = new PacketDecoder({ protocolVersion, onPacket: (packet) => packets.push(packet) }).push(bytes)
  if (error) throw error
  assert.equal(packets.length, 1)
  return packets[0]!
}

test("the client's maximum packet size drops the Reason String, then User Properties, of non-PUBLISH packets", () => {
  const properties = { reasonString: 'r'.repeat(100), userProperties: { key: 'v'.repeat(50) } }
  const suback: ServerPacket = { cmd: 'suback', messageId: 3, granted: [0, 1], properties }
  const whole = encodePacket(suback, 5)
  assert.deepEqual(encodePacket(suback, 5, whole.length), whole)
  const withoutReason = encodePacket(suback, 5, whole.length - 1)
  assert.deepEqual({ ...((referenceParse(withoutReason, 5).properties as Record<string, object>).userProperties) }, { key: 'v'.repeat(50) })
  assert.equal((referenceParse(withoutReason, 5).properties as Record<string, unknown>).reasonString, undefined)
  const bare = encodePacket(suback, 5, 10)
  assert.equal(referenceParse(bare, 5).properties, undefined)
  assert.deepEqual(referenceParse(bare, 5).granted, [0, 1])
  assert.throws(() => encodePacket(suback, 5, 5), PacketEncodeError)
  // The caller's packet is left as it was.
  assert.equal(suback.properties?.reasonString, 'r'.repeat(100))
})

test('PUBLISH takes string and Uint8Array payloads and Buffer topics', () => {
  const fromString = encodePublish({ cmd: 'publish', topic: 'a/é', payload: 'héllo', qos: 0 }, 4)
  const parsed = referenceParse(fromString, 4)
  assert.equal(parsed.topic, 'a/é')
  assert.deepEqual(parsed.payload, Buffer.from('héllo'))
  const fromBytes = encodePublish({ cmd: 'publish', topic: Buffer.from('a/é'), payload: new Uint8Array([1, 2, 3]), qos: 1, messageId: 9 }, 5)
  const decoded = decodeOne(fromBytes, 5)
  assert.equal(decoded.topic, 'a/é')
  assert.deepEqual(decoded.payload, Buffer.from([1, 2, 3]))
  assert.deepEqual(encodePublish({ cmd: 'publish', topic: 't' }, 4), Buffer.from([0x30, 3, 0, 1, 0x74]))
})

test('a long ASCII topic and a long non-ASCII one are written whole', () => {
  for (const topic of ['t'.repeat(300), 'é'.repeat(300)]) {
    assert.equal(decodeOne(encodePublish({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0 }, 4), 4).topic, topic)
  }
})

test('remaining lengths at the variable byte integer boundaries', () => {
  // Remaining length = 2 + 1 (topic) + payload.
  for (const remaining of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    const payload = Buffer.alloc(remaining - 3, 7)
    const bytes = encodePublish({ cmd: 'publish', topic: 't', payload, qos: 0 }, 4)
    const reference = mqttPacket.generate({ cmd: 'publish', topic: 't', payload, qos: 0, retain: false, dup: false }, { protocolVersion: 4 } as object)
    assert.ok(bytes.equals(reference), `remaining length ${remaining}`)
    assert.equal(decodeOne(bytes, 4).length, remaining)
    const header = encodePublishHeader({ cmd: 'publish', topic: 't', payload, qos: 0 }, 4)
    assert.ok(header.equals(bytes.subarray(0, bytes.length - payload.length)))
  }
})

test('MQTT 5 acks with reason code 0 and no properties take the 2-byte form (mqtt-packet writes 4 when the code is left out)', () => {
  const ours = encodePacket({ cmd: 'puback', messageId: 5 }, 5)
  assert.deepEqual(ours, Buffer.from([0x40, 2, 0, 5]))
  const reference = mqttPacket.generate({ cmd: 'puback', messageId: 5 } as mqttPacket.Packet, { protocolVersion: 5 } as object)
  assert.deepEqual(reference, Buffer.from([0x40, 4, 0, 5, 0, 0]))
  assert.deepEqual(referenceParse(ours, 5), referenceParse(reference, 5).length === 4 ? { ...referenceParse(reference, 5), length: 2 } : undefined)
  // With a code or properties, the long form as mqtt-packet writes it.
  assert.deepEqual(encodePacket({ cmd: 'pubrec', messageId: 5, reasonCode: 0x10 }, 5), Buffer.from([0x50, 4, 0, 5, 0x10, 0]))
  assert.deepEqual(encodePacket({ cmd: 'pubrel', messageId: 5, properties: {} }, 5), Buffer.from([0x62, 4, 0, 5, 0, 0]))
})

test('CONNACK takes reasonCode or returnCode on either version', () => {
  assert.deepEqual(encodePacket({ cmd: 'connack', returnCode: 5 }, 4), Buffer.from([0x20, 2, 0, 5]))
  assert.deepEqual(encodePacket({ cmd: 'connack', reasonCode: 0x85, sessionPresent: false }, 4), Buffer.from([0x20, 2, 0, 2]))
  assert.deepEqual(encodePacket({ cmd: 'connack', reasonCode: 0x84 }, 3), Buffer.from([0x20, 2, 0, 1]))
  assert.deepEqual(encodePacket({ cmd: 'connack', reasonCode: 0x87 }, 4), Buffer.from([0x20, 2, 0, 5]))
  // 3.1.1 has no return code for a malformed CONNECT: the connection is closed without CONNACK.
  assert.throws(() => encodePacket({ cmd: 'connack', reasonCode: 0x81 }, 4), /close the connection/)
  assert.deepEqual(encodePacket({ cmd: 'connack', returnCode: 0, sessionPresent: true }, 5), Buffer.from([0x20, 3, 1, 0, 0]))
})

test('fixed packets', () => {
  for (const version of [3, 4, 5] as const) assert.deepEqual(encodePacket({ cmd: 'pingresp' }, version), Buffer.from([0xd0, 0]))
  assert.deepEqual(encodePacket({ cmd: 'disconnect', reasonCode: 0x8e }, 4), Buffer.from([0xe0, 0]))
  assert.deepEqual(encodePacket({ cmd: 'disconnect', reasonCode: 0x8e }, 5), Buffer.from([0xe0, 2, 0x8e, 0]))
  assert.deepEqual(encodePacket({ cmd: 'unsuback', messageId: 258 }, 4), Buffer.from([0xb0, 2, 1, 2]))
})

test('repeated properties: several subscription identifiers, user properties with several values', () => {
  const bytes = encodePacket({ cmd: 'publish', topic: 't', qos: 0, properties: { subscriptionIdentifier: [1, 300], userProperties: { a: ['1', '2'], b: '3' } } }, 5)
  assert.deepEqual(referenceParse(bytes, 5).properties, { subscriptionIdentifier: [1, 300], userProperties: Object.assign(Object.create(null), { a: ['1', '2'], b: '3' }) })
})

test('broker bugs are errors, not bad bytes', () => {
  const bad: Array<[ServerPacket, ProtocolVersion]> = [
    [{ cmd: 'publish', topic: 't', qos: 1 }, 4], // no packet identifier
    [{ cmd: 'publish', topic: 't', qos: 1, messageId: 0 }, 4],
    [{ cmd: 'publish', topic: 't', qos: 3 as 0 }, 4],
    [{ cmd: 'publish', topic: 7 as unknown as string }, 4],
    [{ cmd: 'publish', topic: 't'.repeat(70_000) }, 4],
    [{ cmd: 'publish', topic: 't', properties: { noSuchProperty: 1 } as object }, 5],
    [{ cmd: 'publish', topic: 't', properties: { topicAlias: 70_000 } }, 5],
    [{ cmd: 'publish', topic: 't', properties: { contentType: 5 as unknown as string } }, 5],
    [{ cmd: 'puback', messageId: 70_000 }, 4],
    [{ cmd: 'puback', messageId: 1, reasonCode: 300 }, 5],
    [{ cmd: 'suback', messageId: 1, granted: [] }, 4],
    [{ cmd: 'unsuback', messageId: 1 }, 5], // MQTT 5 needs reason codes
    [{ cmd: 'auth', reasonCode: 0 }, 4],
    [{ cmd: 'connack' }, 4],
    [{ cmd: 'connect' } as unknown as ServerPacket, 4],
  ]
  for (const [packet, version] of bad) {
    assert.throws(() => encodePacket(packet, version), PacketEncodeError, JSON.stringify(packet).slice(0, 80))
  }
})

test('packets cut from the shared slabs never overlap', () => {
  const kept: Array<[Buffer, Buffer]> = []
  for (let i = 0; i < 3000; i++) {
    const size = (i * 37) % 5000 // across the 4 KiB slab limit
    const packet: ServerPacket = { cmd: 'publish', topic: `t/${i}`, payload: Buffer.alloc(size, i & 0xff), qos: 1, messageId: (i % 0xffff) + 1 }
    const bytes = encodePacket(packet, 4)
    kept.push([bytes, Buffer.from(bytes)])
  }
  for (const [bytes, copy] of kept) assert.ok(bytes.equals(copy))
})
