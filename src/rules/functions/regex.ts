/**
 * EMQX evaluates regular expressions with Erlang's `re` (PCRE), a backtracking engine: a pattern
 * such as `^(a+)+$` takes exponential time on a 30-character subject. Rules run on the broker
 * thread and their patterns meet text that devices send, so Junction runs every pattern on RE2
 * (`re2js`, a pure JavaScript port), which matches in time linear in the subject whatever the
 * pattern. This module translates the PCRE syntax people write into RE2 syntax with PCRE's
 * meaning:
 *
 * - leading option settings `(?i)`, `(?s)`, `(?m)` (and combinations) become flags;
 * - `$` (and `\Z`) also matches before a final `\n`, as PCRE's does (RE2's matches only at the
 *   end): it becomes `(?:\z|(\n)\z)` with a hidden group, and a match that took the newline that
 *   way is shortened by it, so match text and groups are PCRE's;
 * - `\s` is PCRE's (space, `\t \n \v \f \r`), `\h`, `\e`, `\a`, `\cX`, `\x{hh}`, `\xhh`, `\0oo`,
 *   `\pL`, `\Q…\E`, `(?P<name>…)`, `(?<name>…)`, `(?'name'…)`, `(?#…)`, POSIX classes such as
 *   `[[:alpha:]]`, a leading `]` in a class, a literal `{` or `]`, and escaped punctuation work;
 * - lookbehind (`(?<=…)`, `(?<!…)`, without groups inside) runs on RE2's linear-time lookbehinds.
 *
 * What RE2 cannot do in linear time is refused with an error that says so (see README.md):
 * backreferences, lookahead, atomic groups, possessive quantifiers, recursion, conditionals,
 * `(?x)`, option settings in the middle of a pattern, `\G \K \R \X \C`, repeat counts over 1000.
 */
import { RE2JS } from 're2js'
import { MAX_REGEX_LENGTH } from '../limits.js'
import { fail } from './values.js'

/** PCRE's `$` outside multiline mode: at the end, or before a final newline (taken by the hidden group). */
const DOLLAR = '(?:\\z|(\\n)\\z)'
/** PCRE's `\s` (since 8.34, which Erlang's `re` is): RE2's lacks the vertical tab. */
const SPACE_CHARS = '\\t\\n\\v\\f\\r '
const H_SPACE_CHARS = '\\t \\x{a0}'
const POSIX_NAMES: ReadonlySet<string> = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit'])

/** A literal character in RE2 syntax: ASCII punctuation escaped (RE2 accepts `\` before any). */
function literal(ch: string): string {
  if (/^[!-/:-@[-`{-~]$/.test(ch)) return `\\${ch}`
  if (ch === '\n') return '\\n'
  return ch
}

const hexCode = (code: number): string => `\\x{${code.toString(16)}}`

class Translator {
  private i = 0
  private out = ''
  /** RE2 capture groups emitted so far (the user's and the hidden ones). */
  private re2Groups = 0
  /** RE2 group number of each of the user's groups, in order (index 0 is unused). */
  readonly groupMap: number[] = [0]
  /** RE2 group numbers of the hidden newline groups of `$`. */
  readonly hidden: number[] = []
  lookbehind = false

  constructor(
    private readonly name: string,
    private readonly p: string,
    private readonly multiline: boolean,
    start: number,
  ) {
    this.i = start
  }

  private bad(why: string): never {
    return fail(this.name, `unsupported regular expression ${JSON.stringify(this.p)}: ${why}`)
  }

  private dollar(): void {
    this.re2Groups++
    this.hidden.push(this.re2Groups)
    this.out += DOLLAR
  }

  run(): string {
    const p = this.p
    while (this.i < p.length) {
      const c = p[this.i]!
      if (c === '\\') this.escape(false)
      else if (c === '[') this.charClass()
      else if (c === '$') {
        if (this.multiline) this.out += '$'
        else this.dollar()
        this.i++
      } else if (c === '{') {
        const q = /^\{\d+(?:,\d*)?\}/.exec(p.slice(this.i))
        this.out += q ? q[0] : '\\{'
        this.i += q ? q[0].length : 1
        if (q && p[this.i] === '+') this.bad('possessive quantifiers are not supported')
      } else if (c === '}' || c === ']') {
        this.out += `\\${c}`
        this.i++
      } else if (c === '(') this.group()
      else if ((c === '+' || c === '*' || c === '?') && p[this.i + 1] === '+' && this.i > 0) {
        this.bad('possessive quantifiers are not supported')
      } else {
        const cp = String.fromCodePoint(p.codePointAt(this.i)!)
        this.out += cp === '\n' ? '\\n' : cp
        this.i += cp.length
      }
    }
    return this.out
  }

  private capture(): void {
    this.re2Groups++
    this.groupMap.push(this.re2Groups)
  }

  private group(): void {
    const rest = this.p.slice(this.i, this.i + 40)
    let m: RegExpExecArray | null
    if ((m = /^\(\?(?:P<|<|')([A-Za-z_]\w*)[>']/.exec(rest))) {
      this.capture()
      this.out += `(?P<${m[1]}>`
      this.i += m[0].length
    } else if (rest.startsWith('(?#')) {
      const end = this.p.indexOf(')', this.i)
      if (end < 0) this.bad('unterminated comment')
      this.i = end + 1
    } else if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
      this.lookbehind = true
      this.out += rest.slice(0, 4)
      this.i += 4
    } else if (rest.startsWith('(?:')) {
      this.out += '(?:'
      this.i += 3
    } else if (/^\(\?P=|^\(\?P>|^\(\?&/.test(rest)) {
      this.bad(rest.startsWith('(?P=') ? 'backreferences are not supported (the linear-time engine has none)' : 'recursion is not supported')
    } else if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
      this.bad('lookahead is not supported (the linear-time engine has none)')
    } else if (rest.startsWith('(?>')) {
      this.bad('atomic groups are not supported')
    } else if (rest.startsWith('(?|')) {
      this.bad('branch reset groups are not supported')
    } else if (rest.startsWith('(?(')) {
      this.bad('conditional groups are not supported')
    } else if (/^\(\?[+-]?\d|^\(\?R/.test(rest)) {
      this.bad('recursion is not supported')
    } else if (/^\(\?[imsxXJU-]+[):]/.test(rest)) {
      this.bad('option settings are only supported at the start of the pattern')
    } else if (rest.startsWith('(?') || rest.startsWith('(*')) {
      this.bad(`unknown group syntax ${JSON.stringify(rest.slice(0, 3))}`)
    } else {
      this.capture()
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
      case 'z':
        if (inClass) this.bad(`\\${d} in a character class`)
        this.out += `\\${d}`
        return
      case 'Z':
        if (inClass) this.bad('\\Z in a character class')
        this.dollar()
        return
      case 'Q': {
        const end = p.indexOf('\\E', this.i)
        const text = end < 0 ? p.slice(this.i) : p.slice(this.i, end)
        this.i = end < 0 ? p.length : end + 2
        for (const ch of text) this.out += literal(ch)
        return
      }
      case 'E':
        return
      case 's':
        this.out += inClass ? SPACE_CHARS : `[${SPACE_CHARS}]`
        return
      case 'S':
        this.out += inClass ? '\\S' : `[^${SPACE_CHARS}]`
        return
      case 'h':
        this.out += inClass ? H_SPACE_CHARS : `[${H_SPACE_CHARS}]`
        return
      case 'H':
        if (inClass) this.bad('\\H in a character class')
        this.out += `[^${H_SPACE_CHARS}]`
        return
      case 'e':
        this.out += '\\x{1b}'
        return
      case 'a':
        this.out += '\\x{7}'
        return
      case 'c': {
        const x = p[this.i]
        if (x === undefined || x.charCodeAt(0) > 0x7f) this.bad('\\c must be followed by an ASCII character')
        this.out += hexCode(x.toUpperCase().charCodeAt(0) ^ 0x40)
        this.i++
        return
      }
      case 'x': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(p.slice(this.i, this.i + 9))
        if (braced) {
          this.out += `\\x{${braced[1]}}`
          this.i += braced[0].length
        } else {
          const hex = /^[0-9a-fA-F]{0,2}/.exec(p.slice(this.i, this.i + 2))![0]
          this.out += hexCode(hex === '' ? 0 : parseInt(hex, 16))
          this.i += hex.length
        }
        return
      }
      case 'o': {
        const braced = /^\{([0-7]{1,8})\}/.exec(p.slice(this.i, this.i + 10))
        if (!braced) this.bad('\\o must be followed by {octal digits}')
        this.out += hexCode(parseInt(braced[1]!, 8))
        this.i += braced[0].length
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
      case 'g':
      case 'k':
        this.bad('backreferences are not supported (the linear-time engine has none)')
        return
      case 'G':
      case 'K':
      case 'R':
      case 'X':
      case 'C':
        this.bad(`\\${d} is not supported`)
    }
    if (d >= '0' && d <= '9') {
      // \0 and, in a class, any digits are octal; elsewhere \1..\9 are backreferences.
      if (d !== '0' && !inClass) this.bad('backreferences are not supported (the linear-time engine has none)')
      const oct = /^[0-7]{0,2}/.exec(p.slice(this.i, this.i + 2))![0]
      if (d > '7') this.bad(`\\${d} is not an octal escape`)
      this.out += hexCode(parseInt(d + oct, 8))
      this.i += oct.length
      return
    }
    if (/[A-Za-z]/.test(d)) {
      // \d \D \w \W \b \B \n \r \t \f \v: the same in RE2; anything else RE2 reports.
      this.out += `\\${d}`
      return
    }
    const cp = String.fromCodePoint(p.codePointAt(this.i - 1)!)
    this.i += cp.length - 1
    this.out += literal(cp)
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
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(this.i, this.i + 12))
      if (posix) {
        if (!POSIX_NAMES.has(posix[2]!)) this.bad(`POSIX class [:${posix[1]}${posix[2]}:] is not supported`)
        this.out += posix[0]
        this.i += posix[0].length
      } else if (c === '\\') {
        this.escape(true)
      } else if (c === '[') {
        this.out += '\\['
        this.i++
      } else {
        const cp = String.fromCodePoint(p.codePointAt(this.i)!)
        this.out += cp === '\n' ? '\\n' : cp
        this.i += cp.length
      }
    }
    this.out += ']'
    this.i++
  }
}

/** One match: where it is in the subject and the user's groups (`groups[0]` is the whole match). */
export interface PcreMatch {
  readonly index: number
  readonly end: number
  /** Group texts, undefined for a group that did not take part. */
  readonly groups: readonly (string | undefined)[]
}

/** A compiled pattern: PCRE's meaning, RE2's linear time. */
export class PcreRegex {
  constructor(
    readonly pattern: string,
    private readonly re2: RE2JS,
    /** RE2 group number of each user group (index 0 unused). */
    private readonly groupMap: readonly number[],
    private readonly hidden: readonly number[],
  ) {}

  /** Number of the user's capture groups. */
  get groupCount(): number {
    return this.groupMap.length - 1
  }

  /** Whether the pattern matches somewhere in `subject`. */
  test(subject: string): boolean {
    return this.re2.test(subject)
  }

  /** The first match. */
  exec(subject: string): PcreMatch | undefined {
    for (const m of this.matchAll(subject)) return m
    return undefined
  }

  /**
   * Every match, left to right, as a global replace walks them: after an empty match the search
   * goes on one character later, after a non-empty one where it ended.
   */
  *matchAll(subject: string): Generator<PcreMatch> {
    const matcher = this.re2.matcher(subject)
    let from = 0
    while (from <= subject.length && matcher.find(from)) {
      const index = matcher.start(0)
      let end = matcher.end(0)
      for (const h of this.hidden) {
        const s = matcher.start(h)
        if (s >= 0) end = s
      }
      const groups: (string | undefined)[] = [subject.slice(index, end)]
      for (let g = 1; g < this.groupMap.length; g++) {
        const re2Group = this.groupMap[g]!
        const s = matcher.start(re2Group)
        groups.push(s < 0 ? undefined : subject.slice(Math.min(s, end), Math.min(matcher.end(re2Group), end)))
      }
      yield { index, end, groups }
      if (end > index) from = end
      else from = end + ((subject.codePointAt(end) ?? 0) > 0xffff ? 2 : 1)
    }
  }
}

const cache = new Map<string, PcreRegex>()
const CACHE_LIMIT = 500

/**
 * The compiled form of a PCRE pattern (see the module comment), cached by pattern text so a
 * pattern written in a rule is compiled once, not per message. Throws RuleFunctionError (named
 * after the function `name`) for a pattern that is invalid or needs what RE2 lacks.
 */
export function compilePcre(name: string, pattern: string): PcreRegex {
  const hit = cache.get(pattern)
  if (hit) return hit
  if (pattern.length > MAX_REGEX_LENGTH) fail(name, `the regular expression is too long (${pattern.length} characters, at most ${MAX_REGEX_LENGTH})`)
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern)
  const opts = lead ? lead[1]! : ''
  for (const o of opts) if (!'ims'.includes(o)) fail(name, `unsupported regular expression option (?${o})`)
  const t = new Translator(name, pattern, opts.includes('m'), lead ? lead[0].length : 0)
  const source = t.run()
  let flags = 0
  if (opts.includes('i')) flags |= RE2JS.CASE_INSENSITIVE
  if (opts.includes('m')) flags |= RE2JS.MULTILINE
  if (opts.includes('s')) flags |= RE2JS.DOTALL
  if (t.lookbehind) flags |= RE2JS.LOOKBEHINDS
  let re2: RE2JS
  try {
    re2 = RE2JS.compile(source, flags)
  } catch (e) {
    const why = (e as Error).message.replace(/^error parsing regexp: /, '')
    return fail(name, `invalid regular expression ${JSON.stringify(pattern)}: ${why}`)
  }
  const compiled = new PcreRegex(pattern, re2, t.groupMap, t.hidden)
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(pattern, compiled)
  return compiled
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
