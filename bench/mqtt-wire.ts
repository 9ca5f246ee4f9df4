/**
 * The few MQTT 3.1.1 packets the broker benchmark's load generator sends, built by hand, and a
 * reader that splits a byte stream into packets. Hand-built so that the generator costs next to
 * nothing per message and is byte-for-byte the same for every broker it loads (the mqtt.js
 * client cannot saturate a broker on this machine).
 */

export const CONNACK = 2
export const PUBLISH = 3
export const PUBACK = 4
export const SUBACK = 9

/** Bytes a remaining length of `n` takes. */
function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

function writeLength(buf: Buffer, offset: number, n: number): number {
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 128
    buf[offset++] = byte
  } while (n > 0)
  return offset
}

function packet(firstByte: number, body: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(1 + lengthBytes(body.length) + body.length)
  buf[0] = firstByte
  body.copy(buf, writeLength(buf, 1, body.length))
  return buf
}

function utf8(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8')
  const buf = Buffer.allocUnsafe(2 + bytes.length)
  buf.writeUInt16BE(bytes.length, 0)
  bytes.copy(buf, 2)
  return buf
}

/** CONNECT, protocol level 4 (MQTT 3.1.1), clean session, no credentials. */
export function connectPacket(clientId: string, keepalive: number): Buffer {
  const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, keepalive >> 8, keepalive & 0xff])
  return packet(0x10, Buffer.concat([header, utf8(clientId)]))
}

export function subscribePacket(packetId: number, filter: string, qos: 0 | 1): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), utf8(filter), Buffer.from([qos])]))
}

export const DISCONNECT = Buffer.from([0xe0, 0])

/**
 * A PUBLISH whose payload and packet identifier the caller patches in place (at `payloadAt` and
 * `packetIdAt`) before each copy goes out.
 */
export interface PublishTemplate {
  readonly bytes: Buffer
  readonly payloadAt: number
  /** -1 for QoS 0. */
  readonly packetIdAt: number
}

export function publishTemplate(topic: string, payloadSize: number, qos: 0 | 1): PublishTemplate {
  const topicBytes = utf8(topic)
  const idBytes = qos > 0 ? 2 : 0
  const remaining = topicBytes.length + idBytes + payloadSize
  const bytes = Buffer.alloc(1 + lengthBytes(remaining) + remaining, 0x2e) // filler: '.'
  bytes[0] = 0x30 | (qos << 1)
  const topicAt = writeLength(bytes, 1, remaining)
  topicBytes.copy(bytes, topicAt)
  const after = topicAt + topicBytes.length
  return { bytes, payloadAt: after + idBytes, packetIdAt: qos > 0 ? after : -1 }
}

/** PUBACKs for `ids`, in one buffer (a subscriber acknowledges a whole read at once). */
export function pubacks(ids: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(4 * ids.length)
  for (let i = 0; i < ids.length; i++) {
    buf[4 * i] = 0x40
    buf[4 * i + 1] = 2
    buf.writeUInt16BE(ids[i]!, 4 * i + 2)
  }
  return buf
}

/**
 * Splits a byte stream into MQTT packets: `onPacket(type, flags, data, start, end)` gets each
 * packet's body as a range of `data`, valid only during the call.
 */
export class PacketReader {
  private rest: Buffer | undefined

  constructor(private readonly onPacket: (type: number, flags: number, data: Buffer, start: number, end: number) => void) {}

  feed(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk
    this.rest = undefined
    let offset = 0
    for (;;) {
      let i = offset + 1
      let length = 0
      let multiplier = 1
      let complete = false
      while (i < buf.length) {
        const byte = buf[i++]!
        length += (byte & 127) * multiplier
        multiplier *= 128
        if ((byte & 128) === 0) { complete = true; break }
      }
      if (!complete || i + length > buf.length) break
      const first = buf[offset]!
      this.onPacket(first >> 4, first & 15, buf, i, i + length)
      offset = i + length
    }
    if (offset < buf.length) this.rest = buf.subarray(offset)
  }
}
