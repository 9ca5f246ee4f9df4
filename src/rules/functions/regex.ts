/**
 * EMQX evaluates regular expressions with Erlang's `re` (PCRE). This module translates the PCRE
 * syntax people write into an equivalent JavaScript RegExp (always with the `u` flag):
 *
 * - leading option settings `(?i)`, `(?s)`, `(?m)` (and combinations) become flags;
 * - `.` does not match `\n` only (PCRE), where JavaScript's also skips `\r`, U+2028, U+2029;
 * - `$` also matches before a final `\n` (PCRE's default), `^`/`$` in `(?m)` mode break at `\n` only;
 * - `\A`, `\z`, `\Z`, `\Q…\E`, `\h`, `\e`, `\x{hh}`, `\pL`, `(?P<name>…)`, `(?P=name)`, `(?#…)`,
 *   POSIX classes such as `[[:alpha:]]`, a leading `]` in a class, and a literal `{` or `]` work;
 * - escaped punctuation (`\_`, `\-`, `\ `) is taken literally, as PCRE does.
 *
 * What has no JavaScript equivalent (possessive quantifiers, atomic groups, `(?x)`, `\G`, `\K`,
 * option settings in the middle of a pattern, recursion) is an error.
 */
import { fail } from './values.js'

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''))
const ANY = '[\\s\\S]'

const POSIX: Readonly<Record<string, string>> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
  ascii: '\\x00-\\x7f',
}

function literal(ch: string, inClass: boolean): string {
  if (SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`
  return ch
}

class Translator {
  private i = 0
  private out = ''
  constructor(
    private readonly name: string,
    private readonly p: string,
    private readonly multiline: boolean,
    private readonly dotAll: boolean,
    start: number,
  ) {
    this.i = start
  }

  private bad(why: string): never {
    return fail(this.name, `unsupported regular expression ${JSON.stringify(this.p)}: ${why}`)
  }

  run(): string {
    const p = this.p
    while (this.i < p.length) {
      const c = p[this.i]!
      if (c === '\\') this.escape(false)
      else if (c === '[') this.charClass()
      else if (c === '.') {
        this.out += this.dotAll ? ANY : '[^\\n]'
        this.i++
      } else if (c === '$') {
        this.out += this.multiline ? `(?=\\n|(?!${ANY}))` : `(?=\\n?(?!${ANY}))`
        this.i++
      } else if (c === '^') {
        this.out += this.multiline ? `(?:^|(?<=\\n)(?=${ANY}))` : '^'
        this.i++
      } else if (c === '{') {
        const q = /^\{\d+(?:,\d*)?\}/.exec(p.slice(this.i))
        this.out += q ? q[0] : '\\{'
        this.i += q ? q[0].length : 1
        if (q && (p[this.i] === '+')) this.bad('possessive quantifiers are not supported')
      } else if (c === '}' || c === ']') {
        this.out += `\\${c}`
        this.i++
      } else if (c === '(') this.group()
      else if ((c === '+' || c === '*' || c === '?') && p[this.i + 1] === '+' && this.i > 0) {
        this.bad('possessive quantifiers are not supported')
      } else {
        const cp = String.fromCodePoint(p.codePointAt(this.i)!)
        this.out += cp
        this.i += cp.length
      }
    }
    return this.out
  }

  private group(): void {
    const rest = this.p.slice(this.i)
    let m: RegExpExecArray | null
    if ((m = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest))) {
      this.out += `(?<${m[1]}>`
      this.i += m[0].length
    } else if ((m = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest))) {
      this.out += `\\k<${m[1]}>`
      this.i += m[0].length
    } else if (rest.startsWith('(?#')) {
      const end = this.p.indexOf(')', this.i)
      if (end < 0) this.bad('unterminated comment')
      this.i = end + 1
    } else if (rest.startsWith('(?>')) {
      this.bad('atomic groups are not supported')
    } else if (/^\(\?[imsxXJU-]+[):]/.test(rest)) {
      this.bad('option settings are only supported at the start of the pattern')
    } else {
      this.out += '('
      this.i++
    }
  }

  /** An escape sequence starting at `\`; inside a character class when `inClass`. */
  private escape(inClass: boolean): void {
    const p = this.p
    const d = p[this.i + 1]
    if (d === undefined) this.bad('trailing backslash')
    this.i += 2
    switch (d) {
      case 'A':
        if (inClass) this.bad('\\A in a character class')
        this.out += `(?<!${ANY})`
        return
      case 'z':
        if (inClass) this.bad('\\z in a character class')
        this.out += `(?!${ANY})`
        return
      case 'Z':
        if (inClass) this.bad('\\Z in a character class')
        this.out += `(?=\\n?(?!${ANY}))`
        return
      case 'Q': {
        const end = p.indexOf('\\E', this.i)
        const text = end < 0 ? p.slice(this.i) : p.slice(this.i, end)
        this.i = end < 0 ? p.length : end + 2
        for (const ch of text) this.out += literal(ch, inClass)
        return
      }
      case 'E':
        return
      case 'h':
        this.out += inClass ? '\\t \\u00a0' : '[\\t \\u00a0]'
        return
      case 'H':
        if (inClass) this.bad('\\H in a character class')
        this.out += '[^\\t \\u00a0]'
        return
      case 'e':
        this.out += '\\x1b'
        return
      case 'a':
        this.out += '\\x07'
        return
      case 'x': {
        const braced = /^\{([0-9a-fA-F]+)\}/.exec(p.slice(this.i))
        if (braced) {
          this.out += `\\u{${braced[1]}}`
          this.i += braced[0].length
        } else {
          const hex = /^[0-9a-fA-F]{0,2}/.exec(p.slice(this.i))![0]
          this.out += `\\x${hex.padStart(2, '0')}`
          this.i += hex.length
        }
        return
      }
      case 'p':
      case 'P':
        if (p[this.i] === '{') {
          this.out += `\\${d}`
        } else if (p[this.i] !== undefined && /[A-Za-z]/.test(p[this.i]!)) {
          this.out += `\\${d}{${p[this.i]}}`
          this.i++
        } else this.bad(`incomplete \\${d}`)
        return
      case 'G':
      case 'K':
      case 'R':
      case 'X':
      case 'C':
        this.bad(`\\${d} is not supported`)
    }
    if (/[A-Za-z0-9]/.test(d)) {
      this.out += `\\${d}`
      return
    }
    const cp = String.fromCodePoint(p.codePointAt(this.i - 1)!)
    this.i += cp.length - 1
    this.out += literal(cp, inClass)
  }

  private charClass(): void {
    const p = this.p
    this.out += '['
    this.i++
    if (p[this.i] === '^') {
      this.out += '^'
      this.i++
    }
    if (p[this.i] === ']') {
      this.out += '\\]'
      this.i++
    }
    for (;;) {
      const c = p[this.i]
      if (c === undefined) this.bad('unterminated character class')
      if (c === ']') break
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(this.i))
      if (posix) {
        const body = POSIX[posix[2]!]
        if (body === undefined || posix[1]) this.bad(`POSIX class [:${posix[1]}${posix[2]}:] is not supported`)
        this.out += body
        this.i += posix[0].length
      } else if (c === '\\') {
        this.escape(true)
      } else if (c === '[') {
        this.out += '\\['
        this.i++
      } else {
        const cp = String.fromCodePoint(p.codePointAt(this.i)!)
        this.out += cp
        this.i += cp.length
      }
    }
    this.out += ']'
    this.i++
  }
}

const cache = new Map<string, RegExp>()
const CACHE_LIMIT = 500

/** A JavaScript RegExp equivalent to the PCRE pattern (see the module comment). */
export function compilePcre(name: string, pattern: string): RegExp {
  const hit = cache.get(pattern)
  if (hit) return hit
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern)
  const opts = lead ? lead[1]! : ''
  for (const o of opts) if (!'ims'.includes(o)) fail(name, `unsupported regular expression option (?${o})`)
  const source = new Translator(name, pattern, opts.includes('m'), opts.includes('s'), lead ? lead[0].length : 0).run()
  let re: RegExp
  try {
    re = new RegExp(source, `u${opts.includes('i') ? 'i' : ''}`)
  } catch (e) {
    return fail(name, `invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`)
  }
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(pattern, re)
  return re
}

/** Erlang re:replace replacement text: `&` is the match, `\N`/`\gN`/`\g{N}` a group, `\&` and `\\` literal. */
export function expandReplacement(replacement: string, match: readonly (string | undefined)[]): string {
  let out = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!
    if (c === '&') {
      out += match[0] ?? ''
      continue
    }
    if (c !== '\\' || i + 1 >= replacement.length) {
      out += c
      continue
    }
    const d = replacement[i + 1]!
    if (d === '\\' || d === '&') {
      out += d
      i++
      continue
    }
    const group = /^(?:g\{(\d+)\}|g(\d+)|(\d+))/.exec(replacement.slice(i + 1))
    if (group) {
      out += match[Number(group[1] ?? group[2] ?? group[3])] ?? ''
      i += group[0].length
      continue
    }
    out += c
  }
  return out
}
