/**
 * EMQX value semantics on JavaScript values.
 *
 * EMQX values map to JS like this: binary -> string, integer/float -> number, true/false -> boolean,
 * JSON null (the atom `null`) -> null, a missing field (the atom `undefined`) -> undefined,
 * map -> plain object, list -> array. Comparisons follow emqx_rule_runtime:compare/3 (a number
 * against a numeric string compares as numbers; `true`/`false`/`null` against a string compare as
 * their names; a missing field makes every comparison false except `missing = missing`), and the
 * order of mixed types is Erlang's term order. Arithmetic follows emqx_rule_funcs ('+' also
 * concatenates when one side is a string).
 *
 * Nothing here mutates its inputs: values may be shared with the event, the decoded payload or
 * other outputs.
 */
import { jsonTextTooDeep, MAX_JSON_DEPTH } from '../limits.js'
import type { ArithOp, CompareOp } from './ast.js'
import { EvalFailure } from './errors.js'
import { topicMatches } from './topic.js'

export type PlainObject = Record<string, unknown>

export const NOT_JSON: unique symbol = Symbol('not JSON')

const utf8 = new TextDecoder('utf-8')

/** A JSON-like object (a map), as opposed to a list, a string or a binary buffer. */
export function isMap(v: unknown): v is PlainObject {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Strings as they are; byte buffers decoded as UTF-8; anything else undefined. */
export function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return utf8.decode(v)
  return undefined
}

export function tryDecodeJson(text: string): unknown {
  if (jsonTextTooDeep(text)) throw new EvalFailure(`JSON nested more than ${MAX_JSON_DEPTH} levels deep is refused`)
  try {
    return JSON.parse(text) as unknown
  } catch {
    return NOT_JSON
  }
}

/** Reads own properties only, so `payload.constructor` is a missing field, not Object's constructor. */
export function ownGet(obj: PlainObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined
}

/** Writes an own data property even for the key `__proto__`. */
export function ownSet(obj: PlainObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}

/** Copies every own property of `src` onto `dst` (later wins), `__proto__` included. */
export function mergeInto(dst: PlainObject, src: Readonly<PlainObject>): PlainObject {
  for (const k of Object.keys(src)) ownSet(dst, k, src[k])
  return dst
}

/**
 * `value.key` as EMQX's nested get: a map's member; a string (or buffer) is first decoded as JSON
 * (silently missing when it is not JSON); anything else has no members.
 */
export function getKey(v: unknown, key: string): unknown {
  if (isMap(v)) return Object.hasOwn(v, key) ? v[key] : undefined
  const text = asText(v)
  if (text !== undefined) {
    const decoded = tryDecodeJson(text)
    return isMap(decoded) ? (Object.hasOwn(decoded, key) ? decoded[key] : undefined) : undefined
  }
  return undefined
}

/** `value[i]`: 1-based, negative counts from the end, 0 or out of range is missing. */
export function getIndex(v: unknown, i: unknown): unknown {
  let list = v
  if (!Array.isArray(list)) {
    const text = asText(v)
    if (text === undefined) return undefined
    list = tryDecodeJson(text)
    if (!Array.isArray(list)) return undefined
  }
  const arr = list as unknown[]
  if (typeof i !== 'number' || !Number.isInteger(i) || i === 0) return undefined
  const at = i > 0 ? i - 1 : arr.length + i
  return at >= 0 && at < arr.length ? arr[at] : undefined
}

/** `value[from..to]`: a sub-list, both ends inclusive (EMQX range_get). */
export function sliceList(v: unknown, from: number, to: number): unknown[] {
  if (!Array.isArray(v)) throw new EvalFailure(`a range [${from}..${to}] needs a list, got ${describe(v)}`)
  const len = v.length
  const b = from > 0 ? from : len + from + 1
  const e = to > 0 ? to : len + to + 1
  if (b < 1 || b > len + 1 || e - b + 1 < 0) throw new EvalFailure(`range [${from}..${to}] is out of bounds for a list of ${len}`)
  return v.slice(b - 1, e)
}

// ---- putting values at paths (aliases) ----------------------------------------------------------

export type PutStep = { readonly key: string } | { readonly index: number | 'head' | 'tail' }

/**
 * Sets `value` at `steps` under `root` (EMQX nested_put): missing or non-map levels become maps,
 * a non-list under an index becomes `[value]`, `head`/`tail` prepend/append, an index past the end
 * changes nothing. Containers on the way are copied, never mutated, except `root` itself when
 * `rootOwned`. Returns the (possibly new) root.
 */
export function putPath(root: PlainObject, steps: readonly PutStep[], value: unknown, rootOwned: boolean): PlainObject {
  const first = steps[0]
  if (first === undefined || !('key' in first)) throw new Error('an alias starts with a name')
  const sub = putAt(ownGet(root, first.key), steps, 1, value)
  const target = rootOwned ? root : { ...root }
  ownSet(target, first.key, sub)
  return target
}

function putAt(container: unknown, steps: readonly PutStep[], i: number, value: unknown): unknown {
  const step = steps[i]
  if (step === undefined) return value
  if ('key' in step) {
    const sub = putAt(getKey(container, step.key), steps, i + 1, value)
    const copy: PlainObject = isMap(container) ? { ...container } : {}
    ownSet(copy, step.key, sub)
    return copy
  }
  const idx = step.index
  const current = Array.isArray(container) && typeof idx === 'number' ? getIndex(container, idx) : undefined
  const sub = putAt(current, steps, i + 1, value)
  if (!Array.isArray(container)) return [sub]
  if (idx === 'head') return [sub, ...container]
  if (idx === 'tail') return [...container, sub]
  if (!Number.isInteger(idx) || idx === 0) return container
  const at = idx > 0 ? idx - 1 : container.length + idx
  if (at < 0 || at >= container.length) return container
  const copy = container.slice()
  copy[at] = sub
  return copy
}

// ---- equality and order -------------------------------------------------------------------------

/** EMQX `=` (Erlang `==`): structural equality; 1 and 1.0 are the same number. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (isMap(a)) {
    if (!isMap(b)) return false
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    for (const k of ka) if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k])) return false
    return true
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i])
  return false
}

// Erlang term order: number < atom < map < list < binary.
function rank(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return 0
    case 'boolean':
    case 'undefined':
      return 1
    case 'string':
      return 9
    default:
      if (v === null) return 1
      if (Array.isArray(v)) return 8
      if (v instanceof Uint8Array) return 9
      if (typeof v === 'object') return 7
      return 10
  }
}

function atomName(v: unknown): string {
  return v === null ? 'null' : v === undefined ? 'undefined' : String(v)
}

/** Code-point order (the byte order of the UTF-8 encodings, as Erlang compares binaries). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      const cx = a.codePointAt(i)!
      const cy = b.codePointAt(i)!
      return cx < cy ? -1 : cx > cy ? 1 : 0
    }
  }
  return a.length - b.length
}

/** Erlang term order of two values: negative, 0 or positive. */
export function termCompare(a: unknown, b: unknown): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
    case 1:
      return compareStrings(atomName(a), atomName(b))
    case 9:
      return compareStrings(asText(a)!, asText(b)!)
    case 8: {
      const x = a as unknown[]
      const y = b as unknown[]
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = termCompare(x[i], y[i])
        if (c !== 0) return c
      }
      return x.length - y.length
    }
    case 7: {
      // Maps: by size, then by their sorted keys, then by the values in key order.
      const x = a as PlainObject
      const y = b as PlainObject
      const kx = Object.keys(x).sort(compareStrings)
      const ky = Object.keys(y).sort(compareStrings)
      if (kx.length !== ky.length) return kx.length - ky.length
      for (let i = 0; i < kx.length; i++) {
        const c = compareStrings(kx[i]!, ky[i]!)
        if (c !== 0) return c
      }
      for (const k of kx) {
        const c = termCompare(x[k], y[k])
        if (c !== 0) return c
      }
      return 0
    }
    default:
      return 0
  }
}

const INT_RE = /^[+-]?[0-9]+$/
const FLOAT_RE = /^[+-]?[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?$/

/** A string compared with a number must read as one (Erlang binary_to_integer / binary_to_float). */
function stringAsNumber(s: string, other: number): number {
  if (INT_RE.test(s) || FLOAT_RE.test(s)) return Number(s)
  throw new EvalFailure(`cannot compare the number ${other} with the string ${describe(s)}: it is not a number`)
}

const isAtom = (v: unknown): v is boolean | null => typeof v === 'boolean' || v === null

/** A comparison operator as EMQX evaluates it (emqx_rule_runtime:compare/3). */
export function compareValues(op: CompareOp, left: unknown, right: unknown): boolean {
  let l = left
  let r = right
  if (l === undefined || r === undefined) {
    // Comparing with a missing field is false, except missing = missing (and <=, >=).
    if (l !== r) return false
    return op === '=' || op === '<=' || op === '>='
  }
  if (typeof l === 'number' && typeof r === 'string') r = stringAsNumber(r, l)
  else if (typeof l === 'string' && typeof r === 'number') l = stringAsNumber(l, r)
  else if (isAtom(l) && typeof r === 'string') l = atomName(l)
  else if (typeof l === 'string' && isAtom(r)) r = atomName(r)
  switch (op) {
    case '=':
      return deepEqual(l, r)
    case '!=':
    case '<>':
      return !deepEqual(l, r)
    case '<':
      return termCompare(l, r) < 0
    case '>':
      return termCompare(l, r) > 0
    case '<=':
      return termCompare(l, r) <= 0
    case '>=':
      return termCompare(l, r) >= 0
    case '=~':
      // topic =~ filter
      return typeof l === 'string' && typeof r === 'string' && topicMatches(r, l)
  }
}

// ---- arithmetic ---------------------------------------------------------------------------------

const norm = (n: number): number => (n === 0 ? 0 : n) // no -0 in results

function finite(n: number, what: string): number {
  if (!Number.isFinite(n)) throw new EvalFailure(`${what} overflows`)
  return norm(n)
}

export function arith(op: ArithOp, l: unknown, r: unknown): unknown {
  const nums = typeof l === 'number' && typeof r === 'number'
  switch (op) {
    case '+':
      if (nums) return finite(l + r, 'addition')
      // String concatenation when either side is a string; the other side is converted (EMQX concat).
      if (typeof l === 'string' || typeof r === 'string') return toStr(l) + toStr(r)
      throw new EvalFailure(`cannot add ${describe(l)} and ${describe(r)}`)
    case '-':
      if (nums) return finite(l - r, 'subtraction')
      throw new EvalFailure(`cannot subtract ${describe(r)} from ${describe(l)}`)
    case '*':
      if (nums) return finite(l * r, 'multiplication')
      throw new EvalFailure(`cannot multiply ${describe(l)} by ${describe(r)}`)
    case '/':
      if (!nums) throw new EvalFailure(`cannot divide ${describe(l)} by ${describe(r)}`)
      if (r === 0) throw new EvalFailure('division by zero')
      return finite(l / r, 'division')
    case 'div':
    case 'mod':
      if (!nums || !Number.isInteger(l) || !Number.isInteger(r)) throw new EvalFailure(`${op} needs two integers, got ${describe(l)} and ${describe(r)}`)
      if (r === 0) throw new EvalFailure(`${op} by zero`)
      // Erlang div truncates toward zero; rem takes the sign of the dividend, like JS %.
      return op === 'div' ? norm(Math.trunc(l / r)) : norm(l % r)
  }
}

export function negate(v: unknown): number {
  if (typeof v !== 'number') throw new EvalFailure(`cannot negate ${describe(v)}`)
  return norm(-v)
}

/** `range(a, b)` of EMQX's `[a..b]` literal: the integers a..b (empty when b = a - 1). */
export function rangeList(from: number, to: number): number[] {
  const out: number[] = []
  for (let i = from; i <= to; i++) out.push(i)
  return out
}

// ---- conversions --------------------------------------------------------------------------------

/** A number as EMQX prints it: integers as is, floats with up to 10 decimals (`1.5`, `0.3333333333`). */
export function numberToString(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString()
  let s = n.toFixed(10)
  s = s.replace(/0+$/, '')
  if (s.endsWith('.')) s += '0'
  return s
}

/** Any value as a string (emqx_utils_conv:bin): maps and lists as JSON, `undefined` as "undefined". */
export function toStr(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
      return numberToString(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'undefined':
      return 'undefined'
    default:
      if (v === null) return 'null'
      if (v instanceof Uint8Array) return utf8.decode(v)
      return JSON.stringify(v) ?? 'undefined'
  }
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)
    case 'number':
    case 'boolean':
      return String(v)
    case 'undefined':
      return 'a missing value'
    default:
      if (v === null) return 'null'
      if (Array.isArray(v)) return 'a list'
      if (v instanceof Uint8Array) return 'binary data'
      return typeof v === 'object' ? 'an object' : typeof v
  }
}
