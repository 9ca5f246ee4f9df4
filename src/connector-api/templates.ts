/**
 * `${path}` templates in action params (topics, keys, payloads, SQL). A path reads the rule's
 * output: `${payload.temp}`, `${a.b[1]}` (1-based, as rule SQL), `${.}` for the whole output.
 * A string value that holds JSON is decoded on the way through a nested path, as EMQX does for
 * payloads, so `${payload.temp}` works whether the rule selected `payload` raw or decoded.
 *
 * A missing value renders as `null` (text templates) or SQL NULL (SQL parameters); never as the
 * string "undefined". Objects and arrays render as JSON.
 */

const PLACEHOLDER = /\$\{\s*([^}]*?)\s*\}/g

type Segment = string | number

/**
 * One step of a path: a name, bare or quoted as rule SQL quotes names that are not identifiers
 * (`pub_props.'User-Property'`), then any indexes, then a dot or the end.
 */
const PATH_STEP = /(?:'([^']*)'|"([^"]*)"|([^.[\]'"]*))((?:\[-?\d+\])*)(?:\.|$)/y

/** Parses `a.b[2].c` (or `pub_props.'User-Property'`) into segments; `.` (or empty) is the whole value. */
export function parsePath(path: string): Segment[] {
  if (path === '.' || path === '') return []
  const segments: Segment[] = []
  let at = 0
  while (at < path.length) {
    PATH_STEP.lastIndex = at
    const m = PATH_STEP.exec(path)
    if (!m || m[0] === '') throw new TemplateError(`invalid placeholder path "${path}"`)
    const name = m[1] ?? m[2] ?? m[3]
    if (name) segments.push(name)
    for (const idx of m[4]!.matchAll(/\[(-?\d+)\]/g)) segments.push(Number(idx[1]))
    at = PATH_STEP.lastIndex
  }
  return segments
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TemplateError'
  }
}

/** Reads a path from a value; undefined when any step is missing. */
export function readPath(root: unknown, segments: readonly Segment[]): unknown {
  let v: unknown = root
  for (const seg of segments) {
    if (typeof v === 'string') v = tryJson(v)
    if (typeof seg === 'number') {
      if (!Array.isArray(v)) return undefined
      const i = seg > 0 ? seg - 1 : v.length + seg
      v = v[i]
    } else {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
      v = (v as Record<string, unknown>)[seg]
    }
    if (v === undefined) return undefined
  }
  return v
}

function tryJson(s: string): unknown {
  const c = s.trimStart()[0]
  if (c !== '{' && c !== '[') return s
  try {
    return JSON.parse(s)
  } catch {
    return s
  }
}

/** How a value reads inside text: strings as they are, the rest as JSON, missing as null. */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v
  if (v === undefined || v === null) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return JSON.stringify(v)
}

export type Render = (output: Readonly<Record<string, unknown>>) => string

/** Compiles a text template once; rendering is string concatenation. */
export function compileTemplate(template: string): Render {
  const parts: Array<string | Segment[]> = []
  let last = 0
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push(template.slice(last, m.index))
    parts.push(parsePath(m[1]!))
    last = m.index! + m[0].length
  }
  if (last < template.length) parts.push(template.slice(last))
  if (parts.length === 1 && Array.isArray(parts[0])) {
    const only = parts[0]
    return (o) => toText(readPath(o, only))
  }
  return (o) => {
    let s = ''
    for (const p of parts) s += typeof p === 'string' ? p : toText(readPath(o, p))
    return s
  }
}

/** Extracts one value (not text) from a template that is a single placeholder, e.g. a timestamp. */
export function compileValue(template: string): (output: Readonly<Record<string, unknown>>) => unknown {
  const m = /^\s*\$\{\s*([^}]*?)\s*\}\s*$/.exec(template)
  if (!m) {
    const render = compileTemplate(template)
    return render
  }
  const path = parsePath(m[1]!)
  return (o) => readPath(o, path)
}

/**
 * A template for a URL's path and query: each placeholder's value URL-encoded (`.` and `..` too),
 * so message data stays one path segment or one query value and cannot climb the path.
 */
export function compileUrlTemplate(template: string): Render {
  const parts = template.split(/(\$\{[^}]*\})/).map((s, i) => (i % 2 === 0 ? s : compileValue(s)))
  const encode = (v: unknown) => encodeURIComponent(toText(v)).replace(/^\.\.?$/, (dots) => dots.replace(/\./g, '%2E'))
  return parts.length === 1 ? () => template : (o) => parts.map((p) => (typeof p === 'string' ? p : encode(p(o)))).join('')
}

/**
 * A text template whose output may be left out (a header, a message ID): one that is a lone
 * placeholder renders undefined when its value is missing or null, never the text "null"; any
 * other template renders as `compileTemplate` does.
 */
export function compileOptionalTemplate(template: string): (output: Readonly<Record<string, unknown>>) => string | undefined {
  if (!/^\s*\$\{[^}]*\}\s*$/.test(template)) return compileTemplate(template)
  const value = compileValue(template)
  return (o) => {
    const v = value(o)
    return v === undefined || v === null ? undefined : toText(v)
  }
}

export interface SqlTemplate {
  /** The statement with placeholders replaced by `$1..$n` (or `?`). */
  readonly text: string
  /** The parameter values for one output, in order. */
  readonly params: (output: Readonly<Record<string, unknown>>) => unknown[]
  /**
   * Writes one output's parameter values into `target` from index `at`, each through `convert`
   * (raw value in; `toSqlParam` by default), and returns the index after the last. A batch
   * renders all its rows into one array this way, without a list per row.
   */
  readonly writeParams: <T>(output: Readonly<Record<string, unknown>>, target: T[], at: number, convert: (v: unknown) => T) => number
  /** Placeholder paths, in order (for docs and errors). */
  readonly placeholders: readonly string[]
}

/**
 * Turns an SQL template into a parameterised statement: every `${x}` becomes a bind parameter, so
 * values are never spliced into SQL text. A placeholder the user wrapped in quotes (`'${x}'`) is a
 * parameter too: the quotes go. Values: strings, numbers and booleans as they are, objects and
 * arrays as JSON text, missing as NULL.
 */
export function compileSqlTemplate(sql: string, style: 'dollar' | 'question' = 'dollar'): SqlTemplate {
  const paths: Segment[][] = []
  const names: string[] = []
  const text = sql.replace(/'?\$\{\s*([^}]*?)\s*\}'?/g, (whole, path: string) => {
    const quotedBoth = whole.startsWith("'") && whole.endsWith("'") && whole.length > 2
    const keepLeading = whole.startsWith("'") && !quotedBoth ? "'" : ''
    const keepTrailing = whole.endsWith("'") && !quotedBoth ? "'" : ''
    paths.push(parsePath(path))
    names.push(path)
    return `${keepLeading}${style === 'dollar' ? `$${paths.length}` : '?'}${keepTrailing}`
  })
  const writeParams = <T>(o: Readonly<Record<string, unknown>>, target: T[], at: number, convert: (v: unknown) => T): number => {
    for (let i = 0; i < paths.length; i++) target[at++] = convert(readPath(o, paths[i]!))
    return at
  }
  return {
    text,
    placeholders: names,
    params: (o) => {
      const values: unknown[] = new Array(paths.length)
      writeParams(o, values, 0, toSqlParam)
      return values
    },
    writeParams,
  }
}

export function toSqlParam(v: unknown): unknown {
  if (v === undefined || v === null) return null
  if (typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Date)) return JSON.stringify(v)
  return v
}
