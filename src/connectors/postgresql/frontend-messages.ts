/**
 * The few frontend messages of PostgreSQL's extended query protocol that a rule action sends
 * (Parse, Bind, Execute, Describe statement, Sync), written in one pass into one buffer that goes
 * to the socket in a single write.
 *
 * Why not pg's own serializer: it writes each message into a buffer of its own, maps every value
 * through pg's generic value preparation, and writes a format code per parameter; a 100-row
 * batch of 4 columns is 400 parameters, and on the delivery path that per-parameter work sat on
 * the same thread as the MQTT broker. Here a batch costs one length-prefixed UTF-8 write per
 * value and one copy of the finished bytes. The bytes are the protocol's: `frontend-messages.test.ts`
 * decodes them and compares them with pg-protocol's serializer.
 */

/** A bind parameter as it goes on the wire: text, bytes (bytea, sent in binary format) or NULL. */
export type WireValue = string | Buffer | null

/** Node's Buffer has a UTF-8 writer without `write()`'s argument juggling; not in the typings. */
interface Utf8Writer {
  utf8Write?(value: string, offset: number, length?: number): number
}

const EXECUTE_ALL_ROWS = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]) // 'E', len 9, portal "", max rows 0
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]) // 'S', len 4

/**
 * Writes messages into a scratch buffer reused from one batch to the next; `take()` hands out a
 * copy of exactly the bytes written. Not reentrant: encode a batch, take it, then the next.
 */
export class FrontendMessages {
  private buf: Buffer
  private off = 0

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  /** Parse: a statement (unnamed when `name` is ""), parameter types left to the server. */
  parse(name: string, text: string): this {
    const start = this.begin(0x50)
    this.cstring(name)
    this.cstring(text)
    this.int16(0)
    return this.end(start)
  }

  /**
   * Bind of `values` to the statement `name` (unnamed portal): text parameters, bytea as binary,
   * results in text. With no Buffer among the values it sends no per-parameter format codes
   * ("all text"), 2 bytes per parameter fewer than pg's serializer.
   */
  bind(name: string, values: readonly WireValue[]): this {
    const count = values.length
    if (count > 0xffff) throw new RangeError(`${count} bind parameters: PostgreSQL takes at most 65535 in one statement`)
    const start = this.begin(0x42)
    this.cstring('') // portal
    this.cstring(name)
    let binary = false
    for (let i = 0; i < count; i++) if (Buffer.isBuffer(values[i])) { binary = true; break }
    if (binary) {
      this.int16(count)
      this.ensure(count * 2)
      for (let i = 0; i < count; i++) this.int16(Buffer.isBuffer(values[i]) ? 1 : 0)
    } else {
      this.int16(0)
    }
    this.int16(count)
    for (let i = 0; i < count; i++) {
      const v = values[i]
      if (v === null || v === undefined) this.int32(-1)
      else if (typeof v === 'string') this.lengthPrefixedString(v)
      else this.lengthPrefixedBytes(v)
    }
    this.int16(1) // one result format code...
    this.int16(0) // ...text, for every column
    return this.end(start)
  }

  /** Execute the unnamed portal, all rows. */
  execute(): this {
    return this.bytes(EXECUTE_ALL_ROWS)
  }

  /** Describe a statement: the server answers its parameter and row descriptions. */
  describeStatement(name: string): this {
    const start = this.begin(0x44)
    this.ensure(1)
    this.buf[this.off++] = 0x53 // 'S'
    this.cstring(name)
    return this.end(start)
  }

  /** Sync: ends the implicit transaction (commit, or rollback after an error). */
  sync(): this {
    return this.bytes(SYNC)
  }

  /** The bytes written since the last take, as a buffer of their own. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.off)
    this.buf.copy(out, 0, 0, this.off)
    this.off = 0
    // One huge batch must not pin its size for the life of the process.
    if (this.buf.length > 16 * this.initialBytes) this.buf = Buffer.allocUnsafe(this.initialBytes)
    return out
  }

  private begin(code: number): number {
    this.ensure(5)
    const start = this.off
    this.buf[start] = code
    this.off += 5 // code + length, filled in by `end`
    return start
  }

  private end(start: number): this {
    this.buf.writeInt32BE(this.off - start - 1, start + 1)
    return this
  }

  private bytes(b: Buffer): this {
    this.ensure(b.length)
    b.copy(this.buf, this.off)
    this.off += b.length
    return this
  }

  private int16(n: number): void {
    this.ensure(2)
    this.buf[this.off++] = (n >>> 8) & 0xff
    this.buf[this.off++] = n & 0xff
  }

  private int32(n: number): void {
    this.ensure(4)
    this.buf.writeInt32BE(n, this.off)
    this.off += 4
  }

  private cstring(s: string): void {
    this.ensure(s.length * 3 + 1)
    this.off += this.utf8(s, this.off)
    this.buf[this.off++] = 0
  }

  private lengthPrefixedString(s: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: room for the worst case, then the real length.
    this.ensure(4 + s.length * 3)
    const n = this.utf8(s, this.off + 4)
    this.buf.writeInt32BE(n, this.off)
    this.off += 4 + n
  }

  private lengthPrefixedBytes(b: Buffer): void {
    this.ensure(4 + b.length)
    this.buf.writeInt32BE(b.length, this.off)
    b.copy(this.buf, this.off + 4)
    this.off += 4 + b.length
  }

  private utf8(s: string, at: number): number {
    const w = this.buf as Utf8Writer
    return w.utf8Write ? w.utf8Write(s, at) : this.buf.write(s, at, 'utf8')
  }

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n))
    this.buf.copy(bigger, 0, 0, this.off)
    this.buf = bigger
  }
}
