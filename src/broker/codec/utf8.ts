/**
 * MQTT's UTF-8 Encoded Strings (3.1.1 section 1.5.3, 5.0 section 1.5.4): well-formed UTF-8
 * (no overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF) without U+0000.
 * Node's own decoders replace bad sequences with U+FFFD instead of failing, so bytes are checked
 * here first; pure ASCII (nearly every topic) takes a one-pass path.
 */

declare global {
  interface Buffer {
    // Node's per-encoding decoders: the same as toString(encoding, start, end) without its argument handling.
    latin1Slice(start: number, end: number): string
    utf8Slice(start: number, end: number): string
  }
}

/** 1 for bytes that leave the ASCII fast path: NUL and everything from 0x80. */
const NOT_PLAIN_ASCII = new Uint8Array(256)
NOT_PLAIN_ASCII[0] = 1
NOT_PLAIN_ASCII.fill(1, 0x80)

/**
 * The string `buf[start..end)` holds, or null when it is not an MQTT UTF-8 string (malformed
 * UTF-8 or a U+0000).
 */
export function decodeUtf8(buf: Buffer, start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    if (NOT_PLAIN_ASCII[buf[i]!] !== 0) return isWellFormedUtf8(buf, i, end) ? buf.utf8Slice(start, end) : null
  }
  return buf.latin1Slice(start, end)
}

/** Whether `buf[start..end)` is well-formed UTF-8 without U+0000. */
export function isWellFormedUtf8(buf: Buffer, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const b = buf[i]!
    if (b < 0x80) {
      if (b === 0) return false
      i++
    } else if (b < 0xc2) {
      // A continuation byte where a sequence should start, or C0/C1 (overlong two-byte forms).
      return false
    } else if (b < 0xe0) {
      if (i + 1 >= end || (buf[i + 1]! & 0xc0) !== 0x80) return false
      i += 2
    } else if (b < 0xf0) {
      if (i + 2 >= end) return false
      const b1 = buf[i + 1]!
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2]! & 0xc0) !== 0x80) return false
      if (b === 0xe0 && b1 < 0xa0) return false // overlong
      if (b === 0xed && b1 >= 0xa0) return false // U+D800..U+DFFF
      i += 3
    } else if (b < 0xf5) {
      if (i + 3 >= end) return false
      const b1 = buf[i + 1]!
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2]! & 0xc0) !== 0x80 || (buf[i + 3]! & 0xc0) !== 0x80) return false
      if (b === 0xf0 && b1 < 0x90) return false // overlong
      if (b === 0xf4 && b1 >= 0x90) return false // above U+10FFFF
      i += 4
    } else {
      return false
    }
  }
  return true
}
