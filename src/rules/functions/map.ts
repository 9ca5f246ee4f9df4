/**
 * Map functions (EMQX: "Map Operation Functions"). Maps are plain objects; where EMQX accepts a
 * map it also accepts JSON object text (decoded on the fly), and map_keys & co. an array of
 * [key, value] pairs, as EMQX's map() does. Inputs are never modified: map_put/mput return a copy.
 */
import { toMap } from './type-conversion.js'
import {
  type FunctionFamily,
  binaryText,
  copyMap,
  describe,
  fail,
  formatDecimals,
  formatInteger,
  isBinary,
  isMap,
  ownGet,
  ownSet,
  spec,
} from './values.js'

/** One step of EMQX's nested_get: JSON text is decoded first; only objects have keys. */
function getKey(data: unknown, key: string): unknown {
  let d = data
  if (isBinary(d)) {
    try {
      d = JSON.parse(typeof d === 'string' ? d : Buffer.from(d).toString('utf8')) as unknown
    } catch {
      return undefined
    }
  }
  return isMap(d) ? ownGet(d, key) : undefined
}

function nestedGet(path: readonly string[], data: unknown, fallback: unknown): unknown {
  let v = data
  for (const key of path) {
    v = getKey(v, key)
    if (v === undefined) return fallback
  }
  return v
}

function putKey(data: unknown, key: string, value: unknown): Record<string, unknown> {
  const out = isMap(data) ? copyMap(data) : {}
  ownSet(out, key, value)
  return out
}

function nestedPut(path: readonly string[], value: unknown, data: unknown): unknown {
  const [key, ...more] = path
  if (key === undefined) return value
  return putKey(data, key, more.length ? nestedPut(more, value, getKey(data, key)) : value)
}

/** map_get's key: a path separated by dots ('a.b' is key b inside key a). */
function dottedPath(name: string, key: unknown): string[] {
  if (!isBinary(key)) return fail(name, `expected a string key, got ${describe(key)}`)
  return binaryText(name, key, 'a string key').split('.')
}

/** mget/mput's key: one key (dots are part of it), or an array of keys for a nested path. */
function keyPath(name: string, key: unknown): string[] | undefined {
  if (isBinary(key)) return [binaryText(name, key, 'a string key')]
  if (Array.isArray(key) && key.length > 0 && key.every(isBinary)) return key.map((k) => binaryText(name, k, 'a string key'))
  return undefined
}

function redisField(v: unknown): string | Buffer | undefined {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v)
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? formatInteger(v) : formatDecimals(v, 6, true)
  if (typeof v === 'boolean') return String(v)
  return undefined
}

/**
 * Field names and values for a Redis HSET/HMSET command: string, number and boolean values are
 * kept (floats with at most 6 decimals), anything else is dropped; text that is not a JSON object,
 * and non-objects, give no fields.
 */
function mapToRedisHsetArgs(v: unknown): (string | Buffer)[] {
  let m: unknown = v
  if (isBinary(v)) {
    try {
      m = JSON.parse(typeof v === 'string' ? v : Buffer.from(v).toString('utf8')) as unknown
    } catch {
      return []
    }
  }
  if (!isMap(m)) return []
  const out: (string | Buffer)[] = []
  for (const k of Object.keys(m)) {
    const field = redisField(m[k])
    if (field !== undefined) out.push(k, field)
  }
  return out
}

export const mapFunctions: FunctionFamily = {
  map_get: spec(2, 3, (...args) => nestedGet(dottedPath('map_get', args[0]), args[1], args[2])),
  map_keys: spec(1, 1, (m) => Object.keys(toMap('map_keys', m))),
  map_new: spec(0, 0, () => ({})),
  map_put: spec(3, 3, (key, value, m) => nestedPut(dottedPath('map_put', key), value, m)),
  map_size: spec(1, 1, (m) => Object.keys(toMap('map_size', m)).length),
  map_to_entries: spec(1, 1, (m) => {
    const map = toMap('map_to_entries', m)
    return Object.keys(map).map((key) => ({ key, value: map[key] }))
  }),
  map_to_redis_hset_args: spec(1, 1, mapToRedisHsetArgs),
  map_values: spec(1, 1, (m) => {
    const map = toMap('map_values', m)
    return Object.keys(map).map((k) => map[k])
  }),
  mget: spec(2, 3, (...args) => {
    const map = toMap('mget', args[1])
    const path = keyPath('mget', args[0])
    return path ? nestedGet(path, map, args[2]) : args[2]
  }),
  mput: spec(3, 3, (key, value, m) => {
    const map = toMap('mput', m)
    const path = keyPath('mput', key)
    if (!path) return fail('mput', `expected a string key or an array of string keys, got ${describe(key)}`)
    return nestedPut(path, value, map)
  }),
}
