/**
 * String functions (EMQX: "String Operation Functions").
 *
 * Like Erlang's `string` module, which EMQX uses, lengths and positions count grapheme clusters
 * (what a reader sees as one character: strlen('你好') = 2, strlen('e\u0301') = 1, '\r\n' is one),
 * and a search pattern only matches where its last character is a whole cluster.
 * The subject may also be true/false (read as 'true'/'false', as EMQX reads atoms);
 * undefined and null are errors.
 */
import { erlFormat } from './erl-format.js'
import { compilePcre, expandReplacement } from './regex.js'
import {
  type CompileTimeCheck,
  type FunctionFamily,
  anyToBinary,
  arrayArg,
  bytesArg,
  bytesResult,
  checkResultSize,
  concatBinaries,
  describe,
  encodeJson,
  fail,
  formatInteger,
  integerArg,
  isBinary,
  spec,
  stringArg,
  textArg,
  MAX_VALUE_SIZE,
  tooLarge,
  valueSize,
} from './values.js'

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/**
 * Code points that can join a neighbour into one grapheme cluster: extending marks, spacing marks,
 * emoji modifiers, regional indicators, ZWJ, conjoining Hangul jamo and prepended marks. Between
 * two code points that are neither (and are not CR LF) there is always a cluster boundary, so only
 * the few windows around these need Intl.Segmenter, which is slow (and slower than linear on long
 * text in V8).
 */
const JOINING =
  /[\p{Grapheme_Extend}\p{Mc}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\u0e33\u0eb3\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e\u{110bd}\u{110cd}\u{111c2}\u{111c3}\u{1193f}\u{11941}\u{11a3a}\u{11a84}-\u{11a89}\u{11d46}\u{11f02}]/u

function cpLength(s: string, i: number): number {
  return (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1
}

/** Start of the code point that ends just before `i`. */
function previousCp(s: string, i: number): number {
  return i >= 2 && /[\udc00-\udfff]/.test(s[i - 1]!) && /[\ud800-\udbff]/.test(s[i - 2]!) ? i - 2 : i - 1
}

/** Code points as clusters, with CR LF as one: the segmentation of text without joining code points. */
function simpleClusters(s: string, out: string[]): void {
  for (const ch of s) {
    if (ch === '\n' && out.length > 0 && out[out.length - 1] === '\r') out[out.length - 1] = '\r\n'
    else out.push(ch)
  }
}

/** Grapheme clusters of a string, as Erlang's string module counts characters. */
function graphemes(s: string): string[] {
  const windows: [number, number][] = []
  const re = new RegExp(JOINING.source, 'gu')
  for (let m = re.exec(s); m; m = re.exec(s)) {
    let start = m.index > 0 ? previousCp(s, m.index) : 0
    if (s[start] === '\n' && start > 0 && s[start - 1] === '\r') start--
    let end = m.index + m[0].length
    if (end < s.length) end += cpLength(s, end)
    if (s[end - 1] === '\r' && s[end] === '\n') end++
    const last = windows[windows.length - 1]
    if (last && start <= last[1]) last[1] = Math.max(last[1], end)
    else windows.push([start, end])
  }
  const out: string[] = []
  let pos = 0
  for (const [start, end] of windows) {
    simpleClusters(s.slice(pos, start), out)
    for (const seg of segmenter.segment(s.slice(start, end))) out.push(seg.segment)
    pos = end
  }
  simpleClusters(s.slice(pos), out)
  return out
}

/** Whether the grapheme cluster that starts at `i` (reading from `i` on) is a single code point. */
function singleCodePointCluster(s: string, i: number): boolean {
  const len = cpLength(s, i)
  if (i + len >= s.length) return true
  const pair = s.slice(i, i + len + cpLength(s, i + len))
  if (pair === '\r\n') return false
  if (!JOINING.test(pair)) return true
  // A break after the first code point depends only on it and the next one.
  for (const seg of segmenter.segment(pair)) return seg.segment.length === len
  return true
}

/** Index of the next occurrence of `needle` at or after `from` that ends on a cluster boundary, or -1. */
function findFrom(s: string, needle: string, from: number): number {
  const lastLen = needle.length >= 2 && (needle.codePointAt(needle.length - 2) ?? 0) > 0xffff ? 2 : 1
  let i = s.indexOf(needle, from)
  while (i >= 0) {
    if (singleCodePointCluster(s, i + needle.length - lastLen)) return i
    i = s.indexOf(needle, i + cpLength(s, i))
  }
  return -1
}

function findLast(s: string, needle: string): number {
  let last = -1
  for (let i = findFrom(s, needle, 0); i >= 0; i = findFrom(s, needle, i + cpLength(s, i))) last = i
  return last
}

type Where = 'all' | 'leading' | 'trailing'

/** Erlang's string:split/3. */
function erlSplit(s: string, pattern: string, where: Where): string[] {
  if (pattern === '') return [s]
  if (where !== 'all') {
    const i = where === 'leading' ? findFrom(s, pattern, 0) : findLast(s, pattern)
    return i < 0 ? [s] : [s.slice(0, i), s.slice(i + pattern.length)]
  }
  const parts: string[] = []
  let pos = 0
  for (let i = findFrom(s, pattern, 0); i >= 0; i = findFrom(s, pattern, pos)) {
    parts.push(s.slice(pos, i))
    pos = i + pattern.length
  }
  parts.push(s.slice(pos))
  return parts
}

/** Erlang's unicode_util:whitespace(): what trim/ltrim/rtrim remove. */
const WHITESPACE: ReadonlySet<string> = new Set(['\r\n', '\r', '\n', '\t', '\v', '\f', ' ', '\u0085', '\u200e', '\u200f', '\u2028', '\u2029'])

function trimClusters(s: string, separators: ReadonlySet<string>, dir: 'both' | 'leading' | 'trailing'): string {
  const g = graphemes(s)
  let a = 0
  let b = g.length
  if (dir !== 'trailing') while (a < b && separators.has(g[a]!)) a++
  if (dir !== 'leading') while (b > a && separators.has(g[b - 1]!)) b--
  return g.slice(a, b).join('')
}

function oneOf<T extends string>(name: string, v: unknown, options: readonly T[], what: string): T {
  if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T
  return fail(name, `invalid ${what} ${describe(v)} (expected ${options.map((o) => `"${o}"`).join(', ')})`)
}

function split(args: readonly unknown[]): string[] {
  const s = textArg('split', args[0])
  const p = stringArg('split', args[1], 'a string separator')
  if (args.length === 2) return erlSplit(s, p, 'all').filter((x) => x !== '')
  const option = oneOf('split', args[2], ['notrim', 'leading', 'leading_notrim', 'trailing', 'trailing_notrim'], 'option')
  const where: Where = option.startsWith('leading') ? 'leading' : option.startsWith('trailing') ? 'trailing' : 'all'
  const parts = erlSplit(s, p, where)
  return option.endsWith('notrim') ? parts : parts.filter((x) => x !== '')
}

/** Code points, except that "\r\n" stays one unit (EMQX's tokens works on bytes, where CR LF is one cluster). */
function tokenUnits(s: string): string[] {
  const units: string[] = []
  for (const ch of s) {
    if (ch === '\n' && units[units.length - 1] === '\r') units[units.length - 1] = '\r\n'
    else units.push(ch)
  }
  return units
}

function tokens(args: readonly unknown[]): string[] {
  const s = textArg('tokens', args[0])
  const separators = new Set(Array.from(stringArg('tokens', args[1], 'a string of separators')))
  if (args.length === 3) {
    oneOf('tokens', args[2], ['nocrlf'], 'option')
    for (const x of ['\r', '\n', '\r\n']) separators.add(x)
  }
  const out: string[] = []
  let current = ''
  for (const u of tokenUnits(s)) {
    if (separators.has(u)) {
      if (current) out.push(current)
      current = ''
    } else current += u
  }
  if (current) out.push(current)
  return out
}

function pad(args: readonly unknown[]): string {
  const s = textArg('pad', args[0])
  const len = integerArg('pad', args[1], 'an integer length')
  const dir = args.length > 2 ? oneOf('pad', args[2], ['trailing', 'leading', 'both'], 'direction') : 'trailing'
  const ch = args.length > 3 ? stringArg('pad', args[3], 'a string pad character') : ' '
  const size = Math.max(0, len - graphemes(s).length)
  checkResultSize('pad', s.length + size * ch.length, s.length)
  if (dir === 'leading') return ch.repeat(size) + s
  if (dir === 'trailing') return s + ch.repeat(size)
  const pre = ch.repeat(Math.floor(size / 2))
  return pre + s + pre + (size % 2 ? ch : '')
}

function substr(args: readonly unknown[]): string {
  const s = textArg('substr', args[0])
  const start = integerArg('substr', args[1], 'an integer start')
  if (start < 0) fail('substr', `start must not be negative, got ${start}`)
  const g = graphemes(s)
  if (args.length === 2) return g.slice(start).join('')
  const len = integerArg('substr', args[2], 'an integer length')
  if (len < 0) fail('substr', `length must not be negative, got ${len}`)
  return g.slice(start, start + len).join('')
}

function find(args: readonly unknown[]): string {
  const s = textArg('find', args[0])
  const p = stringArg('find', args[1], 'a string pattern')
  const dir = args.length > 2 ? oneOf('find', args[2], ['leading', 'trailing'], 'direction') : 'leading'
  if (p === '') return s
  const i = dir === 'leading' ? findFrom(s, p, 0) : findLast(s, p)
  return i < 0 ? '' : s.slice(i)
}

function replace(args: readonly unknown[]): string {
  const s = textArg('replace', args[0])
  const p = stringArg('replace', args[1], 'a string pattern')
  const r = stringArg('replace', args[2], 'a string replacement')
  const where = args.length > 3 ? oneOf('replace', args[3], ['all', 'leading', 'trailing'], 'position') : 'all'
  const parts = erlSplit(s, p, where)
  checkResultSize('replace', s.length + (parts.length - 1) * (r.length - p.length), s.length)
  return parts.join(r)
}

/** Byte-wise, as EMQX compares binaries. */
function rmPrefix(subject: unknown, prefix: unknown): string | Uint8Array {
  const s = typeof subject === 'boolean' ? String(subject) : subject
  if (!isBinary(s)) return fail('rm_prefix', `expected a string, got ${describe(subject)}`)
  if (!isBinary(prefix)) return fail('rm_prefix', `expected a string prefix, got ${describe(prefix)}`)
  if (typeof s === 'string' && typeof prefix === 'string') return s.startsWith(prefix) ? s.slice(prefix.length) : s
  const bytes = bytesArg('rm_prefix', s)
  const pre = bytesArg('rm_prefix', prefix)
  return bytes.subarray(0, pre.length).equals(pre) ? bytesResult(bytes.subarray(pre.length)) : s
}

function ascii(v: unknown): number {
  const first = Buffer.from(textArg('ascii', v), 'utf8')[0]
  if (first === undefined) return fail('ascii', 'expected a non-empty string')
  return first
}

function concat(args: readonly unknown[]): string | Buffer {
  const items = args.length === 1 ? arrayArg('concat', args[0], 'an array (concat with one argument joins an array)') : args
  const parts = items.map((x) => anyToBinary('concat', x))
  checkResultSize('concat', sumSizes(parts), Math.max(0, ...args.map(valueSize)))
  return concatBinaries(parts)
}

function joinToString(args: readonly unknown[]): string | Buffer {
  const sep = args.length === 1 ? ', ' : args[0]
  if (!isBinary(sep)) return fail('join_to_string', `expected a string separator, got ${describe(sep)}`)
  const list = arrayArg('join_to_string', args.length === 1 ? args[0] : args[1])
  const parts: (string | Buffer)[] = []
  list.forEach((x, i) => {
    if (i > 0) parts.push(typeof sep === 'string' ? sep : Buffer.from(sep))
    parts.push(anyToBinary('join_to_string', x))
  })
  checkResultSize('join_to_string', sumSizes(parts))
  return concatBinaries(parts)
}

function sumSizes(parts: readonly (string | Buffer)[]): number {
  let n = 0
  for (const p of parts) n += p.length
  return n
}

function quoteSql(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`
}

/** EMQX's quote_sql2: NULL for undefined, numbers bare, everything else an escaped SQL string. */
function sqlValue(v: unknown): string {
  if (v === undefined) return 'NULL'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return fail('join_to_sql_values_string', `cannot write ${v} as SQL`)
    return Number.isInteger(v) ? formatInteger(v) : String(v)
  }
  if (Array.isArray(v)) return quoteSql(encodeJson('join_to_sql_values_string', v))
  const b = anyToBinary('join_to_sql_values_string', v)
  return quoteSql(typeof b === 'string' ? b : b.toString('utf8'))
}

const HEX_DIGIT = /[0-9a-fA-F]/
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\\', '\\'], ['n', '\n'], ['t', '\t'], ['r', '\r'], ['b', '\b'], ['f', '\f'],
  ['v', '\v'], ["'", "'"], ['"', '"'], ['?', '?'], ['a', '\x07'],
])

/** unescape(): C escape sequences and \xH… (any number of hex digits, one code point). */
function unescape(v: unknown): string {
  const s = textArg('unescape', v)
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c !== '\\' || i + 1 >= s.length) {
      out += c
      continue
    }
    const d = s[i + 1]!
    const mapped = SIMPLE_ESCAPES.get(d)
    if (mapped !== undefined) {
      out += mapped
      i++
      continue
    }
    if (d === 'x' && HEX_DIGIT.test(s[i + 2] ?? '')) {
      let j = i + 2
      while (j < s.length && HEX_DIGIT.test(s[j]!)) j++
      const code = parseInt(s.slice(i + 2, j), 16)
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        fail('unescape', `\\x${s.slice(i + 2, j)} is not a valid Unicode character`)
      }
      out += String.fromCodePoint(code)
      i = j - 1
      continue
    }
    fail('unescape', `unrecognized escape sequence \\${String.fromCodePoint(s.codePointAt(i + 1)!)}`)
  }
  return out
}

function regexMatch(subject: unknown, re: unknown): boolean {
  const s = textArg('regex_match', subject)
  return compilePcre('regex_match', stringArg('regex_match', re, 'a regular expression')).test(s)
}

function regexReplace(subject: unknown, re: unknown, replacement: unknown): string {
  const s = textArg('regex_replace', subject)
  const regex = compilePcre('regex_replace', stringArg('regex_replace', re, 'a regular expression'))
  const rep = stringArg('regex_replace', replacement, 'a string replacement')
  const limit = Math.max(MAX_VALUE_SIZE, s.length)
  let out = ''
  let pos = 0
  for (const m of regex.matchAll(s)) {
    out += s.slice(pos, m.index) + expandReplacement(rep, m.groups)
    pos = m.end
    if (out.length > limit) tooLarge('regex_replace', out.length)
  }
  return out + s.slice(pos)
}

function regexExtract(subject: unknown, re: unknown): string[] {
  const s = textArg('regex_extract', subject)
  const m = compilePcre('regex_extract', stringArg('regex_extract', re, 'a regular expression')).exec(s)
  return m ? m.groups.slice(1).map((g) => g ?? '') : []
}

const REGEX_HINT =
  'Regular expressions run on a linear-time engine (RE2), so no pattern can stall the broker: backreferences, lookahead, atomic groups and possessive quantifiers are not available. See docs/rules.md ("Limits").'

/** A pattern written in the SQL is compiled with the rule: an unsupported one rejects the rule. */
function literalPattern(name: string): CompileTimeCheck {
  return (args) => {
    const re = args[1]
    if (re?.literal !== true || typeof re.value !== 'string') return
    try {
      compilePcre(name, re.value)
    } catch (err) {
      throw Object.assign(err as Error, { argument: 1, hint: REGEX_HINT })
    }
  }
}

export const stringFunctions: FunctionFamily = {
  ascii: spec(1, 1, ascii),
  concat: spec(1, 2, (...args) => concat(args)),
  find: spec(2, 3, (...args) => find(args)),
  join_to_sql_values_string: spec(1, 1, (list) =>
    arrayArg('join_to_sql_values_string', list).map(sqlValue).join(', '),
  ),
  join_to_string: spec(1, 2, (...args) => joinToString(args)),
  lower: spec(1, 1, (s) => textArg('lower', s).toLowerCase()),
  ltrim: spec(1, 1, (s) => trimClusters(textArg('ltrim', s), WHITESPACE, 'leading')),
  pad: spec(2, 4, (...args) => pad(args)),
  regex_extract: spec(2, 2, regexExtract, literalPattern('regex_extract')),
  regex_match: spec(2, 2, regexMatch, literalPattern('regex_match')),
  regex_replace: spec(3, 3, regexReplace, literalPattern('regex_replace')),
  replace: spec(3, 4, (...args) => replace(args)),
  reverse: spec(1, 1, (s) => graphemes(textArg('reverse', s)).reverse().join('')),
  rm_prefix: spec(2, 2, rmPrefix),
  rtrim: spec(1, 2, (...args) => {
    const s = textArg('rtrim', args[0])
    const seps = args.length > 1 ? new Set(Array.from(stringArg('rtrim', args[1], 'a string of characters'))) : WHITESPACE
    return trimClusters(s, seps, 'trailing')
  }),
  split: spec(2, 3, (...args) => split(args)),
  sprintf: spec(1, Infinity, (format, ...rest) => erlFormat('sprintf', stringArg('sprintf', format, 'a format string'), rest)),
  sprintf_s: spec(2, 2, (format, list) =>
    erlFormat('sprintf_s', stringArg('sprintf_s', format, 'a format string'), arrayArg('sprintf_s', list, 'an array of arguments')),
  ),
  strlen: spec(1, 1, (s) => graphemes(textArg('strlen', s)).length),
  substr: spec(2, 3, (...args) => substr(args)),
  tokens: spec(2, 3, (...args) => tokens(args)),
  trim: spec(1, 1, (s) => trimClusters(textArg('trim', s), WHITESPACE, 'both')),
  unescape: spec(1, 1, unescape),
  upper: spec(1, 1, (s) => textArg('upper', s).toUpperCase()),
}
