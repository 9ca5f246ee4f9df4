/**
 * The decoder's rules, each on hand-built bytes, asserting the MQTT 5 reason code; framing limits;
 * zero-copy payloads; what happens around an error.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PacketDecodeError, PacketDecoder, type PacketDecoderOptions } from './decoder.js'
import type { ClientPacket, ProtocolVersion } from './packet-types.js'
import { isWellFormedUtf8 } from './utf8.js'
import { isValidTopicFilter } from './topic-rules.js'

type Bytes = number | readonly number[] | Buffer

function flat(parts: readonly Bytes[]): number[] {
  const out: number[] = []
  for (const part of parts) {
    if (typeof part === 'number') out.push(part)
    else out.push(...part)
  }
  return out
}

function varInt(value: number): number[] {
  const out: number[] = []
  do {
    let byte = value & 0x7f
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return out
}

/** A packet: first byte, remaining length, body. */
function frame(first: number, ...body: Bytes[]): Buffer {
  const bytes = flat(body)
  return Buffer.from([first, ...varInt(bytes.length), ...bytes])
}
const u16 = (n: number) => [n >> 8, n & 0xff]
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
/** A length-prefixed string or binary. */
const str = (value: string | readonly number[]) => {
  const bytes = typeof value === 'string' ? [...Buffer.from(value)] : [...value]
  return [...u16(bytes.length), ...bytes]
}
/** An MQTT 5 property list. */
const props = (...entries: Bytes[]) => {
  const bytes = flat(entries)
  return [...varInt(bytes.length), ...bytes]
}

interface ConnectFields {
  name?: string
  level?: number
  flags?: number
  keepalive?: number
  properties?: number[]
  clientId?: string | number[]
  willProperties?: number[]
  willTopic?: string | number[]
  willPayload?: string
  username?: string | number[]
  password?: string
  trailing?: number[]
}

/** A CONNECT; flags default to clean session plus whatever optional fields are given. */
function connect(fields: ConnectFields = {}): Buffer {
  const level = fields.level ?? 4
  const hasWill = fields.willTopic !== undefined
  let flags = fields.flags ?? 0x02
  if (fields.flags === undefined) {
    if (hasWill) flags |= 0x04
    if (fields.username !== undefined) flags |= 0x80
    if (fields.password !== undefined) flags |= 0x40
  }
  const v5 = (level & 0x7f) === 5
  return frame(
    0x10,
    str(fields.name ?? (level === 3 ? 'MQIsdp' : 'MQTT')),
    level,
    flags,
    u16(fields.keepalive ?? 60),
    v5 ? (fields.properties ?? [0]) : [],
    str(fields.clientId ?? 'client-1'),
    hasWill ? [...(v5 ? (fields.willProperties ?? [0]) : []), ...str(fields.willTopic!), ...str(fields.willPayload ?? 'bye')] : [],
    fields.username !== undefined ? str(fields.username) : [],
    fields.password !== undefined ? str(fields.password) : [],
    fields.trailing ?? [],
  )
}

function run(chunks: Buffer[], options: Partial<PacketDecoderOptions> = {}): { packets: ClientPacket[]; error: PacketDecodeError | undefined } {
  const packets: ClientPacket[] = []
  const decoder = new PacketDecoder({ ...options, onPacket: (packet) => packets.push(packet) })
  let error: PacketDecodeError | undefined
  for (const chunk of chunks) {
    error = decoder.push(chunk)
    if (error) break
  }
  return { packets, error }
}

/** Decodes `bytes` on a connection of `version` (its CONNECT taken as done). */
function decode(bytes: Buffer, version: ProtocolVersion = 4, options: Partial<PacketDecoderOptions> = {}): ClientPacket[] {
  const { packets, error } = run([bytes], { protocolVersion: version, ...options })
  if (error) throw error
  return packets
}

function rejects(bytes: Buffer, reasonCode: number, version: ProtocolVersion | 0 = 4, options: Partial<PacketDecoderOptions> = {}): PacketDecodeError {
  const { error } = run([bytes], { ...(version ? { protocolVersion: version } : {}), ...options })
  assert.ok(error, `expected reason code 0x${reasonCode.toString(16)}, but the bytes were accepted`)
  assert.equal(error.reasonCode, reasonCode, `expected 0x${reasonCode.toString(16)}, got 0x${error.reasonCode.toString(16)}: ${error.message}`)
  return error
}

const PUBLISH_QOS1 = (topic: Bytes, id = 1) => frame(0x32, topic, u16(id), [1, 2, 3])

describe('framing', () => {
  test('a remaining length of more than 4 bytes is malformed', () => {
    rejects(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0x81)
    // Also when the bytes arrive one by one.
    const { error } = run([0x30, 0xff, 0xff, 0xff, 0xff, 0x01].map((b) => Buffer.from([b])), { protocolVersion: 4 })
    assert.equal(error?.reasonCode, 0x81)
  })

  test('MQTT 5 wants remaining lengths in their shortest form; 3.1.1 does not say so', () => {
    const longPingreq = Buffer.from([0xc0, 0x80, 0x00])
    rejects(longPingreq, 0x81, 5)
    assert.equal(decode(longPingreq, 4)[0]?.cmd, 'pingreq')
  })

  test('a packet over maxPacketSize is refused from its fixed header, before its body arrives', () => {
    // 2 + 2 + 3 + 3 = 10 bytes in all.
    const publish = frame(0x30, str('a/b'), [1, 2, 3])
    assert.equal(publish.length, 10)
    assert.equal(decode(publish, 4, { maxPacketSize: 10 }).length, 1)
    const error = rejects(publish.subarray(0, 2), 0x95, 4, { maxPacketSize: 9 })
    assert.match(error.message, /10 bytes exceeds the maximum packet size of 9/)
  })

  test('a declared 256 MB packet is refused at once and never buffered', () => {
    const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])
    rejects(header, 0x95, 4, { maxPacketSize: 1024 * 1024 })
    // Without a limit, only what arrived is held: 1 KB of a declared 256 MB body.
    const before = process.memoryUsage().arrayBuffers
    const decoder = new PacketDecoder({ protocolVersion: 4, onPacket: () => assert.fail('no packet is complete') })
    assert.equal(decoder.push(Buffer.concat([header, Buffer.from([0, 3, 0x61, 0x2f, 0x62]), Buffer.alloc(1024)])), undefined)
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, 'the declared size was not allocated')
  })

  test('a large body trickling in small chunks is gathered whole', () => {
    const payload = Buffer.alloc(1_000_000)
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251
    const bytes = Buffer.concat([Buffer.from([0x30, ...varInt(5 + payload.length)]), Buffer.from(str('big')), payload])
    const chunks: Buffer[] = []
    for (let pos = 0; pos < bytes.length; pos += 997) chunks.push(bytes.subarray(pos, pos + 997))
    const { packets, error } = run(chunks, { protocolVersion: 4 })
    assert.equal(error, undefined)
    assert.ok(packets[0]?.payload?.equals(payload))
  })

  test('the maximum packet size applies before CONNECT too', () => {
    rejects(connect({ clientId: 'x'.repeat(100) }), 0x95, 0, { maxPacketSize: 50 })
  })

  test('packets in one chunk after a split one are all delivered, in order', () => {
    const a = frame(0x30, str('a'), [1])
    const b = frame(0x30, str('b'), [2])
    const stream = Buffer.concat([a, b, a, b])
    const { packets } = run([stream.subarray(0, 3), stream.subarray(3)], { protocolVersion: 4 })
    assert.deepEqual(packets.map((p) => p.topic), ['a', 'b', 'a', 'b'])
  })
})

describe('PUBLISH payloads', () => {
  test('a packet inside one chunk gets a view into the chunk, not a copy', () => {
    const chunk = Buffer.concat([frame(0x30, str('t'), Buffer.from('payload-1')), frame(0x30, str('t'), Buffer.from('payload-2'))])
    const packets = decode(chunk)
    for (const packet of packets) {
      const payload = (packet as { payload: Buffer }).payload
      assert.equal(payload.buffer, chunk.buffer)
    }
    assert.deepEqual(packets.map((p) => String(p.payload)), ['payload-1', 'payload-2'])
  })

  test('a packet spanning chunks is joined into its own buffer', () => {
    const bytes = frame(0x30, str('t'), Buffer.from('spanning'))
    const first = Buffer.from(bytes.subarray(0, 6))
    const second = Buffer.from(bytes.subarray(6))
    const { packets } = run([first, second], { protocolVersion: 4 })
    const payload = (packets[0] as { payload: Buffer }).payload
    first.fill(0)
    second.fill(0)
    assert.equal(String(payload), 'spanning')
  })

  test('an empty payload is an empty Buffer', () => {
    const [packet] = decode(frame(0x30, str('t')))
    assert.deepEqual(packet?.payload, Buffer.alloc(0))
  })
})

describe('fixed header flags', () => {
  for (const [name, first] of [
    ['SUBSCRIBE', 0x80],
    ['UNSUBSCRIBE', 0xa0],
    ['PUBREL', 0x60],
  ] as const) {
    test(`${name} must have flags 0010`, () => {
      rejects(frame(first, u16(1), str('a'), 0), 0x81)
      rejects(frame(first | 0x0b, u16(1), str('a'), 0), 0x81)
    })
  }

  test('MQTT 3.1 may set DUP on a retransmitted PUBREL, SUBSCRIBE or UNSUBSCRIBE; 3.1.1 and 5 may not', () => {
    for (const first of [0x6a, 0x8a, 0xaa]) {
      const body = first === 0x6a ? [u16(1)] : first === 0x8a ? [u16(1), str('a'), 0] : [u16(1), str('a')]
      const [packet] = decode(frame(first, ...body), 3)
      assert.equal(packet?.dup, true)
      rejects(frame(first, ...body), 0x81, 4)
      rejects(frame(first, ...body), 0x81, 5)
    }
    rejects(frame(0x48, u16(1)), 0x81, 3) // but not on PUBACK
  })

  test('PUBACK, PUBREC, PUBCOMP, PINGREQ, DISCONNECT and CONNECT must have flags 0000', () => {
    rejects(frame(0x42, u16(1)), 0x81)
    rejects(frame(0x51, u16(1)), 0x81)
    rejects(frame(0x78, u16(1)), 0x81)
    rejects(frame(0xc1), 0x81)
    rejects(frame(0xe2), 0x81)
    const badConnect = connect()
    badConnect[0] = 0x11
    rejects(badConnect, 0x81, 0)
  })

  test('PUBLISH with QoS 3 is malformed', () => {
    rejects(frame(0x36, str('a'), u16(1)), 0x81)
  })

  test('PUBLISH with QoS 0 and DUP is a protocol error', () => {
    rejects(frame(0x38, str('a')), 0x82)
    rejects(frame(0x38, str('a'), 0), 0x82, 5)
  })

  test('packet type 0 is malformed; server-only packets and AUTH before MQTT 5 are refused', () => {
    assert.match(rejects(frame(0x00), 0x81).message, /type 0 is reserved/)
    rejects(frame(0x20, 0, 0), 0x82) // CONNACK
    rejects(frame(0x90, u16(1), 0), 0x82) // SUBACK
    rejects(frame(0xb0, u16(1)), 0x82) // UNSUBACK
    rejects(frame(0xd0), 0x82) // PINGRESP
    rejects(frame(0xf0, 0, 0), 0x81, 4) // AUTH on 3.1.1
  })
})

describe('CONNECT', () => {
  test('accepts 3.1, 3.1.1 and 5, and learns the version for later packets', () => {
    for (const level of [3, 4, 5] as const) {
      const publishWithProperties = frame(0x30, str('t'), props(0x23, u16(4)), [9])
      const { packets, error } = run([connect({ level }), publishWithProperties])
      if (level === 5) {
        assert.equal(error, undefined)
        assert.deepEqual(packets[1]?.cmd === 'publish' && packets[1].properties, { topicAlias: 4 })
      } else {
        // Without properties the same bytes are a payload.
        assert.deepEqual(packets[1]?.payload, Buffer.from([3, 0x23, 0, 4, 9]))
      }
      assert.equal(packets[0]?.cmd === 'connect' && packets[0].protocolVersion, level)
    }
  })

  test('the first packet must be CONNECT, and only the first', () => {
    rejects(frame(0xc0), 0x82, 0)
    rejects(frame(0x30, str('a')), 0x82, 0)
    rejects(Buffer.concat([connect(), connect()]), 0x82, 0)
  })

  test('an unknown protocol name or level is an unsupported protocol version', () => {
    rejects(connect({ name: 'MQTX' }), 0x84, 0)
    rejects(connect({ level: 6 }), 0x84, 0)
    rejects(connect({ level: 4, name: 'MQIsdp' }), 0x84, 0)
    rejects(connect({ level: 3, name: 'MQTT' }), 0x84, 0)
  })

  test('the errors of a CONNECT carry its version', () => {
    assert.equal(rejects(connect({ level: 5, flags: 0x03 }), 0x81, 0).protocolVersion, 5)
    assert.equal(rejects(connect({ level: 6 }), 0x84, 0).protocolVersion, undefined)
  })

  test('bridge mode (level with bit 7) is accepted and marked', () => {
    const [packet] = run([connect({ level: 0x84 }), frame(0x82, u16(1), str('a/b'), 1)]).packets as [ClientPacket, ClientPacket]
    assert.equal(packet.cmd === 'connect' && packet.bridgeMode, true)
  })

  test('reserved flag bit 0 must be 0', () => {
    rejects(connect({ flags: 0x03 }), 0x81, 0)
  })

  test('will QoS and will retain must be 0 without a will; will QoS 3 is malformed', () => {
    rejects(connect({ flags: 0x02 | 0x08 }), 0x81, 0)
    rejects(connect({ flags: 0x02 | 0x20 }), 0x81, 0)
    rejects(connect({ flags: 0x02 | 0x04 | 0x18, willTopic: 'w' }), 0x81, 0)
    const { packets } = run([connect({ flags: 0x02 | 0x04 | 0x10 | 0x20, willTopic: 'w/t', willPayload: 'gone' })])
    const will = packets[0]?.cmd === 'connect' ? packets[0].will : undefined
    assert.deepEqual(will, { retain: true, qos: 2, topic: 'w/t', payload: Buffer.from('gone') })
  })

  test('a password without a user name is malformed on 3.1 and 3.1.1, allowed on 5', () => {
    rejects(connect({ level: 4, flags: 0x42, password: 'secret' }), 0x81, 0)
    rejects(connect({ level: 3, flags: 0x42, password: 'secret' }), 0x81, 0)
    const { packets, error } = run([connect({ level: 5, flags: 0x42, password: 'secret' })])
    assert.equal(error, undefined)
    assert.deepEqual(packets[0]?.cmd === 'connect' && packets[0].password, Buffer.from('secret'))
  })

  test('client identifier: required on 3.1, empty only with clean session on 3.1.1, empty always allowed on 5', () => {
    rejects(connect({ level: 3, clientId: '' }), 0x85, 0)
    rejects(connect({ level: 4, clientId: '', flags: 0x00 }), 0x85, 0)
    assert.equal(run([connect({ level: 4, clientId: '' })]).error, undefined)
    assert.equal(run([connect({ level: 5, clientId: '', flags: 0x00 })]).error, undefined)
  })

  test('strings must be well-formed UTF-8 without U+0000', () => {
    rejects(connect({ clientId: [0x61, 0x00, 0x62] }), 0x81, 0)
    rejects(connect({ clientId: [0xc0, 0xaf] }), 0x81, 0) // overlong '/'
    rejects(connect({ clientId: [0xed, 0xa0, 0x80] }), 0x81, 0) // U+D800
    rejects(connect({ username: [0xf4, 0x90, 0x80, 0x80] }), 0x81, 0) // above U+10FFFF
    rejects(connect({ willTopic: [0x61, 0xe2, 0x82] }), 0x81, 0) // truncated
  })

  test('the will topic must be a topic name', () => {
    rejects(connect({ willTopic: 'a/+' }), 0x90, 0)
    rejects(connect({ willTopic: '#' }), 0x90, 0)
    rejects(connect({ willTopic: '' }), 0x82, 0)
  })

  test('bytes after the last field are malformed; a field past the end too', () => {
    rejects(connect({ trailing: [0] }), 0x81, 0)
    const short = connect({ username: 'user' })
    rejects(Buffer.concat([Buffer.from([0x10, short[1]! - 2]), short.subarray(2, short.length - 2)]), 0x81, 0)
  })

  test('MQTT 5 properties: allowed ones only, once each, in range', () => {
    const v5 = (properties: number[], extra: ConnectFields = {}) => connect({ level: 5, properties, ...extra })
    assert.equal(run([v5(props(0x11, u32(30), 0x21, u16(10), 0x27, u32(1000), 0x22, u16(5), 0x19, 1, 0x17, 0, 0x26, str('k'), str('v'), 0x26, str('k'), str('w')))]).error, undefined)
    rejects(v5(props(0x21, u16(0))), 0x82, 0) // Receive Maximum 0
    rejects(v5(props(0x27, u32(0))), 0x82, 0) // Maximum Packet Size 0
    rejects(v5(props(0x11, u32(1), 0x11, u32(2))), 0x82, 0) // Session Expiry Interval twice
    rejects(v5(props(0x17, 2)), 0x82, 0) // Request Problem Information 2
    rejects(v5(props(0x19, 2)), 0x82, 0) // Request Response Information 2
    rejects(v5(props(0x16, str('data'))), 0x82, 0) // Authentication Data without a method
    rejects(v5(props(0x23, u16(1))), 0x81, 0) // Topic Alias is not a CONNECT property
    rejects(v5(props(0x05, 0)), 0x81, 0) // no such property
    assert.match(rejects(v5([3, 0x11, 0, 0]), 0x81, 0).message, /runs past the property list/)
    assert.match(rejects(v5([0x7f]), 0x81, 0).message, /beyond the end of the packet/)
    rejects(v5([0x80, 0x00]), 0x81, 0) // property length not in its shortest form
  })

  test('MQTT 5 will properties', () => {
    const withWill = (willProperties: number[]) => connect({ level: 5, willTopic: 'w', willProperties })
    const { packets } = run([withWill(props(0x18, u32(5), 0x01, 1, 0x02, u32(60), 0x03, str('text/plain'), 0x08, str('re/ply'), 0x09, str('id')))])
    assert.deepEqual(packets[0]?.cmd === 'connect' && packets[0].will?.properties, {
      willDelayInterval: 5,
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
      contentType: 'text/plain',
      responseTopic: 're/ply',
      correlationData: Buffer.from('id'),
    })
    rejects(withWill(props(0x01, 2)), 0x82, 0) // Payload Format Indicator 2
    rejects(withWill(props(0x08, str('re/+'))), 0x82, 0) // wildcard in Response Topic
    rejects(withWill(props(0x11, u32(1))), 0x81, 0) // Session Expiry Interval is not a will property
  })
})

describe('PUBLISH', () => {
  test('topic names must not contain wildcards', () => {
    rejects(PUBLISH_QOS1(str('a/+/b')), 0x90)
    rejects(PUBLISH_QOS1(str('a/#')), 0x90)
    rejects(PUBLISH_QOS1(str('é/#')), 0x90) // also off the ASCII path
    assert.equal(decode(PUBLISH_QOS1(str('é/ü/日本')))[0]?.topic, 'é/ü/日本')
  })

  test('topic names must be well-formed UTF-8 without U+0000', () => {
    rejects(PUBLISH_QOS1(str([0x61, 0x00])), 0x81)
    rejects(PUBLISH_QOS1(str([0xc1, 0xbf])), 0x81)
    rejects(PUBLISH_QOS1(str([0xed, 0xbf, 0xbf])), 0x81)
    rejects(PUBLISH_QOS1(str([0x80])), 0x81)
  })

  test('an empty topic is a protocol error, except with a topic alias on MQTT 5', () => {
    rejects(PUBLISH_QOS1(str('')), 0x82, 4)
    rejects(frame(0x30, str(''), props()), 0x82, 5)
    const [packet] = decode(frame(0x30, str(''), props(0x23, u16(3)), [7]), 5)
    assert.equal(packet?.topic, '')
    assert.deepEqual(packet?.cmd === 'publish' && packet.properties, { topicAlias: 3 })
  })

  test('QoS > 0 needs a non-zero packet identifier', () => {
    rejects(PUBLISH_QOS1(str('a'), 0), 0x82)
    rejects(frame(0x34, str('a'), u16(0)), 0x82)
    rejects(frame(0x32, str('a'), 0), 0x81) // packet identifier cut short
  })

  test('a topic longer than the packet is malformed', () => {
    rejects(frame(0x30, u16(10), [0x61]), 0x81)
    rejects(frame(0x30, 0), 0x81)
  })

  test('MQTT 5: topic alias 0 or above the maximum is Topic Alias invalid', () => {
    rejects(frame(0x30, str('t'), props(0x23, u16(0))), 0x94, 5)
    rejects(frame(0x30, str('t'), props(0x23, u16(11))), 0x94, 5, { topicAliasMaximum: 10 })
    assert.equal(decode(frame(0x30, str('t'), props(0x23, u16(10))), 5, { topicAliasMaximum: 10 }).length, 1)
  })

  test('MQTT 5: a client must not send a subscription identifier; properties of other packets are malformed', () => {
    rejects(frame(0x30, str('t'), props(0x0b, 1)), 0x82, 5)
    rejects(frame(0x30, str('t'), props(0x1f, str('why'))), 0x81, 5) // Reason String
    rejects(frame(0x30, str('t'), props(0x11, u32(1))), 0x81, 5) // Session Expiry Interval
  })

  test('MQTT 5: property values and repetitions', () => {
    rejects(frame(0x30, str('t'), props(0x01, 2)), 0x82, 5)
    rejects(frame(0x30, str('t'), props(0x02, u32(1), 0x02, u32(1))), 0x82, 5)
    rejects(frame(0x30, str('t'), props(0x08, str('a/#'))), 0x82, 5)
    rejects(frame(0x30, str('t'), props(0x03, str([0xff]))), 0x81, 5)
    rejects(frame(0x30, str('t'), [10, 0x01, 1]), 0x81, 5) // property length past the packet
    rejects(frame(0x30, str('t'), props(0x26, str('k'), str([0xc0, 0x80]))), 0x81, 5)
    const [packet] = decode(frame(0x30, str('t'), props(0x26, str('k'), str(''), 0x26, str('k'), str('b'), 0x26, str('__proto__'), str('x'))), 5)
    const userProperties = packet?.cmd === 'publish' ? packet.properties?.userProperties : undefined
    assert.deepEqual(Object.entries(userProperties ?? {}), [['k', ['', 'b']], ['__proto__', 'x']])
    assert.equal(Object.getPrototypeOf(userProperties), null)
  })
})

describe('SUBSCRIBE', () => {
  const subscribe = (...body: Bytes[]) => frame(0x82, ...body)

  test('needs at least one topic filter and a non-zero packet identifier', () => {
    rejects(subscribe(u16(1)), 0x82, 4)
    rejects(subscribe(u16(1), props()), 0x82, 5)
    rejects(subscribe(u16(0), str('a'), 0), 0x82)
    rejects(subscribe(u16(1), str('a')), 0x81) // options byte missing
  })

  test('reserved option bits must be 0; QoS 3 malformed on 3.1.1, a protocol error on 5, as retain handling 3', () => {
    rejects(subscribe(u16(1), str('a'), 0x04), 0x81, 4)
    rejects(subscribe(u16(1), str('a'), 0x03), 0x81, 4)
    rejects(subscribe(u16(1), props(), str('a'), 0x40), 0x81, 5)
    rejects(subscribe(u16(1), props(), str('a'), 0x80), 0x81, 5)
    rejects(subscribe(u16(1), props(), str('a'), 0x03), 0x82, 5)
    rejects(subscribe(u16(1), props(), str('a'), 0x30), 0x82, 5)
    const [packet] = decode(subscribe(u16(1), props(), str('a'), 0x2e), 5)
    assert.deepEqual(packet?.cmd === 'subscribe' && packet.subscriptions, [{ topic: 'a', qos: 2, nl: true, rap: true, rh: 2 }])
  })

  test('topic filters must be well formed', () => {
    for (const filter of ['a/#/b', 'a#', 'a/b#', '#/', 'a+', 'a/+b', '+a/b', '']) {
      rejects(subscribe(u16(1), str(filter), 0), 0x8f, 4)
    }
    for (const filter of ['#', '+', '+/+/#', 'a//b', '/', 'a/+/c', '/#', '$SYS/#', 'é/+']) {
      assert.equal(decode(subscribe(u16(1), str(filter), 1))[0]?.cmd, 'subscribe', filter)
    }
    rejects(subscribe(u16(1), str([0x61, 0x00]), 0), 0x81)
  })

  test('MQTT 5 shared subscriptions: a share name without wildcards, a filter, no No Local', () => {
    for (const filter of ['$share//a', '$share/g+/a', '$share/g#/a', '$share/g', '$share/g/', '$share/g/a#']) {
      rejects(subscribe(u16(1), props(), str(filter), 0), 0x8f, 5)
    }
    assert.equal(decode(subscribe(u16(1), props(), str('$share/group/a/+'), 1), 5).length, 1)
    rejects(subscribe(u16(1), props(), str('$share/group/a'), 0x04), 0x82, 5)
    // On 3.1.1 '$share/g' is an ordinary filter.
    assert.equal(decode(subscribe(u16(1), str('$share/g'), 0), 4).length, 1)
  })

  test('MQTT 5 subscription identifier: not 0, once, not in UNSUBSCRIBE', () => {
    const [packet] = decode(subscribe(u16(1), props(0x0b, varInt(268_435_455)), str('a'), 0), 5)
    assert.deepEqual(packet?.cmd === 'subscribe' && packet.properties, { subscriptionIdentifier: 268_435_455 })
    rejects(subscribe(u16(1), props(0x0b, 0), str('a'), 0), 0x82, 5)
    rejects(subscribe(u16(1), props(0x0b, 1, 0x0b, 2), str('a'), 0), 0x82, 5)
    rejects(subscribe(u16(1), props(0x0b, [0x81, 0x00]), str('a'), 0), 0x81, 5) // not in its shortest form
    rejects(frame(0xa2, u16(1), props(0x0b, 1), str('a')), 0x81, 5)
  })

  test('bridges on 3.1.1 get the MQTT 5 defaults of a bridge (as mqtt-packet)', () => {
    const { packets } = run([connect({ level: 0x84 }), subscribe(u16(1), str('a/b'), 1)])
    assert.deepEqual(packets[1]?.cmd === 'subscribe' && packets[1].subscriptions, [{ topic: 'a/b', qos: 1, rh: 0, rap: true, nl: true }])
  })
})

describe('UNSUBSCRIBE', () => {
  test('needs at least one well-formed topic filter and a non-zero packet identifier', () => {
    rejects(frame(0xa2, u16(1)), 0x82, 4)
    rejects(frame(0xa2, u16(1), props()), 0x82, 5)
    rejects(frame(0xa2, u16(0), str('a')), 0x82)
    rejects(frame(0xa2, u16(1), str('a/#/b')), 0x8f)
    rejects(frame(0xa2, u16(1), str('a'), 0), 0x81) // half a length
    const [packet] = decode(frame(0xa2, u16(7), str('a'), str('b/+')))
    assert.deepEqual(packet?.cmd === 'unsubscribe' && packet.unsubscriptions, ['a', 'b/+'])
  })
})

describe('PUBACK, PUBREC, PUBREL, PUBCOMP', () => {
  test('3.1.1: exactly a packet identifier', () => {
    rejects(frame(0x40, u16(1), 0), 0x81, 4)
    rejects(frame(0x40, 1), 0x81, 4)
    assert.deepEqual(decode(frame(0x62, u16(5)), 4)[0], { cmd: 'pubrel', retain: false, qos: 1, dup: false, length: 2, topic: null, payload: null, messageId: 5 })
  })

  test('MQTT 5: reason codes of the packet only, properties of acks only, nothing after them', () => {
    assert.equal(decode(frame(0x40, u16(1)), 5)[0]?.cmd === 'puback' && (decode(frame(0x40, u16(1)), 5)[0] as { reasonCode: number }).reasonCode, 0)
    assert.equal((decode(frame(0x40, u16(1), 0x10), 5)[0] as { reasonCode: number }).reasonCode, 0x10)
    rejects(frame(0x40, u16(1), 0x05), 0x82, 5)
    rejects(frame(0x62, u16(1), 0x10), 0x82, 5) // not a PUBREL code
    rejects(frame(0x70, u16(1), 0x92, props(0x23, u16(1))), 0x81, 5)
    rejects(frame(0x50, u16(1), 0x00, props(), 0), 0x81, 5)
    const [packet] = decode(frame(0x70, u16(1), 0x92, props(0x1f, str('gone'))), 5)
    assert.deepEqual(packet?.cmd === 'pubcomp' && packet.properties, { reasonString: 'gone' })
  })
})

describe('PINGREQ, DISCONNECT, AUTH', () => {
  test('PINGREQ has no body', () => {
    rejects(frame(0xc0, 0), 0x81)
  })

  test('DISCONNECT: no body before 5; on 5 a valid reason code and client properties', () => {
    rejects(frame(0xe0, 0), 0x81, 4)
    assert.equal((decode(frame(0xe0), 5)[0] as { reasonCode: number }).reasonCode, 0)
    assert.equal((decode(frame(0xe0, 0x04), 5)[0] as { reasonCode: number }).reasonCode, 4)
    rejects(frame(0xe0, 0x01), 0x82, 5)
    rejects(frame(0xe0, 0x00, props(0x1c, str('elsewhere'))), 0x82, 5) // Server Reference from a client
    rejects(frame(0xe0, 0x00, props(0x21, u16(1))), 0x81, 5)
    const [packet] = decode(frame(0xe0, 0x00, props(0x11, u32(0))), 5)
    assert.deepEqual(packet?.cmd === 'disconnect' && packet.properties, { sessionExpiryInterval: 0 })
  })

  test('AUTH: its reason codes, its properties; an empty AUTH means success', () => {
    assert.equal((decode(frame(0xf0), 5)[0] as { reasonCode: number }).reasonCode, 0)
    rejects(frame(0xf0, 0x01), 0x82, 5)
    rejects(frame(0xf0, 0x18, props(0x16, str('data'))), 0x82, 5) // data without a method
    const [packet] = decode(frame(0xf0, 0x18, props(0x15, str('SCRAM'), 0x16, str('data'))), 5)
    assert.deepEqual(packet?.cmd === 'auth' && packet.properties, { authenticationMethod: 'SCRAM', authenticationData: Buffer.from('data') })
  })
})

describe('after an error', () => {
  test('packets before it are delivered, then nothing more; push returns the same error', () => {
    const good = frame(0x30, str('a'))
    const { packets, error } = run([Buffer.concat([good, frame(0x30, str('a/#')), good])], { protocolVersion: 4 })
    assert.equal(packets.length, 1)
    assert.equal(error?.reasonCode, 0x90)
    const decoder = new PacketDecoder({ protocolVersion: 4, onPacket: () => assert.fail('no packets after an error') })
    const first = decoder.push(frame(0x00))
    assert.ok(first instanceof PacketDecodeError)
    assert.equal(decoder.push(good), first)
    assert.equal(decoder.error, first)
  })

  test('stop() from onPacket ends decoding of the rest', () => {
    const seen: string[] = []
    const decoder: PacketDecoder = new PacketDecoder({
      protocolVersion: 4,
      onPacket: (packet) => {
        seen.push(packet.cmd)
        decoder.stop()
      },
    })
    assert.equal(decoder.push(Buffer.concat([frame(0xc0), frame(0xc0)])), undefined)
    assert.equal(decoder.push(frame(0xc0)), undefined)
    assert.deepEqual(seen, ['pingreq'])
  })

  test('a throwing onPacket propagates and leaves the decoder failed', () => {
    const decoder = new PacketDecoder({
      protocolVersion: 4,
      onPacket: () => {
        throw new Error('handler bug')
      },
    })
    assert.throws(() => decoder.push(frame(0xc0)), /handler bug/)
    assert.equal(decoder.push(frame(0xc0))?.reasonCode, 0x80)
  })
})

test('UTF-8 well-formedness', () => {
  const ok = ['', 'abc', 'é', '日本', '😀', '\u007f', '\uffff', '\u{10ffff}']
  for (const text of ok) assert.equal(isWellFormedUtf8(Buffer.from(text), 0, Buffer.byteLength(text)), true, text)
  const bad = [[0x00], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0xc3], [0xe6, 0x97], [0xf0, 0x9f, 0x98], [0xc3, 0x41], [0xe6, 0x41, 0xa5]]
  for (const bytes of bad) assert.equal(isWellFormedUtf8(Buffer.from(bytes), 0, bytes.length), false, Buffer.from(bytes).toString('hex'))
})

test('topic filter rules', () => {
  assert.equal(isValidTopicFilter('sport/tennis/#', 4), true)
  assert.equal(isValidTopicFilter('sport/tennis#', 4), false)
  assert.equal(isValidTopicFilter('+/tennis/#', 4), true)
  assert.equal(isValidTopicFilter('sport+', 4), false)
  assert.equal(isValidTopicFilter('$share/g/+', 5), true)
  assert.equal(isValidTopicFilter('$share/g/+', 4), true)
  assert.equal(isValidTopicFilter('$share/+/x', 5), false)
})
