/**
 * Bit sequence functions (EMQX: "Bit Sequence Operation Functions"): bitsize, bytesize, subbits.
 * A string is its UTF-8 bytes. subbits with output type 'bits' returns a {@link Bitstring} when
 * the length is not a whole number of bytes (EMQX's bitstring), else a binary.
 */
import {
  Bitstring,
  type FunctionFamily,
  bytesArg,
  bytesResult,
  describe,
  fail,
  integerArg,
  isBinary,
  spec,
} from './values.js'

export { Bitstring }

interface Bits {
  bytes: Uint8Array
  bitLength: number
}

export function bitsArg(name: string, v: unknown): Bits {
  if (v instanceof Bitstring) return { bytes: v.bytes, bitLength: v.bitLength }
  if (isBinary(v)) {
    const bytes = bytesArg(name, v)
    return { bytes, bitLength: bytes.length * 8 }
  }
  return fail(name, `expected a binary, got ${describe(v)}`)
}

function bitAt(bits: Bits, i: number): number {
  return ((bits.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1
}

/** `count` bits from bit `offset` as a string of '0' and '1' (linear time, unlike growing a BigInt). */
export function bitText(bits: Bits, offset: number, count: number): string {
  let s = ''
  for (let i = 0; i < count; i++) s += bitAt(bits, offset + i) ? '1' : '0'
  return s
}

/** `count` bits from bit `offset`, packed from the most significant bit. */
function sliceBits(bits: Bits, offset: number, count: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(count / 8))
  for (let i = 0; i < count; i++) {
    if (bitAt(bits, offset + i)) out[i >> 3]! |= 0x80 >> (i & 7)
  }
  return out
}

function toSafeNumber(name: string, v: bigint, bitCount: number): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    fail(name, `the ${bitCount}-bit integer is outside the exact integer range ±(2^53 - 1)`)
  }
  return Number(v)
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 0x1f) return frac ? NaN : sign * Infinity
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

function readInteger(bits: Bits, offset: number, n: number, signed: boolean, little: boolean): bigint {
  if (n === 0) return 0n
  let text = bitText(bits, offset, n)
  if (little) {
    // Erlang's little endian: whole bytes least significant first, a trailing partial byte most significant.
    const whole = Math.floor(n / 8)
    const bytes: string[] = []
    for (let i = 0; i < whole; i++) bytes.push(text.slice(8 * i, 8 * i + 8))
    text = text.slice(8 * whole) + bytes.reverse().join('')
  }
  let v = BigInt(`0b${text}`)
  if (signed && v >= 1n << BigInt(n - 1)) v -= 1n << BigInt(n)
  return v
}

function readFloat(name: string, bits: Bits, offset: number, n: number, little: boolean): number {
  if (n !== 16 && n !== 32 && n !== 64) fail(name, `a float must be 16, 32 or 64 bits, not ${n}`)
  const raw = sliceBits(bits, offset, n)
  if (little) raw.reverse()
  const view = new DataView(raw.buffer)
  const x = n === 16 ? halfToNumber(view.getUint16(0)) : n === 32 ? view.getFloat32(0) : view.getFloat64(0)
  if (!Number.isFinite(x)) fail(name, 'the bits are not a finite float (NaN or infinity)')
  return x
}

const TYPES = ['integer', 'float', 'bits']
const SIGNEDNESS = ['unsigned', 'signed']
const ENDIANNESS = ['big', 'little']

function subbits(args: readonly unknown[]): unknown {
  const name = 'subbits'
  // subbits(Bin, Len) | subbits(Bin, Start, Len[, Type[, Signedness[, Endianness]]])
  const [input, startArg, lenArg] = args.length === 2 ? [args[0], 1, args[1]] : args
  const type = args.length > 3 ? args[3] : 'integer'
  const signedness = args.length > 4 ? args[4] : 'unsigned'
  const endianness = args.length > 5 ? args[5] : 'big'
  const bits = bitsArg(name, input)
  const start = integerArg(name, startArg, 'an integer start position')
  const len = integerArg(name, lenArg, 'an integer bit count')
  if (typeof type !== 'string' || !TYPES.includes(type)) fail(name, `invalid output type ${describe(type)} (expected "integer", "float" or "bits")`)
  if (typeof signedness !== 'string' || !SIGNEDNESS.includes(signedness)) fail(name, `invalid signedness ${describe(signedness)} (expected "unsigned" or "signed")`)
  if (typeof endianness !== 'string' || !ENDIANNESS.includes(endianness)) fail(name, `invalid endianness ${describe(endianness)} (expected "big" or "little")`)
  const offset = start - 1
  // Nothing from `Start` on: EMQX returns undefined.
  if (offset < 0 || offset >= bits.bitLength) return undefined
  const available = bits.bitLength - offset
  // Fewer bits left than asked for: EMQX takes what is left.
  const n = len >= 0 && len <= available ? len : available
  const little = endianness === 'little'
  if (type === 'integer') return toSafeNumber(name, readInteger(bits, offset, n, signedness === 'signed', little), n)
  if (type === 'float') return readFloat(name, bits, offset, n, little)
  const out = sliceBits(bits, offset, n)
  return n % 8 === 0 ? bytesResult(out) : new Bitstring(out, n)
}

/** Erlang's iolist_size: a binary, or an array of binaries, bytes (0..255) and such arrays. */
function iolistSize(name: string, v: unknown, nested = false): number {
  if (isBinary(v)) return bytesArg(name, v).length
  if (nested && typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return 1
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + iolistSize(name, x, true), 0)
  return fail(name, `expected a binary, got ${describe(v)}`)
}

export const bytesFunctions: FunctionFamily = {
  bitsize: spec(1, 1, (b) => bitsArg('bitsize', b).bitLength),
  bytesize: spec(1, 1, (b) => iolistSize('bytesize', b)),
  subbits: spec(2, 6, (...args) => subbits(args)),
}
