/**
 * Mutated input: valid client packets with bytes replaced, bits flipped or headers damaged. The
 * decoder must never throw or hang, must refuse with one of its reason codes or decode exactly
 * what mqtt-packet 9 decodes, and must reach the same outcome whatever the chunking.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { DecodeReasonCode, PacketDecodeError, PacketDecoder } from './decoder.js'
import type { ClientPacket } from './packet-types.js'
import { clientPacket, connectPacket, randomSource, type Random } from '../../../test/support/mqtt-random-packets.js'

const REASON_CODES = new Set<number>(Object.values(DecodeReasonCode))

function mutate(random: Random, packet: Buffer): Buffer {
  const bytes = Buffer.from(packet)
  switch (random.int(0, 3)) {
    case 0:
      bytes[random.int(0, bytes.length - 1)] = random.int(0, 255)
      break
    case 1:
      bytes[random.int(0, bytes.length - 1)]! ^= 1 << random.int(0, 7)
      break
    case 2:
      // Bytes that trip the string and topic rules.
      bytes[random.int(0, bytes.length - 1)] = random.pick([0x00, 0x23, 0x2b, 0x80, 0xc0, 0xed, 0xf4, 0xff])
      break
    default:
      // The fixed header and the first bytes of the body.
      bytes[random.int(0, Math.min(4, bytes.length - 1))] = random.int(0, 255)
  }
  return bytes
}

function decode(chunks: Buffer[]): { packets: ClientPacket[]; error: PacketDecodeError | undefined } {
  const packets: ClientPacket[] = []
  const decoder = new PacketDecoder({ maxPacketSize: 1 << 20, onPacket: (packet) => packets.push(packet) })
  let error: PacketDecodeError | undefined
  for (const chunk of chunks) {
    error = decoder.push(chunk)
    if (error) break
  }
  return { packets, error }
}

test('mutated packets are refused with a reason code or decoded as mqtt-packet decodes them, however chunked', () => {
  const random = randomSource(77)
  let refused = 0
  let decoded = 0
  for (let i = 0; i < 3000; i++) {
    const version = random.pick([3, 4, 5] as const)
    const connect = mqttPacket.generate(connectPacket(random, version) as unknown as mqttPacket.Packet, { protocolVersion: version } as object)
    const packet = mqttPacket.generate(clientPacket(random, version) as unknown as mqttPacket.Packet, { protocolVersion: version } as object)
    const stream = Buffer.concat([connect, mutate(random, packet)])

    const whole = decode([stream])
    const cut = random.int(1, stream.length - 1)
    const chunked = decode([stream.subarray(0, cut), stream.subarray(cut)])
    assert.deepEqual(chunked.packets, whole.packets)
    assert.equal(chunked.error?.reasonCode, whole.error?.reasonCode)

    if (whole.error) {
      assert.ok(REASON_CODES.has(whole.error.reasonCode), whole.error.message)
      refused++
      continue
    }
    if (whole.packets.length < 2) continue // the damage made it a longer, unfinished packet
    decoded++
    const reference: Record<string, unknown>[] = []
    const parser = mqttPacket.parser({ protocolVersion: version } as object)
    parser.on('packet', (p: object) => reference.push({ ...p }))
    parser.on('error', () => {})
    parser.parse(stream)
    const [, ours] = whole.packets
    // The documented differences: an empty AUTH is success here, an error for mqtt-packet; so is
    // MQTT 3.1's DUP on PUBREL, SUBSCRIBE and UNSUBSCRIBE.
    if (ours?.cmd === 'auth' && ours.length === 0) continue
    if (version === 3 && ours?.dup && ours.cmd !== 'publish') continue
    assert.deepEqual(whole.packets.slice(0, 2), reference.slice(0, 2), stream.toString('hex'))
  }
  // Both outcomes were exercised.
  assert.ok(refused > 500 && decoded > 500, `${refused} refused, ${decoded} decoded`)
})
