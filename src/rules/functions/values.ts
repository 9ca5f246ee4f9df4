/**
 * Shared value model of the rule-function library: how EMQX's Erlang terms map to JavaScript
 * values, argument checks that fail with a RuleFunctionError, and conversions every family uses.
 *
 * | EMQX (Erlang)                 | Junction (JavaScript)                                           |
 * | ----------------------------- | --------------------------------------------------------------- |
 * | integer, float                | number (an integral number is an integer: 2.0 and 2 are one)     |
 * | binary holding UTF-8 text     | string                                                          |
 * | binary holding other bytes    | Buffer (Uint8Array); every function taking a binary takes both  |
 * | bitstring (not whole bytes)   | {@link Bitstring} (only from and to subbits/bitsize/bin2hexstr)  |
 * | true / false                  | true / false                                                    |
 * | undefined (missing variable)  | undefined                                                       |
 * | null (JSON null)              | null                                                            |
 * | list                          | array                                                           |
 * | map                           | plain object                                                    |
 */

import { jsonTextTooDeep, MAX_JSON_DEPTH, MAX_VALUE_SIZE } from '../limits.js'

export { MAX_VALUE_SIZE, valueSize } from '../limits.js'

export type RuleFunction = (...args: unknown[]) => unknown

/** Thrown for bad arguments at run time; the rule engine counts the message as failed. */
export class RuleFunctionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RuleFunctionError'
  }
}

/** An argument of a call as the compiler sees it: a literal's value, or unknown until run time. */
export type CompileTimeArg = { readonly literal: true; readonly value: unknown } | { readonly literal: false }

/**
 * Checks a call when the rule is compiled, from its literal arguments (a regular expression written
 * in the SQL); throws RuleFunctionError, which rejects the rule, so a mistake shows when the rule is
 * created rather than as failed messages.
 */
export type CompileTimeCheck = (args: readonly CompileTimeArg[]) => void

/** One built-in: its implementation and how many arguments it takes. */
export interface FunctionSpec {
  readonly fn: RuleFunction
  readonly min: number
  readonly max: number
  readonly check?: CompileTimeCheck
}

export type FunctionFamily = Readonly<Record<string, FunctionSpec>>

export function spec(min: number, max: number, fn: RuleFunction, check?: CompileTimeCheck): FunctionSpec {
  return check === undefined ? { fn, min, max } : { fn, min, max, check }
}

/** A sequence of bits whose length is not a multiple of 8 (EMQX's bitstring). */
export class Bitstring {
  /** Bits packed from the most significant bit of `bytes[0]`; the unused low bits of the last byte are 0. */
  readonly bytes: Uint8Array
  readonly bitLength: number
  constructor(bytes: Uint8Array, bitLength: number) {
    this.bytes = bytes
    this.bitLength = bitLength
  }
}

export function fail(name: string, message: string): never {
  throw new RuleFunctionError(`${name}: ${message}`)
}

/** A result of `size` characters or bytes is over the value limit (see src/rules/limits.ts). */
export function tooLarge(name: string, size: number): never {
  return fail(name, `the result would be ${size} characters or bytes, over the limit of ${MAX_VALUE_SIZE} for one value`)
}

/** Fails before allocating a result of `size` that grows past both the value limit and `inputSize`. */
export function checkResultSize(name: string, size: number, inputSize = 0): void {
  if (size > MAX_VALUE_SIZE && size > inputSize) tooLarge(name, size)
}

/** A short, readable rendering of a value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  if (v instanceof Bitstring) return `a bitstring of ${v.bitLength} bits`
  if (v instanceof Uint8Array) return `a binary of ${v.length} bytes`
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (isMap(v)) return 'an object'
  return typeof v
}

/** EMQX's is_binary: text or bytes. */
export function isBinary(v: unknown): v is string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array
}

/** A JSON object (EMQX map): not null, not an array, not bytes. */
export function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  if (v instanceof Uint8Array || v instanceof Bitstring) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The bytes of a binary argument: strings are UTF-8 encoded. */
export function bytesArg(name: string, v: unknown, what = 'a binary'): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return fail(name, `expected ${what}, got ${describe(v)}`)
}

/** Bytes that decode as UTF-8 become a string (so text stays text); any other bytes stay a Buffer. */
export function bytesResult(bytes: Uint8Array): string | Buffer {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
}

/** UTF-8 text of a binary; bytes that are not UTF-8 are an error, as in EMQX's string functions. */
export function binaryText(name: string, v: string | Uint8Array, what: string): string {
  if (typeof v === 'string') return v
  try {
    return strictUtf8.decode(v)
  } catch {
    return fail(name, `expected ${what}, got a binary that is not UTF-8 text`)
  }
}

/** A string argument (binary). */
export function stringArg(name: string, v: unknown, what = 'a string'): string {
  if (isBinary(v)) return binaryText(name, v, what)
  return fail(name, `expected ${what}, got ${describe(v)}`)
}

/**
 * The subject of a string function: a string, or true/false read as their atom names, as EMQX
 * does for atoms. undefined and null are errors (EMQX's badarg).
 */
export function textArg(name: string, v: unknown, what = 'a string'): string {
  if (typeof v === 'boolean') return String(v)
  return stringArg(name, v, what)
}

export function numberArg(name: string, v: unknown, what = 'a number'): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return fail(name, `expected ${what}, got ${describe(v)}`)
}

export function integerArg(name: string, v: unknown, what = 'an integer'): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  return fail(name, `expected ${what}, got ${describe(v)}`)
}

export function arrayArg(name: string, v: unknown, what = 'an array'): unknown[] {
  if (Array.isArray(v)) return v
  return fail(name, `expected ${what}, got ${describe(v)}`)
}

/** Reads an own property only (never the prototype chain). */
export function ownGet(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined
}

function hasOwn(obj: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key)
}

/** Sets an own property safely (a key such as "__proto__" stays a plain key). */
export function ownSet(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

export function copyMap(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(m)) ownSet(out, k, m[k])
  return out
}

/** Structural equality as Erlang's =:= sees it (numbers compare by value, binaries by bytes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (isBinary(a) && isBinary(b)) {
    if (typeof a === 'string' && typeof b === 'string') return false
    return Buffer.compare(bytesArg('', a), bytesArg('', b)) === 0
  }
  if (a instanceof Bitstring && b instanceof Bitstring) {
    return a.bitLength === b.bitLength && Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)) === 0
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Number formatting

/** The exact value of a finite double as sign, integer mantissa and binary exponent (|x| = m · 2^e). */
function decompose(x: number): { negative: boolean; mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const negative = hi >>> 31 === 1
  const biased = (hi >>> 20) & 0x7ff
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (biased === 0) return { negative, mantissa: fraction, exponent: -1074 }
  return { negative, mantissa: fraction | (1n << 52n), exponent: biased - 1075 }
}

/**
 * Erlang's float_to_binary(X, [{decimals, D}] ++ [compact]) for any D in 0..253: the exact binary
 * value rounded (half to even) to D decimals; `compact` drops trailing zeros but keeps one digit
 * after the point.
 */
export function formatDecimals(x: number, decimals: number, compact: boolean): string {
  const { negative, mantissa, exponent } = decompose(x)
  const scale = 10n ** BigInt(decimals)
  let scaled: bigint
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale
  } else {
    const num = mantissa * scale
    const den = 1n << BigInt(-exponent)
    scaled = num / den
    const twice = (num % den) * 2n
    if (twice > den || (twice === den && scaled % 2n === 1n)) scaled += 1n
  }
  const digits = scaled.toString().padStart(decimals + 1, '0')
  const int = digits.slice(0, digits.length - decimals)
  let frac = digits.slice(digits.length - decimals)
  if (compact) frac = frac.replace(/0+$/, '') || '0'
  const text = decimals === 0 ? int : `${int}.${frac}`
  return negative ? `-${text}` : text
}

/** The decimal text of an integral number, never in exponent notation. */
export function formatInteger(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString()
}

// ---------------------------------------------------------------------------------------------
// Conversions shared by several families

/**
 * EMQX's implicit conversion to text (emqx_utils_conv:bin): binaries unchanged, integers in
 * decimal, other numbers with up to 10 decimals (trailing zeros dropped), true/false/undefined/null
 * by name, arrays and objects as JSON.
 */
export function anyToBinary(name: string, v: unknown): string | Buffer {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return fail(name, `cannot convert ${v} to a string`)
    return Number.isInteger(v) ? formatInteger(v) : formatDecimals(v, 10, true)
  }
  if (typeof v === 'boolean' || v === undefined || v === null) return String(v)
  if (Array.isArray(v) || isMap(v)) return encodeJson(name, v)
  return fail(name, `cannot convert ${describe(v)} to a string`)
}

/** Concatenation of binaries: a string unless some part holds bytes that are not text. */
export function concatBinaries(parts: readonly (string | Buffer)[]): string | Buffer {
  if (parts.every((p) => typeof p === 'string')) return parts.join('')
  return bytesResult(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))))
}

/**
 * JSON text of a value. Binaries are JSON strings (bytes that are not UTF-8 are decoded with
 * replacement characters, as jiffy's force_utf8 does); undefined encodes as null.
 */
export function encodeJson(name: string, v: unknown): string {
  if (v === undefined || v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return fail(name, `cannot encode ${v} as JSON`)
    return Number.isInteger(v) ? formatInteger(v) : JSON.stringify(v)
  }
  if (v instanceof Bitstring) return fail(name, `cannot encode ${describe(v)} as JSON`)
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'))
  if (Array.isArray(v)) return `[${v.map((x) => encodeJson(name, x)).join(',')}]`
  if (isMap(v)) {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${encodeJson(name, v[k])}`)
      .join(',')}}`
  }
  return fail(name, `cannot encode ${describe(v)} as JSON`)
}

/** JSON.parse, failing as EMQX does on invalid JSON (a "__proto__" key becomes an own key). */
export function decodeJson(name: string, text: string): unknown {
  if (jsonTextTooDeep(text)) return fail(name, `JSON nested more than ${MAX_JSON_DEPTH} levels deep is refused`)
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    return fail(name, `invalid JSON: ${(e as Error).message}`)
  }
}

/** EMQX's time units. */
export type TimeUnit = 'second' | 'millisecond' | 'microsecond' | 'nanosecond'

export const UNIT_FACTOR: Readonly<Record<TimeUnit, bigint>> = {
  second: 1n,
  millisecond: 1000n,
  microsecond: 1000000n,
  nanosecond: 1000000000n,
}

export function timeUnitArg(name: string, v: unknown): TimeUnit {
  if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(UNIT_FACTOR, v)) return v as TimeUnit
  return fail(name, `invalid time unit ${describe(v)} (expected "second", "millisecond", "microsecond" or "nanosecond")`)
}
