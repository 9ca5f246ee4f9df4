/**
 * Data type judgment (is_*) and data type conversion (str, int, float, bool, ...) functions.
 *
 * JavaScript has one number type, so an integral number is an integer: is_int(2.0) is true,
 * is_float(2.0) is false, str(2.0) is '2' (EMQX: false, true, '2.0'). float() returns a number.
 */
import {
  Bitstring,
  type FunctionFamily,
  anyToBinary,
  binaryText,
  decodeJson,
  describe,
  fail,
  formatDecimals,
  integerArg,
  isBinary,
  isMap,
  numberArg,
  ownSet,
  spec,
} from './values.js'

const ERL_INTEGER = /^[+-]?\d+$/
/** Erlang's float syntax: digits, a point, digits, an optional exponent ("1e5" and "1." are not floats). */
const ERL_FLOAT = /^[+-]?\d+\.\d+(?:[eE][+-]?\d+)?$/

/** A number in Erlang's integer or float syntax (no spaces), else undefined. */
function parseErlNumber(name: string, text: string): number | undefined {
  if (ERL_INTEGER.test(text)) return Number(BigInt(text))
  if (ERL_FLOAT.test(text)) {
    const x = Number(text)
    if (!Number.isFinite(x)) fail(name, `${describe(text)} is out of the float range`)
    return x
  }
  return undefined
}

/** int(): integers as they are, floats rounded down, numeric strings parsed, true/false as 1/0. */
export function toInt(name: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.floor(v) || 0
  if (v === true) return 1
  if (v === false) return 0
  if (isBinary(v)) {
    const n = parseErlNumber(name, binaryText(name, v, 'a numeric string'))
    if (n !== undefined) return Math.floor(n) || 0
  }
  return fail(name, `cannot convert ${describe(v)} to an integer`)
}

/** float(): numbers as they are, numeric strings parsed (integers or Erlang float syntax). */
export function toFloat(name: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (isBinary(v)) {
    const n = parseErlNumber(name, binaryText(name, v, 'a numeric string'))
    if (n !== undefined) return n
  }
  return fail(name, `cannot convert ${describe(v)} to a float`)
}

function toBool(v: unknown): boolean {
  if (v === true || v === 1) return true
  if (v === false || v === 0) return false
  if (isBinary(v)) {
    const t = typeof v === 'string' ? v : Buffer.from(v).toString('latin1')
    if (t === 'true') return true
    if (t === 'false') return false
  }
  return fail('bool', `cannot convert ${describe(v)} to a boolean (expected true, false, 1, 0, "true" or "false")`)
}

function decimalsArg(name: string, v: unknown, min: number): number {
  const d = integerArg(name, v, 'an integer number of decimals')
  if (d < min || d > 253) fail(name, `decimals must be between ${min} and 253, got ${d}`)
  return d
}

/**
 * map(): an object as it is, a JSON object text decoded, an array of [key, value] pairs turned
 * into an object. Anything else is an error.
 */
export function toMap(name: string, v: unknown): Record<string, unknown> {
  if (isMap(v)) return v
  if (isBinary(v)) {
    const decoded = decodeJson(name, binaryText(name, v, 'a JSON object'))
    if (isMap(decoded)) return decoded
    return fail(name, `expected a JSON object, got ${describe(decoded)}`)
  }
  if (Array.isArray(v)) {
    const out: Record<string, unknown> = {}
    for (const pair of v) {
      if (!Array.isArray(pair) || pair.length !== 2 || !isBinary(pair[0])) {
        fail(name, `expected [key, value] pairs with string keys, got ${describe(pair)}`)
      }
      ownSet(out, binaryText(name, pair[0] as string | Uint8Array, 'a string key'), pair[1])
    }
    return out
  }
  return fail(name, `expected an object, got ${describe(v)}`)
}

function strUtf8(name: string, v: unknown): string {
  const b = anyToBinary(name, v)
  return typeof b === 'string' ? b : binaryText(name, b, 'UTF-8 text')
}

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0
  if (isBinary(v) && v.length === 0) return true
  return Object.keys(toMap('is_empty', v)).length === 0
}

function str(v: unknown): string | Buffer {
  if (v instanceof Bitstring) return fail('str', `cannot convert ${describe(v)} to a string`)
  return anyToBinary('str', v)
}

export const typeConversionFunctions: FunctionFamily = {
  // Data type judgment
  is_array: spec(1, 1, (v) => Array.isArray(v)),
  is_bool: spec(1, 1, (v) => typeof v === 'boolean'),
  is_empty: spec(1, 1, isEmpty),
  is_float: spec(1, 1, (v) => typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)),
  is_int: spec(1, 1, (v) => typeof v === 'number' && Number.isInteger(v)),
  is_map: spec(1, 1, (v) => isMap(v)),
  is_not_null: spec(1, 1, (v) => v !== undefined),
  is_not_null_var: spec(1, 1, (v) => v !== undefined && v !== null),
  is_null: spec(1, 1, (v) => v === undefined),
  is_null_var: spec(1, 1, (v) => v === undefined || v === null),
  is_num: spec(1, 1, (v) => typeof v === 'number' && Number.isFinite(v)),
  is_str: spec(1, 1, (v) => isBinary(v)),

  // Data type conversion
  bool: spec(1, 1, toBool),
  float: spec(1, 2, (...args) => {
    const x = toFloat('float', args[0])
    if (args.length === 1) return x
    return Number(formatDecimals(x, decimalsArg('float', args[1], 1), false))
  }),
  float2str: spec(2, 2, (f, d) => formatDecimals(numberArg('float2str', f), decimalsArg('float2str', d, 0), true)),
  int: spec(1, 1, (v) => toInt('int', v)),
  map: spec(1, 1, (v) => toMap('map', v)),
  str: spec(1, 1, str),
  str_utf8: spec(1, 1, (v) => strUtf8('str_utf8', v)),
  str_utf16_le: spec(1, 1, (v) => Buffer.from(strUtf8('str_utf16_le', v), 'utf16le')),
}
