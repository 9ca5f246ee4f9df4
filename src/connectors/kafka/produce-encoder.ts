/**
 * A one-pass encoder for Kafka Produce requests (v3 to v7: RecordBatch v2, magic 2), installed
 * in place of kafkajs's own.
 *
 * Why: kafkajs builds every record, header and varint as a separate `Encoder` (a fresh Buffer
 * per varint, 64-bit `Long` objects for timestamps), copies each into its parent, and computes
 * CRC-32C a byte at a time. That was most of the producer thread's time and garbage at 100k
 * records/s. This encoder measures the request once, allocates one buffer, writes every field
 * in place and checksums with slicing-by-8. Everything else (connections, metadata, SASL,
 * retries, idempotent sequence numbers, responses) stays kafkajs's.
 *
 * How: installed through the kafkajs library patch (src/library-patches/kafkajs.ts), which
 * swaps kafkajs's Produce v3-v7 request modules in this thread's require cache, on the pinned
 * kafkajs release only. The output is byte-for-byte kafkajs's (produce-encoder.test.ts compares
 * them), and whatever the fast path does not cover (compression, header value lists, other value
 * types) goes to kafkajs's encoder unchanged.
 */
import { replaceProduceEncoding } from '../../library-patches/kafkajs.js'

/** kafkajs's Long (only what the encoder reads of a producer ID). */
interface LongLike {
  getHighBits(): number
  getLowBits(): number
}

/** A message as kafkajs hands it to the Produce request (after partitioning). */
interface ProduceMessage {
  key?: unknown
  value?: unknown
  headers?: Record<string, unknown>
  timestamp?: unknown
}

export interface ProduceRequestArgs {
  acks: number
  timeout: number
  transactionalId?: string | null
  /** kafkajs passes -1 (a number) without idempotence, a Long from InitProducerId with it. */
  producerId?: number | string | LongLike
  producerEpoch?: number
  compression?: number
  topicData: ReadonlyArray<{
    topic: string
    partitions: ReadonlyArray<{ partition: number; firstSequence?: number; messages: readonly ProduceMessage[] }>
  }>
}

const MAGIC = 2
const TRANSACTIONAL = 16
/** Bytes of a RecordBatch from its attributes to the record count (what the CRC covers before the records). */
const BATCH_BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4
/** firstOffset, length, partitionLeaderEpoch, magic, crc. */
const BATCH_PREFIX = 8 + 4 + 4 + 1 + 4

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), slicing-by-8

const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
})()

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLES
  let crc = -1
  let i = start
  for (const last8 = end - ((end - start) & 7); i < last8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24)
    crc = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]!
      ^ t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}

// ---------------------------------------------------------------------------------------------
// Sizes and writers

/** ZigZag of a 32-bit int, as an unsigned 32-bit number. */
const zigzag32 = (v: number) => ((v << 1) ^ (v >> 31)) >>> 0
/** ZigZag of an integer within ±2^52 (timestamps and their deltas), exact in doubles. */
const zigzag64 = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1)

function sizeOfUVarint(u: number): number {
  let n = 1
  while (u >= 0x80) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

/** Bytes of a varint-length-prefixed field (-1 for null), content included. */
const sizeOfVarBytes = (len: number) => (len < 0 ? 1 : sizeOfUVarint(zigzag32(len)) + len)

/** A request under construction: one buffer, one cursor. */
class Writer {
  offset = 0
  constructor(readonly buf: Buffer) {}

  int8(v: number): void {
    this.buf[this.offset++] = v & 0xff
  }

  int16(v: number): void {
    this.buf.writeInt16BE(v, this.offset)
    this.offset += 2
  }

  int32(v: number): void {
    this.buf.writeInt32BE(v, this.offset)
    this.offset += 4
  }

  /** An integer within ±2^53 as a big-endian int64. */
  int64(v: number): void {
    const high = Math.floor(v / 0x1_0000_0000)
    this.buf.writeInt32BE(high, this.offset)
    this.buf.writeUInt32BE(v - high * 0x1_0000_0000, this.offset + 4)
    this.offset += 8
  }

  /** An int64 as kafkajs takes one: a number, a decimal string or a Long. */
  long(v: number | string | LongLike): void {
    if (typeof v === 'number') return this.int64(v)
    if (typeof v === 'string') {
      this.buf.writeBigInt64BE(BigInt(v), this.offset)
      this.offset += 8
      return
    }
    this.int32(v.getHighBits())
    this.int32(v.getLowBits())
  }

  uvarint(u: number): void {
    const buf = this.buf
    while (u >= 0x80) {
      buf[this.offset++] = (u & 0x7f) | 0x80
      u = Math.floor(u / 128)
    }
    buf[this.offset++] = u
  }

  /** A varint-prefixed byte field: -1 for null, else the length and the bytes (strings as UTF-8). */
  varBytes(v: string | Buffer | null, len: number): void {
    if (v === null) {
      this.buf[this.offset++] = 1 // zigzag(-1)
      return
    }
    this.uvarint(zigzag32(len))
    if (typeof v === 'string') this.buf.write(v, this.offset, len, 'utf8')
    else v.copy(this.buf, this.offset)
    this.offset += len
  }

  /** An int16-prefixed string (-1 for null). */
  string(v: string | null): void {
    if (v === null) return this.int16(-1)
    const len = Buffer.byteLength(v)
    this.int16(len)
    this.buf.write(v, this.offset, len, 'utf8')
    this.offset += len
  }
}

// ---------------------------------------------------------------------------------------------
// The request

type Bytes = string | Buffer | null

/** A record's fields as the fast path takes them, with their encoded lengths. */
interface Plan {
  key: Bytes
  keyLen: number
  value: Bytes
  valueLen: number
  headers: Array<[string, number, Bytes, number]> | undefined
  timestampDelta: number
  /** Bytes of the record after its length prefix. */
  body: number
}

/** Key, value or header value the fast path writes as kafkajs does; `undefined` for anything else. */
function bytesOf(v: unknown): Bytes | undefined {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v
  return undefined
}

const byteLen = (v: Bytes) => (v === null ? -1 : typeof v === 'string' ? Buffer.byteLength(v) : v.length)

/** A timestamp kafkajs would read as this integer (epoch ms), or undefined when the fast path should not decide. */
function timestampOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/**
 * The Produce request body (after the common request header) for `args`, exactly as kafkajs
 * 2.2.4 encodes it, or `undefined` when the request needs kafkajs's own encoder (compression,
 * header value lists, keys or values other than strings and Buffers, unusual timestamps).
 */
export function encodeProduceRequest(args: ProduceRequestArgs, now = Date.now()): Buffer | undefined {
  if ((args.compression ?? 0) !== 0) return undefined
  const transactionalId = args.transactionalId ?? null
  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4
  const topics: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence: number; plans: Plan[]; first: number; max: number; records: number }> }> = []
  for (const t of args.topicData) {
    size += 2 + Buffer.byteLength(t.topic) + 4
    const partitions = []
    for (const p of t.partitions) {
      // kafkajs: the batch's first and max timestamps are the first and last of the records'
      // own timestamps in default (string) sort order; records without one use "now".
      const stamped: unknown[] = []
      for (const m of p.messages) if (m.timestamp !== null && m.timestamp !== undefined) stamped.push(m.timestamp)
      stamped.sort()
      const first = stamped.length === 0 ? now : timestampOf(stamped[0])
      const max = stamped.length === 0 ? now : timestampOf(stamped[stamped.length - 1])
      if (first === undefined || max === undefined) return undefined
      const plans: Plan[] = []
      let records = 0
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!
        const key = bytesOf(m.key)
        const value = bytesOf(m.value)
        if (key === undefined || value === undefined) return undefined
        // `message.timestamp || now`, as kafkajs (an empty string or 0 means now).
        const ts = m.timestamp ? timestampOf(m.timestamp) : now
        if (ts === undefined) return undefined
        const timestampDelta = ts - first
        const keyLen = byteLen(key)
        const valueLen = byteLen(value)
        let headers: Plan['headers']
        let headersSize = 1
        if (m.headers !== undefined) {
          headers = []
          for (const name of Object.keys(m.headers)) {
            const hv = m.headers[name]
            if (hv === null || hv === undefined) return undefined
            const hb = bytesOf(hv)
            if (hb === undefined || hb === null) return undefined
            const nameLen = Buffer.byteLength(name)
            const hvLen = byteLen(hb)
            headers.push([name, nameLen, hb, hvLen])
            headersSize += sizeOfVarBytes(nameLen) + sizeOfVarBytes(hvLen)
          }
          headersSize = sizeOfUVarint(zigzag32(headers.length)) + headersSize - 1
        }
        const body = 1 + sizeOfUVarint(zigzag64(timestampDelta)) + sizeOfUVarint(zigzag32(i)) + sizeOfVarBytes(keyLen) + sizeOfVarBytes(valueLen) + headersSize
        plans.push({ key, keyLen, value, valueLen, headers, timestampDelta, body })
        records += sizeOfUVarint(zigzag32(body)) + body
      }
      size += 4 + 4 + BATCH_PREFIX + BATCH_BODY_HEADER + records
      partitions.push({ partition: p.partition, firstSequence: p.firstSequence ?? 0, plans, first, max, records })
    }
    topics.push({ topic: t.topic, partitions })
  }

  const w = new Writer(Buffer.allocUnsafe(size))
  const producerId = args.producerId
  const producerEpoch = args.producerEpoch ?? 0
  const attributes = transactionalId === null ? 0 : TRANSACTIONAL
  w.string(transactionalId)
  w.int16(args.acks)
  w.int32(args.timeout)
  w.int32(topics.length)
  for (const t of topics) {
    w.string(t.topic)
    w.int32(t.partitions.length)
    for (const p of t.partitions) {
      const batchLength = 4 + 1 + 4 + BATCH_BODY_HEADER + p.records
      w.int32(p.partition)
      w.int32(8 + 4 + batchLength)
      w.int64(0) // firstOffset
      w.int32(batchLength)
      w.int32(0) // partitionLeaderEpoch
      w.int8(MAGIC)
      const crcAt = w.offset
      w.offset += 4
      const bodyAt = w.offset
      w.int16(attributes)
      w.int32(p.plans.length - 1) // lastOffsetDelta
      w.int64(p.first)
      w.int64(p.max)
      w.long(producerId ?? -1)
      w.int16(producerEpoch)
      w.int32(p.firstSequence)
      w.int32(p.plans.length)
      for (let i = 0; i < p.plans.length; i++) {
        const r = p.plans[i]!
        w.uvarint(zigzag32(r.body))
        w.int8(0) // record attributes
        w.uvarint(zigzag64(r.timestampDelta))
        w.uvarint(zigzag32(i)) // offsetDelta
        w.varBytes(r.key, r.keyLen)
        w.varBytes(r.value, r.valueLen)
        const headers = r.headers ?? []
        w.uvarint(zigzag32(headers.length))
        for (const [name, nameLen, hv, hvLen] of headers) {
          w.varBytes(name, nameLen)
          w.varBytes(hv, hvLen)
        }
      }
      w.buf.writeUInt32BE(crc32c(w.buf, bodyAt, w.offset), crcAt)
    }
  }
  if (w.offset !== size) throw new Error(`Produce request size mismatch: wrote ${w.offset} of ${size} bytes`)
  return w.buf
}

/**
 * Makes this thread's kafkajs encode Produce requests with `encodeProduceRequest` (see
 * src/library-patches/kafkajs.ts). False when the installed kafkajs is not the one it was checked against.
 */
export function installProduceEncoder(): boolean {
  return replaceProduceEncoding(encodeProduceRequest)
}
