/**
 * Library patch: writing pre-encoded NATS protocol bytes on a nats.js connection, and reading one
 * subscription's messages before nats.js parses them.
 *
 * The NATS connector encodes a whole batch of `PUB`/`HPUB` commands itself, into one buffer, and
 * hands it to the connection's protocol handler (`sendCommand`, what `nc.publish` ends in), so
 * that it leaves in the same outbound buffer and order as nats.js's own commands. nats.js's public
 * `publish` costs per message two subject checks, a command string, its own UTF-8 encoding, a
 * headers object and copies into its outbound buffer: ~1.5-2.5 µs of CPU a message more than one
 * encoding per batch (docs/performance.md, "NATS JetStream"), on the event loop that also runs the
 * MQTT broker and the rules. nats.js has no public way to write bytes.
 *
 * Reading: the connector's PubAcks are one `MSG` frame each, on one subscription. nats.js parses
 * every byte in a state machine, then builds an argument list, a message object and two views per
 * frame (~1 µs a PubAck, as much as publishing it); `readFirst` frames the socket's bytes itself,
 * hands that subscription's `MSG` frames to a reader as offsets, and feeds every other frame, and
 * any frame the reader declines, to nats.js's parser in order, always whole. Where its framing is
 * unsure (an unknown operation, a frame over 64 KiB), it hands the rest to nats.js and resumes
 * once nats.js's parser is between frames again.
 *
 * Guard: at load, the installed @nats-io/nats-core (the copy @nats-io/transport-node uses) must
 * be the pinned release and its `ProtocolHandler` must have `sendCommand`; at first use on a
 * connection, the connection must have that handler as `protocol` with `noMorePublishing`, and
 * for reading a `parser` with `parse` and `state` and the message counters.
 * Otherwise a LibraryPatchError: there is no public write path to fall back on.
 */
import { createRequire } from 'node:module'
import { ProtocolHandler, State } from '@nats-io/nats-core/internal'
import { LibraryPatchError, checkVersion, installedVersion, type LibraryPin } from './version-guard.js'

export const NATS_CORE_PIN: LibraryPin = {
  library: '@nats-io/nats-core',
  version: '3.4.0',
  touches: "a NatsConnection's `protocol` (ProtocolHandler): sendCommand(), noMorePublishing, its parser's parse() and state, inMsgs and inBytes",
  file: 'nats.ts',
}

// The copy of nats-core that the transport (and so every connection) loads.
const transportEntry = createRequire(import.meta.url).resolve('@nats-io/transport-node')

interface NatsProtocol {
  sendCommand(bytes: Uint8Array): void
  readonly noMorePublishing: boolean
  parser: { parse(bytes: Uint8Array): void; readonly state: number }
  inMsgs: number
  inBytes: number
}

/** Throws a LibraryPatchError unless `version` is the pinned one and `handler` (a ProtocolHandler class) has sendCommand(). */
export function guardNatsCore(version: string | undefined, handler: unknown): void {
  checkVersion(NATS_CORE_PIN, version)
  const proto = (handler as { prototype?: Record<string, unknown> } | undefined)?.prototype
  if (typeof proto?.sendCommand !== 'function') throw new LibraryPatchError(NATS_CORE_PIN, version, "ProtocolHandler's sendCommand() is missing")
}

/**
 * A writer of protocol bytes on `nc` (a NatsConnection): queued behind what nats.js has queued and
 * flushed as nats.js flushes its own. Throws as `nc.publish` does on a closed or draining connection.
 */
export function natsWriter(nc: { isClosed(): boolean }): (bytes: Uint8Array) => void {
  const protocol = protocolOf(nc, typeof (nc as unknown as { protocol?: NatsProtocol }).protocol?.noMorePublishing === 'boolean', 'a connection\'s `protocol` (ProtocolHandler with noMorePublishing) is missing')
  return (bytes) => {
    if (nc.isClosed()) throw Object.assign(new Error('closed connection'), { name: 'ClosedConnectionError' })
    if (protocol.noMorePublishing) throw Object.assign(new Error('connection draining'), { name: 'DrainingConnectionError' })
    protocol.sendCommand(bytes)
  }
}

function protocolOf(nc: unknown, shaped: boolean, missing: string): NatsProtocol {
  const protocol = (nc as { protocol?: NatsProtocol }).protocol
  if (!(protocol instanceof ProtocolHandler) || !shaped) throw new LibraryPatchError(NATS_CORE_PIN, installedVersion(NATS_CORE_PIN.library, transportEntry), missing)
  return protocol
}

const NONE = new Uint8Array(0)

/** A `MSG` frame offered to a reader: offsets into `buf`, which is valid only during the call. */
export class NatsMsgFrame {
  buf: Uint8Array = NONE
  subjectStart = 0
  subjectEnd = 0
  dataStart = 0
  dataEnd = 0

  /** Whether the message's data begins with `bytes`. */
  dataStartsWith(bytes: Uint8Array): boolean {
    if (this.dataEnd - this.dataStart < bytes.length) return false
    for (let i = 0; i < bytes.length; i++) if (this.buf[this.dataStart + i] !== bytes[i]) return false
    return true
  }

  /** The decimal number the subject ends with from its byte `from` on (a reply inbox's token), or -1. */
  subjectNumber(from: number): number {
    return digits(this.buf, this.subjectStart + from, this.subjectEnd)
  }
}

const CR = 13, LF = 10, SPACE = 32, TAB = 9
/** The longest frame kept across socket reads to be framed here; a longer one is left to nats.js. */
const HOLD_LIMIT = 64 * 1024
const INCOMPLETE = -1, UNSURE = -2

/**
 * Offers every `MSG` frame of subscription `sub` on `nc` to `take` before nats.js parses it; a
 * frame `take` returns true for is consumed (counted in the connection's statistics, never
 * delivered to the subscription), any other reaches nats.js as before, in order.
 */
export function readFirst(nc: unknown, sub: { getID(): number }, take: (frame: NatsMsgFrame) => boolean): void {
  const p = (nc as { protocol?: NatsProtocol }).protocol
  const protocol = protocolOf(nc, typeof p?.parser?.parse === 'function' && typeof p.parser.state === 'number' && typeof p.inMsgs === 'number' && typeof p.inBytes === 'number',
    "a connection's `protocol` (ProtocolHandler with a parser, inMsgs and inBytes) is missing")
  const parser = protocol.parser
  const parse = parser.parse
  const feed = (bytes: Uint8Array) => parse.call(parser, bytes)
  const frame = new NatsMsgFrame()
  // Token bounds of a control line (MSG subject sid [reply] size: at most 4 after the operation).
  const starts = new Int32Array(6), ends = new Int32Array(6)
  let tail: Uint8Array | undefined

  /** Where the frame at `pos` ends (the index after it), INCOMPLETE or UNSURE; fills `frame` for a MSG of `sid` (else frame.buf is cleared). */
  const frameAt = (buf: Uint8Array, pos: number, sid: number): number => {
    frame.buf = NONE
    const lf = buf.indexOf(LF, pos)
    if (lf < 0) return buf.length - pos > HOLD_LIMIT ? UNSURE : INCOMPLETE
    const op = buf[pos]
    const msg = op === 77 && buf[pos + 1] === 83 && buf[pos + 2] === 71 && buf[pos + 3] === SPACE // "MSG "
    const hmsg = !msg && op === 72 && buf[pos + 1] === 77 && buf[pos + 2] === 83 && buf[pos + 3] === 71 && buf[pos + 4] === SPACE // "HMSG "
    // PING, PONG, +OK, -ERR, INFO: one line. Anything else (lower case, unknown): nats.js decides.
    if (!msg && !hmsg) return op === 80 || op === 43 || op === 45 || op === 73 ? lf + 1 : UNSURE
    if (buf[lf - 1] !== CR) return UNSURE
    let count = 0
    for (let i = pos + (msg ? 4 : 5), start = -1; i <= lf - 1; i++) {
      const c = buf[i]
      if (c === SPACE || c === TAB || i === lf - 1) {
        if (start >= 0) {
          if (count === 6) return UNSURE
          starts[count] = start, ends[count++] = i, start = -1
        }
      } else if (start < 0) start = i
    }
    if (count < (msg ? 3 : 4) || count > (msg ? 4 : 5)) return UNSURE
    const size = digits(buf, starts[count - 1]!, ends[count - 1]!)
    if (size < 0) return UNSURE
    const end = lf + 1 + size + 2
    if (end > buf.length) return end - pos > HOLD_LIMIT ? UNSURE : INCOMPLETE
    if (buf[end - 2] !== CR || buf[end - 1] !== LF) return UNSURE
    if (msg && digits(buf, starts[1]!, ends[1]!) === sid) {
      frame.buf = buf, frame.subjectStart = starts[0]!, frame.subjectEnd = ends[0]!, frame.dataStart = lf + 1, frame.dataEnd = lf + 1 + size
    }
    return end
  }

  parser.parse = (chunk: Uint8Array) => {
    // nats.js is inside a frame (handed over when unsure, or from before this reader): it goes on alone.
    if (tail === undefined && parser.state !== State.OP_START) return feed(chunk)
    const buf = tail === undefined ? chunk : Buffer.concat([tail, chunk])
    tail = undefined
    const sid = sub.getID()
    // Frames from `pass` to `pos` go to nats.js together, before anything after them.
    let pos = 0, pass = 0
    while (pos < buf.length) {
      const end = frameAt(buf, pos, sid)
      if (end === UNSURE) return feed(buf.subarray(pass))
      if (end === INCOMPLETE) {
        tail = buf.subarray(pos)
        break
      }
      if (frame.buf === buf) {
        if (pass < pos) feed(buf.subarray(pass, pos))
        pass = pos
        if (take(frame)) {
          pass = end
          protocol.inMsgs++
          protocol.inBytes += frame.dataEnd - frame.dataStart
        }
      }
      pos = end
    }
    if (pass < pos) feed(buf.subarray(pass, pos))
  }
}

/** The decimal number in buf[start, end), or -1. */
function digits(buf: Uint8Array, start: number, end: number): number {
  if (end - start > 15 || end === start) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

guardNatsCore(installedVersion(NATS_CORE_PIN.library, transportEntry), ProtocolHandler)
