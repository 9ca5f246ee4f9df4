/**
 * Recognises a single-row `INSERT ... VALUES (...)` statement (placeholders already turned into
 * `$1..$n`) and builds its multi-row form `INSERT ... VALUES ($1,$2),($3,$4),...`, so a batch is
 * one statement and one round trip.
 *
 * The scan is lexical, not a parser: it skips string literals ('...', E'...', "...", $tag$...$tag$)
 * and comments, and accepts only this shape:
 *
 *     INSERT <anything without VALUES at depth 0> VALUES ( <row> ) [ON CONFLICT ... | RETURNING ...] [;]
 *
 * where every `$n` sits inside `<row>`. Anything else (INSERT ... SELECT, several VALUES rows,
 * DEFAULT VALUES, WITH ..., a `$n` in ON CONFLICT DO UPDATE SET, UPDATE, CALL...) answers
 * undefined, and the channel runs the statement once per message instead.
 */

/** PostgreSQL's limit on bind parameters in one statement (Int16 count in the Bind message). */
export const MAX_BIND_PARAMS = 65_535
/** Rows per statement when the template has no placeholder at all. */
const MAX_ROWS_WITHOUT_PARAMS = 1_000

export interface MultiRowInsert {
  /** Number of bind parameters one row uses. */
  readonly paramsPerRow: number
  /** Most rows one statement may carry, from the bind-parameter limit. */
  readonly maxRows: number
  /** The statement text for `rows` rows (cached per row count). */
  text(rows: number): string
}

/** A part of the row tuple: literal SQL text, or the 1-based parameter number of the single-row template. */
type RowPart = string | number

/**
 * The multi-row form of `text`, or undefined when `text` is not a plain single-row
 * INSERT ... VALUES (...). `paramCount` is the number of `$n` the template produced.
 */
export function multiRowInsert(text: string, paramCount: number, maxBindParams = MAX_BIND_PARAMS): MultiRowInsert | undefined {
  const split = splitInsertValues(text, paramCount)
  if (!split) return undefined
  const { head, row, tail } = split
  const paramsPerRow = paramCount
  const maxRows = paramsPerRow === 0 ? MAX_ROWS_WITHOUT_PARAMS : Math.max(1, Math.floor(maxBindParams / paramsPerRow))
  const cache = new Map<number, string>()
  const renderRow = (r: number) => row.map((p) => (typeof p === 'string' ? p : `$${p + r * paramsPerRow}`)).join('')
  return {
    paramsPerRow,
    maxRows,
    text(rows: number): string {
      let t = cache.get(rows)
      if (t === undefined) {
        const tuples: string[] = []
        for (let r = 0; r < rows; r++) tuples.push(renderRow(r))
        t = `${head}${tuples.join(', ')}${tail}`
        // Batch sizes vary (a timer flushes partial batches); keep the cache small.
        if (cache.size >= 64) cache.clear()
        cache.set(rows, t)
      }
      return t
    },
  }
}

interface Split {
  /** Everything up to and including `VALUES `. */
  readonly head: string
  /** The `( ... )` tuple, parameters as numbers. */
  readonly row: readonly RowPart[]
  /** ON CONFLICT / RETURNING / `;` after the tuple. */
  readonly tail: string
}

export function splitInsertValues(text: string, paramCount: number): Split | undefined {
  const tokens = tokenize(text)
  if (!tokens) return undefined
  const words = tokens.filter((t) => t.kind === 'word')
  if (words[0]?.value.toUpperCase() !== 'INSERT') return undefined

  let depth = 0
  let valuesAt = -1
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'open') depth++
    else if (t.kind === 'close') depth--
    else if (t.kind === 'word' && depth === 0 && t.value.toUpperCase() === 'VALUES') {
      valuesAt = i
      break
    } else if (t.kind === 'word' && depth === 0 && t.value.toUpperCase() === 'SELECT') {
      return undefined // INSERT ... SELECT ... UNION VALUES (...): not one row per message
    }
  }
  if (valuesAt < 0) return undefined
  const open = tokens[valuesAt + 1]
  if (open?.kind !== 'open') return undefined

  // The tuple: from `(` to its matching `)`.
  depth = 0
  let closeAt = -1
  for (let i = valuesAt + 1; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'open') depth++
    else if (t.kind === 'close' && --depth === 0) {
      closeAt = i
      break
    }
  }
  if (closeAt < 0) return undefined
  const close = tokens[closeAt]!

  // After the tuple: nothing, or ON CONFLICT / RETURNING, then at most a final `;`.
  const after = tokens.slice(closeAt + 1)
  const next = after[0]
  if (next !== undefined && !(next.kind === 'word' && /^(ON|RETURNING)$/i.test(next.value)) && next.kind !== 'semicolon') return undefined
  const semicolon = after.findIndex((t) => t.kind === 'semicolon')
  if (semicolon >= 0 && semicolon !== after.length - 1) return undefined

  // Every parameter inside the tuple, each exactly once (as compileSqlTemplate numbers them).
  const params = tokens.filter((t) => t.kind === 'param')
  const inside = params.filter((t) => t.start > open.start && t.start < close.start)
  if (inside.length !== params.length || params.length !== paramCount) return undefined
  const seen = new Set(inside.map((t) => Number(t.value.slice(1))))
  if (seen.size !== paramCount || [...seen].some((n) => n < 1 || n > paramCount)) return undefined

  const row: RowPart[] = []
  let last = open.start
  for (const p of inside) {
    row.push(text.slice(last, p.start), Number(p.value.slice(1)))
    last = p.end
  }
  row.push(text.slice(last, close.end))
  return { head: text.slice(0, open.start), row: row.filter((p) => p !== ''), tail: text.slice(close.end) }
}

interface Token {
  readonly kind: 'word' | 'param' | 'open' | 'close' | 'semicolon' | 'other'
  readonly value: string
  readonly start: number
  readonly end: number
}

/** Code tokens of `text`, skipping literals and comments; undefined on an unterminated one. */
function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]!
    const start = i
    if (/\s/.test(c)) {
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i)
      i = nl < 0 ? n : nl + 1
    } else if (c === '/' && text[i + 1] === '*') {
      // Block comments nest in PostgreSQL.
      let nesting = 1
      i += 2
      while (i < n && nesting > 0) {
        if (text[i] === '/' && text[i + 1] === '*') { nesting++; i += 2 }
        else if (text[i] === '*' && text[i + 1] === '/') { nesting--; i += 2 }
        else i++
      }
      if (nesting > 0) return undefined
    } else if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'" && !isWordChar(text[i - 1]))) {
      const escapes = c !== "'"
      i = c === "'" ? i + 1 : i + 2
      for (;;) {
        if (i >= n) return undefined
        if (escapes && text[i] === '\\') { i += 2; continue }
        if (text[i] === "'") {
          if (text[i + 1] === "'") { i += 2; continue }
          i++
          break
        }
        i++
      }
      tokens.push({ kind: 'other', value: text.slice(start, i), start, end: i })
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= n) return undefined
        if (text[i] === '"') {
          if (text[i + 1] === '"') { i += 2; continue }
          i++
          break
        }
        i++
      }
      tokens.push({ kind: 'word', value: text.slice(start, i), start, end: i })
    } else if (c === '$') {
      const param = /^\$\d+/.exec(text.slice(i, i + 12))
      if (param) {
        i += param[0].length
        tokens.push({ kind: 'param', value: param[0], start, end: i })
        continue
      }
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64))
      if (!tag) { i++; tokens.push({ kind: 'other', value: c, start, end: i }); continue }
      const endAt = text.indexOf(tag[0], i + tag[0].length)
      if (endAt < 0) return undefined
      i = endAt + tag[0].length
      tokens.push({ kind: 'other', value: text.slice(start, i), start, end: i })
    } else if (c === '(') {
      i++
      tokens.push({ kind: 'open', value: c, start, end: i })
    } else if (c === ')') {
      i++
      tokens.push({ kind: 'close', value: c, start, end: i })
    } else if (c === ';') {
      i++
      tokens.push({ kind: 'semicolon', value: c, start, end: i })
    } else if (isWordChar(c)) {
      while (i < n && isWordChar(text[i])) i++
      tokens.push({ kind: 'word', value: text.slice(start, i), start, end: i })
    } else {
      i++
      tokens.push({ kind: 'other', value: c, start, end: i })
    }
  }
  return tokens
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_\u0080-\uffff]/.test(c)
}
