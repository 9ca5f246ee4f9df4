/**
 * The HOCON that EMQX writes (cluster.hocon of a data export): objects with or without `=`/`:`,
 * dotted keys, quoted, triple-quoted and unquoted strings, numbers, booleans, null, arrays,
 * comments, commas or newlines between fields, duplicate objects merged. Not supported (EMQX does
 * not write them): substitutions `${...}` outside strings, `include`, value concatenation.
 * Of the pure-JS parsers on npm, hocon-parser describes itself as "very basic" and
 * @pushcorn/hocon-parser brings an HTTP client and a CLI framework along; this subset is what an
 * import needs.
 */

export class HoconError extends Error {
  constructor(message: string, readonly line: number) { super(`line ${line}: ${message}`) }
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const MAX_DEPTH = 64

export function parseHocon(text: string): Obj {
  let i = 0
  const line = () => text.slice(0, i).split('\n').length
  const fail = (m: string): never => { throw new HoconError(m, line()) }

  const skip = (newlines: boolean) => {
    for (;;) {
      const c = text[i]
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n') || c === '\ufeff') i++
      else if (c === '#' || (c === '/' && text[i + 1] === '/')) { while (i < text.length && text[i] !== '\n') i++ }
      else return
    }
  }
  const quoted = (): string => {
    if (text.startsWith('"""', i)) {
      const end = text.indexOf('"""', i + 3)
      if (end < 0) fail('unterminated """ string')
      const s = text.slice(i + 3, end)
      i = end + 3
      return s
    }
    let j = i + 1
    while (j < text.length && text[j] !== '"') { if (text[j] === '\\') j++; if (text[j] === '\n') fail('newline in a quoted string'); j++ }
    if (j >= text.length) fail('unterminated string')
    const raw = text.slice(i, j + 1)
    i = j + 1
    try { return JSON.parse(raw) as string } catch { return fail(`bad escape in ${raw.slice(0, 40)}`) }
  }
  const key = (): string[] => {
    const parts: string[] = []
    for (;;) {
      if (text[i] === '"') parts.push(quoted())
      else {
        const m = /^[A-Za-z0-9_\-$]+/.exec(text.slice(i, i + 512))
        if (!m) fail(`expected a key, found ${JSON.stringify(text.slice(i, i + 10))}`)
        parts.push(m![0])
        i += m![0].length
      }
      if (text[i] !== '.') return parts
      i++
    }
  }
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('nested too deep')
    skip(true)
    const c = text[i]
    if (c === '{') { i++; const o = object(depth + 1, '}'); i++; return o }
    if (c === '[') {
      i++
      const arr: unknown[] = []
      for (;;) {
        skip(true)
        if (text[i] === ']') { i++; return arr }
        if (i >= text.length) fail('unterminated array')
        arr.push(value(depth + 1))
        skip(true)
        if (text[i] === ',') i++
      }
    }
    if (c === '"') return quoted()
    if (c === '$' && text[i + 1] === '{') fail('substitutions ${...} are not supported')
    const m = /^[^\n,}\]#]*/.exec(text.slice(i))!
    const raw = m[0].replace(/\/\/.*$/, '').trim()
    if (raw === '') fail('expected a value')
    i += m[0].replace(/\/\/.*$/, '').length
    if (raw === 'true') return true
    if (raw === 'false') return false
    if (raw === 'null') return null
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return Number(raw)
    return raw
  }
  const object = (depth: number, close: '}' | undefined): Obj => {
    const o: Obj = {}
    for (;;) {
      skip(true)
      if (i >= text.length) { if (close) fail('unterminated object'); return o }
      if (text[i] === close) return o
      if (text[i] === ',') { i++; continue }
      const path = key()
      skip(false)
      if (text[i] === '=' || text[i] === ':') i++
      else if (text[i] !== '{') fail(`expected "=", ":" or "{" after ${path.join('.')}`)
      const v = value(depth)
      let holder = o
      for (const k of path.slice(0, -1)) {
        if (!isObj(holder[k])) holder[k] = {}
        holder = holder[k] as Obj
      }
      const last = path[path.length - 1]!
      holder[last] = isObj(holder[last]) && isObj(v) ? merge(holder[last] as Obj, v) : v
    }
  }
  skip(true)
  if (text[i] === '{') { i++; const o = object(1, '}'); i++; skip(true); if (i < text.length) fail('text after the root object'); return o }
  return object(0, undefined)
}

function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = isObj(out[k]) && isObj(v) ? merge(out[k] as Obj, v) : v
  return out
}
