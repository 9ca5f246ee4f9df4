/**
 * The subset of Erlang's io_lib:format that rule SQL's sprintf uses. Control sequences have the
 * form `~F.P.PadModC` (field width, precision, pad character, modifier `t`/`l`, control):
 *
 * `~~` tilde, `~n` newline, `~c` character, `~s` string, `~w`/`~p` (and `~W`/`~P`) an Erlang term,
 * `~f`/`~e`/`~g` floats, `~b`/`~B`/`~x`/`~X`/`~#`/`~+` integers in a base, `~i` skip an argument.
 *
 * Terms print as Erlang would print the EMQX value: a string is a binary (`<<"abc">>`), an object
 * a map (`#{<<"a">> => 1}`), undefined/null/true/false atoms.
 */
import { Bitstring, describe, fail, formatDecimals, formatInteger, isMap, MAX_VALUE_SIZE, tooLarge, valueSize } from './values.js'

interface Spec {
  width: number | undefined
  left: boolean
  precision: number | undefined
  pad: string
  unicode: boolean
  control: string
}

function isPrintableAscii(code: number): boolean {
  return (code >= 0x20 && code <= 0x7e) || (code >= 8 && code <= 13) || code === 27
}

function escapeChar(code: number): string {
  switch (code) {
    case 0x22:
      return '\\"'
    case 0x5c:
      return '\\\\'
    case 10:
      return '\\n'
    case 13:
      return '\\r'
    case 9:
      return '\\t'
    case 11:
      return '\\v'
    case 8:
      return '\\b'
    case 12:
      return '\\f'
    case 27:
      return '\\e'
    default:
      return String.fromCodePoint(code)
  }
}

function writeFloat(x: number): string {
  const s = String(x)
  const m = /^(-?\d+)(?:\.(\d+))?e([+-])(\d+)$/.exec(s)
  if (!m) return s.includes('.') ? s : `${s}.0`
  return `${m[1]}.${m[2] ?? '0'}e${m[3] === '-' ? '-' : ''}${m[4]}`
}

function writeBinary(bytes: Buffer, text: string | undefined, unicode: boolean): string {
  if (bytes.every(isPrintableAscii)) return `<<"${Array.from(bytes, escapeChar).join('')}">>`
  if (unicode && text !== undefined) {
    return `<<"${Array.from(text, (ch) => escapeChar(ch.codePointAt(0)!)).join('')}"/utf8>>`
  }
  return `<<${Array.from(bytes).join(',')}>>`
}

/** An Erlang term as ~w (pretty = false) or ~p (pretty = true) prints it. */
export function writeTerm(v: unknown, pretty: boolean, unicode: boolean): string {
  if (v === undefined || v === null || typeof v === 'boolean') return String(v)
  if (typeof v === 'number') return Number.isInteger(v) ? formatInteger(v) : writeFloat(v)
  if (typeof v === 'string') return writeBinary(Buffer.from(v, 'utf8'), v, unicode)
  if (v instanceof Bitstring) {
    const whole = Math.floor(v.bitLength / 8)
    const rest = v.bitLength % 8
    const parts = Array.from(v.bytes.subarray(0, whole), String)
    parts.push(`${(v.bytes[whole] ?? 0) >> (8 - rest)}:${rest}`)
    return `<<${parts.join(',')}>>`
  }
  if (v instanceof Uint8Array) return writeBinary(Buffer.from(v), undefined, unicode)
  if (Array.isArray(v)) {
    if (pretty && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && isPrintableAscii(x))) {
      return `"${(v as number[]).map(escapeChar).join('')}"`
    }
    return `[${v.map((x) => writeTerm(x, pretty, unicode)).join(',')}]`
  }
  if (isMap(v)) {
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    return `#{${keys.map((k) => `${writeTerm(k, pretty, unicode)} => ${writeTerm(v[k], pretty, unicode)}`).join(',')}}`
  }
  return String(v)
}

/** The characters of an iolist-like ~s argument. */
function chars(name: string, v: unknown): string {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
  if (typeof v === 'boolean' || v === null || v === undefined) return String(v)
  if (Array.isArray(v)) {
    return v
      .map((x) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0x10ffff ? String.fromCodePoint(x) : chars(name, x)))
      .join('')
  }
  return fail(name, `~s expects a string, got ${describe(v)}`)
}

function fill(text: string, s: Spec, truncate: boolean): string {
  if (s.width === undefined) return text
  const len = Array.from(text).length
  if (len > s.width) return truncate ? Array.from(text).slice(0, s.width).join('') : '*'.repeat(s.width)
  const padding = s.pad.repeat(s.width - len)
  return s.left ? text + padding : padding + text
}

function numberOf(name: string, v: unknown, control: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return fail(name, `~${control} expects a number, got ${describe(v)}`)
}

function integerOf(name: string, v: unknown, control: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  return fail(name, `~${control} expects an integer, got ${describe(v)}`)
}

function inBase(n: number, base: number, upper: boolean): string {
  const digits = (n < 0 ? -BigInt(n) : BigInt(n)).toString(base)
  return (n < 0 ? '-' : '') + (upper ? digits.toUpperCase() : digits)
}

function formatG(x: number, precision: number): string {
  const a = Math.abs(x)
  if (a >= 0.1 && a < 10000) {
    const intDigits = a < 1 ? 0 : Math.floor(Math.log10(a)) + 1
    const decimals = precision - intDigits
    if (decimals >= 0) return formatDecimals(x, decimals, false)
  }
  return x.toExponential(precision - 1)
}

/** io_lib:format(Format, Args) as a string. */
export function erlFormat(name: string, format: string, args: readonly unknown[]): string {
  // Widths and precisions come from the rule (or its input): the output may not grow past the value limit.
  const limit = Math.max(MAX_VALUE_SIZE, format.length, ...args.map(valueSize))
  const bounded = (n: number | undefined): number | undefined => {
    if (n !== undefined && Math.abs(n) > limit) tooLarge(name, Math.abs(n))
    return n
  }
  let out = ''
  let next = 0
  const take = (what: string): unknown => {
    if (next >= args.length) fail(name, `too few arguments for the format (missing ${what})`)
    return args[next++]
  }
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!
    if (ch !== '~') {
      out += ch
      continue
    }
    const s: Spec = { width: undefined, left: false, precision: undefined, pad: ' ', unicode: false, control: '' }
    let j = i + 1
    const number = (): number | undefined => {
      if (format[j] === '*') {
        j++
        return integerOf(name, take('a field width'), '*')
      }
      const m = /^-?\d+/.exec(format.slice(j))
      if (!m) return undefined
      j += m[0].length
      return Number(m[0])
    }
    const width = bounded(number())
    if (width !== undefined) {
      s.width = Math.abs(width)
      s.left = width < 0
    }
    if (format[j] === '.') {
      j++
      s.precision = bounded(number())
      if (format[j] === '.') {
        j++
        if (format[j] === '*') {
          j++
          s.pad = String.fromCodePoint(integerOf(name, take('a pad character'), '*'))
        } else {
          const cp = format.codePointAt(j)
          if (cp === undefined) fail(name, 'format ends inside a control sequence')
          s.pad = String.fromCodePoint(cp)
          j += s.pad.length
        }
      }
    }
    while (format[j] === 't' || format[j] === 'l') {
      if (format[j] === 't') s.unicode = true
      j++
    }
    const control = format[j]
    if (control === undefined) fail(name, 'format ends inside a control sequence')
    s.control = control
    i = j
    out += control === 'n' ? '\n' : control === '~' ? fill('~', s, false) : render(name, s, take)
    if (out.length > limit) tooLarge(name, out.length)
  }
  if (next < args.length) fail(name, `too many arguments for the format (${args.length - next} left over)`)
  return out
}

function render(name: string, s: Spec, take: (what: string) => unknown): string {
  const c = s.control
  switch (c) {
    case 'c': {
      const code = integerOf(name, take('a character'), 'c')
      if (code < 0 || code > 0x10ffff) fail(name, `~c expects a character code, got ${code}`)
      return fill(String.fromCodePoint(code).repeat(s.precision ?? s.width ?? 1), s, true)
    }
    case 's': {
      let text = chars(name, take('a string'))
      if (s.precision !== undefined) text = Array.from(text).slice(0, s.precision).join('')
      return fill(text, s, true)
    }
    case 'w':
    case 'p':
    case 'W':
    case 'P': {
      const term = take('a term')
      if (c === 'W' || c === 'P') integerOf(name, take('a depth'), c)
      const text = writeTerm(term, c === 'p' || c === 'P', s.unicode)
      return c === 'p' || c === 'P' ? text : fill(text, s, false)
    }
    case 'f': {
      const x = numberOf(name, take('a float'), c)
      return fill(formatDecimals(x, s.precision ?? 6, false), s, false)
    }
    case 'e': {
      const x = numberOf(name, take('a float'), c)
      const p = s.precision ?? 6
      if (p < 2) fail(name, '~e precision must be at least 2')
      return fill(x.toExponential(Math.min(p - 1, 100)), s, false)
    }
    case 'g': {
      const x = numberOf(name, take('a float'), c)
      const p = s.precision ?? 6
      if (p < 2) fail(name, '~g precision must be at least 2')
      return fill(formatG(x, Math.min(p, 100)), s, false)
    }
    case 'b':
    case 'B':
    case 'x':
    case 'X':
    case '#':
    case '+': {
      const n = integerOf(name, take('an integer'), c)
      const base = s.precision ?? 10
      if (base < 2 || base > 36) fail(name, `base must be between 2 and 36, got ${base}`)
      const upper = c === 'B' || c === 'X' || c === '#'
      let text = inBase(n, base, upper)
      if (c === 'x' || c === 'X') {
        const prefix = chars(name, take('a prefix'))
        text = n < 0 ? `-${prefix}${text.slice(1)}` : prefix + text
      } else if (c === '#' || c === '+') {
        text = n < 0 ? `-${base}#${text.slice(1)}` : `${base}#${text}`
      }
      return fill(text, s, false)
    }
    case 'i':
      take('an ignored argument')
      return ''
    default:
      return fail(name, `unsupported control sequence ~${c}`)
  }
}
