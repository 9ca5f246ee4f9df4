/**
 * Tokens of the rule SQL, following EMQX's lexer (rulesql): single quotes make string literals,
 * double quotes make names (identifiers: a field, or a topic in FROM), `--` starts a comment to the
 * end of the line, keywords are case-insensitive. A character that starts no token and an unclosed
 * quote become `bad` / `unterminated` tokens so the parser can say what it expected there.
 */
import type { SourcePos } from './errors.js'

export type TokenKind =
  | 'int' // 123
  | 'float' // 1.5, 2.5e3, 3e2
  | 'string' // 'single quoted'
  | 'qname' // "double quoted"
  | 'ident' // a name that is not a keyword
  | 'keyword' // SELECT, FROM, ... (value is upper-case)
  | 'punct' // ( ) [ ] , . .. * + - / = != <> < > <= >= =~
  | 'eof'
  | 'bad' // a character that starts no token
  | 'unterminated' // a quote that is never closed

export interface Token {
  readonly kind: TokenKind
  /** The text as written (with quotes for strings and names). */
  readonly text: string
  /** Keywords: upper-case name; strings and names: unquoted content; numbers: the digits; punctuation: itself. */
  readonly value: string
  readonly pos: SourcePos
  /** Offset just after the token. */
  readonly end: number
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AS',
  'AND',
  'OR',
  'NOT',
  'IN',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'FOREACH',
  'DO',
  'INCASE',
  // Reserved by EMQX's lexer although no statement uses them.
  'IF',
  'ELSIF',
  // Operators written as words, and the boolean literals.
  'DIV',
  'MOD',
  'TRUE',
  'FALSE',
])

const PUNCT2 = ['..', '!=', '<>', '<=', '>=', '=~']
const PUNCT1 = '()[],.*+-/=<>'

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isIdentStart = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_')
// EMQX names may also contain `$`, `@` and `~` after the first character.
const isIdentPart = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c) || c === '$' || c === '@' || c === '~'

export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let line = 1
  let lineStart = 0

  // Columns count code points (a surrogate pair is one column). Counted on from the last position
  // asked for on the same line, so long lines stay linear.
  let colOffset = 0
  let colValue = 1
  const posAt = (offset: number): SourcePos => {
    if (colOffset < lineStart || colOffset > offset) {
      colOffset = lineStart
      colValue = 1
    }
    for (; colOffset < offset; colOffset++) {
      const code = src.charCodeAt(colOffset)
      if (code < 0xdc00 || code > 0xdfff) colValue++
    }
    return { offset, line, column: colValue }
  }
  const push = (kind: TokenKind, start: number, end: number, value: string, pos: SourcePos = posAt(start)): void => {
    tokens.push({ kind, text: src.slice(start, end), value, pos, end })
  }

  while (i < src.length) {
    const c = src[i]!
    if (c === '\n') {
      i++
      line++
      lineStart = i
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i++
      continue
    }
    if (c === '-' && src[i + 1] === '-') {
      // A comment runs to the end of the line.
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    const start = i
    if (c === "'" || c === '"') {
      const pos = posAt(start)
      let value = ''
      let j = i + 1
      let closed = false
      while (j < src.length) {
        const d = src[j]!
        if (d === c) {
          if (src[j + 1] === c) {
            // A doubled quote stands for one quote character.
            value += c
            j += 2
            continue
          }
          closed = true
          j++
          break
        }
        if (d === '\n') {
          value += d
          line++
          lineStart = j + 1
          j++
          continue
        }
        value += d
        j++
      }
      i = j
      if (!closed) push('unterminated', start, i, value, pos)
      else push(c === "'" ? 'string' : 'qname', start, i, value, pos)
      continue
    }
    if (isDigit(c)) {
      let j = i
      while (isDigit(src[j])) j++
      let kind: TokenKind = 'int'
      // `1.5` is a float, but `1..4` is a range and `a.1.b` a path: a dot makes a float only before a digit.
      if (src[j] === '.' && isDigit(src[j + 1])) {
        j++
        while (isDigit(src[j])) j++
        kind = 'float'
      }
      if ((src[j] === 'e' || src[j] === 'E') && (isDigit(src[j + 1]) || ((src[j + 1] === '+' || src[j + 1] === '-') && isDigit(src[j + 2])))) {
        j += 2
        while (isDigit(src[j])) j++
        kind = 'float'
      }
      i = j
      push(kind, start, i, src.slice(start, i))
      continue
    }
    if (isIdentStart(c)) {
      let j = i + 1
      while (isIdentPart(src[j])) j++
      i = j
      const word = src.slice(start, i)
      const upper = word.toUpperCase()
      if (KEYWORDS.has(upper)) push('keyword', start, i, upper)
      else push('ident', start, i, word)
      continue
    }
    const two = src.slice(i, i + 2)
    if (PUNCT2.includes(two)) {
      i += 2
      push('punct', start, i, two)
      continue
    }
    if (PUNCT1.includes(c)) {
      i++
      push('punct', start, i, c)
      continue
    }
    // Anything else: one code point the parser will complain about.
    const cp = src.codePointAt(i)!
    i += cp > 0xffff ? 2 : 1
    push('bad', start, i, src.slice(start, i))
  }
  push('eof', src.length, src.length, '')
  return tokens
}
