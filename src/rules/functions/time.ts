/**
 * Date and time functions (EMQX: "Date and Time Conversion Functions").
 *
 * Units are 'second', 'millisecond', 'microsecond' and 'nanosecond'. Timestamps are integers in
 * that unit; nanosecond timestamps of today exceed 2^53, so as JavaScript numbers they are exact
 * only to about 256 ns. now_* read the clock given to {@link createTimeFunctions} (Date.now by
 * default, so microseconds and nanoseconds end in zeros). RFC 3339 output uses the server's local
 * time zone, as EMQX does; format_date and date_to_unix_ts take an explicit offset.
 */
import {
  type FunctionFamily,
  type TimeUnit,
  UNIT_FACTOR,
  binaryText,
  describe,
  fail,
  isBinary,
  spec,
  timeUnitArg,
} from './values.js'

export type Clock = () => number

/** Seconds from year 0 to 1970 and the upper bound Erlang's calendar checks against. */
const MIN_SECONDS = -62167219200
const MAX_SECONDS = 253402300800

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q
}

function mod(a: bigint, b: bigint): bigint {
  const r = a % b
  return r < 0n ? r + b : r
}

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp + (mp < 10 ? 3 : -9)
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d }
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false
  const last = [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!
  return d <= last
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0')

interface DateTime {
  y: number
  m: number
  d: number
  hh: number
  mm: number
  ss: number
}

function dateTimeOf(seconds: number): DateTime {
  const days = Math.floor(seconds / 86400)
  const rest = seconds - days * 86400
  return { ...civilFromDays(days), hh: Math.floor(rest / 3600), mm: Math.floor((rest % 3600) / 60), ss: rest % 60 }
}

function checkRange(name: string, seconds: number): void {
  if (!(seconds >= MIN_SECONDS && seconds < MAX_SECONDS)) fail(name, 'the time is outside the years 0000..9999')
}

/** The server's UTC offset in seconds at a moment (seconds since the epoch). */
export function localOffsetSeconds(epochSeconds: number): number {
  const offset = -new Date(epochSeconds * 1000).getTimezoneOffset() * 60
  return offset === 0 ? 0 : offset
}

function timeArg(name: string, v: unknown): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  return fail(name, `expected an integer timestamp, got ${describe(v)}`)
}

function toNumber(v: bigint): number {
  return Number(v)
}

/** RFC 3339 text of a timestamp in the server's local time zone (Erlang's calendar:system_time_to_rfc3339). */
export function formatRfc3339(name: string, time: bigint, unit: TimeUnit): string {
  const factor = UNIT_FACTOR[unit]
  const utcSeconds = Number(floorDiv(time, factor))
  checkRange(name, utcSeconds)
  const offset = localOffsetSeconds(utcSeconds)
  const adjusted = time + BigInt(offset) * factor
  const seconds = Number(floorDiv(adjusted, factor))
  checkRange(name, seconds)
  const t = dateTimeOf(seconds)
  const digits = unit === 'second' ? 0 : String(factor).length - 1
  const fraction = digits ? `.${pad(mod(adjusted, factor), digits)}` : ''
  const abs = Math.abs(offset)
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor((abs % 3600) / 60), 2)}`
  return `${pad(t.y, 4)}-${pad(t.m, 2)}-${pad(t.d, 2)}T${pad(t.hh, 2)}:${pad(t.mm, 2)}:${pad(t.ss, 2)}${fraction}${zone}`
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2}).(\d{2}):(\d{2}):(\d{2})([0-9.]*)(.*)$/s

/** Erlang's calendar:rfc3339_to_system_time: "YYYY-MM-DD?HH:MM:SS[.frac](Z|±HH[:MM])". */
export function parseRfc3339(name: string, text: string, unit: TimeUnit): bigint {
  const m = RFC3339.exec(text)
  if (!m) return fail(name, `${describe(text)} is not an RFC 3339 date-time`)
  const [y, mo, d, hh, mi, ss] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const fractionText = m[7]!
  const zone = m[8]!
  if (!validDate(y, mo, d)) fail(name, `${describe(text)} has an invalid date`)
  let offset: number
  if (zone === 'Z' || zone === 'z') offset = 0
  else {
    const z = /^([+-])(\d{2})(?::(\d{2}))?$/.exec(zone)
    if (!z) return fail(name, `${describe(text)} has an invalid time zone offset`)
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60)
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset
  checkRange(name, seconds)
  const factor = UNIT_FACTOR[unit]
  let fraction = 0n
  if (unit !== 'second' && fractionText !== '') {
    if (!/^\.\d+$/.test(fractionText)) fail(name, `${describe(text)} has an invalid fraction of a second`)
    fraction = BigInt(Math.round(Number(factor) * Number(`0${fractionText}`)))
  }
  return BigInt(seconds) * factor + fraction
}

/** Erlang-style offset: an integer of seconds, undefined (0), 'Z'/'z', 'local', or "±hh:mm[:ss]" / "±hhmm". */
export function offsetSeconds(name: string, v: unknown, now: Clock): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (v === undefined) return 0
  if (!isBinary(v)) return fail(name, `expected a time zone offset, got ${describe(v)}`)
  const text = binaryText(name, v, 'a time zone offset')
  if (text === 'local') return localOffsetSeconds(Math.floor(now() / 1000))
  if (text === 'Z' || text === 'z') return 0
  const sign = text[0]
  if (sign !== '+' && sign !== '-') return fail(name, `invalid time zone offset ${describe(text)}`)
  const parts = text.slice(1).split(':').filter((p) => p !== '')
  let hms: string[]
  if (parts.length === 2 || parts.length === 3) hms = parts
  else if (parts.length === 1 && parts[0]!.length === 4) hms = [parts[0]!.slice(0, 2), parts[0]!.slice(2)]
  else return fail(name, `invalid time zone offset ${describe(text)}`)
  if (!hms.every((p) => /^\d+$/.test(p))) fail(name, `invalid time zone offset ${describe(text)}`)
  const [h, m, s = 0] = hms.map(Number) as [number, number, number?]
  if (h > 23 || m > 59 || s > 59) fail(name, `invalid time zone offset ${describe(text)}`)
  return (sign === '-' ? -1 : 1) * (h * 3600 + m * 60 + s)
}

type Part = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'nanosecond' | 'millisecond' | 'microsecond'
type Zone = 'timezone' | 'timezone1' | 'timezone2'
type Token = { part: Part } | { zone: Zone } | { literal: string }

const DIRECTIVES: readonly [string, Token][] = [
  ['%Y', { part: 'year' }],
  ['%m', { part: 'month' }],
  ['%d', { part: 'day' }],
  ['%H', { part: 'hour' }],
  ['%M', { part: 'minute' }],
  ['%S', { part: 'second' }],
  ['%N', { part: 'nanosecond' }],
  ['%3N', { part: 'millisecond' }],
  ['%6N', { part: 'microsecond' }],
  ['%z', { zone: 'timezone' }],
  ['%:z', { zone: 'timezone1' }],
  ['%::z', { zone: 'timezone2' }],
]

const PART_SIZE: Readonly<Record<Part | Zone, number>> = {
  year: 4, month: 2, day: 2, hour: 2, minute: 2, second: 2,
  millisecond: 3, microsecond: 6, nanosecond: 9,
  timezone: 5, timezone1: 6, timezone2: 9,
}

/** Splits a format string into directives and runs of literal characters. */
export function parseFormat(format: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < format.length) {
    const hit = DIRECTIVES.find(([d]) => format.startsWith(d, i))
    if (hit) {
      tokens.push(hit[1])
      i += hit[0].length
      continue
    }
    const ch = String.fromCodePoint(format.codePointAt(i)!)
    const last = tokens[tokens.length - 1]
    if (last && 'literal' in last) last.literal += ch
    else tokens.push({ literal: ch })
    i += ch.length
  }
  return tokens
}

function zoneText(name: string, offset: number, zone: Zone): string {
  const abs = Math.abs(offset)
  if (abs >= 86400) fail(name, `time zone offset ${offset} is a day or more`)
  const sign = offset >= 0 ? '+' : '-'
  const h = pad(Math.floor(abs / 3600), 2)
  const m = pad(Math.floor((abs % 3600) / 60), 2)
  if (zone === 'timezone') return `${sign}${h}${m}`
  if (zone === 'timezone1') return `${sign}${h}:${m}`
  return `${sign}${h}:${m}:${pad(abs % 60, 2)}`
}

/** format_date: a timestamp in `unit`, shown at `offset` seconds from UTC, in the given format. */
export function formatDate(name: string, unit: TimeUnit, offset: number, format: string, time: bigint): string {
  const factor = UNIT_FACTOR[unit]
  const adjusted = time + BigInt(offset) * factor
  const seconds = Number(floorDiv(adjusted, factor))
  checkRange(name, seconds)
  const t = dateTimeOf(seconds)
  const nanos = mod(time, factor) * (1000000000n / factor)
  const values: Readonly<Record<Part, string>> = {
    year: pad(t.y, 4),
    month: pad(t.m, 2),
    day: pad(t.d, 2),
    hour: pad(t.hh, 2),
    minute: pad(t.mm, 2),
    second: pad(t.ss, 2),
    millisecond: pad(nanos / 1000000n, 3),
    microsecond: pad(nanos / 1000n, 6),
    nanosecond: pad(nanos, 9),
  }
  return parseFormat(format)
    .map((tok) => ('part' in tok ? values[tok.part] : 'zone' in tok ? zoneText(name, offset, tok.zone) : tok.literal))
    .join('')
}

/**
 * date_to_unix_ts: reads `input` by the fixed widths of the format's directives (literal text is
 * skipped by length without being compared, as EMQX does for compatibility) and returns the time
 * in `unit`, rounded down. Year, month, day, hour, minute and second must be present. The time
 * zone is the one read from the input, else `defaultOffset` seconds.
 */
export function dateToUnixTs(name: string, unit: TimeUnit, format: string, input: string, defaultOffset: number, now: Clock): bigint {
  const parsed: Partial<Record<Part, number>> = {}
  let zoneOffset = defaultOffset
  let rest = Array.from(input)
  for (const tok of parseFormat(format)) {
    if (rest.length === 0) break
    const size = 'part' in tok ? PART_SIZE[tok.part] : 'zone' in tok ? PART_SIZE[tok.zone] : Array.from(tok.literal).length
    if (rest.length < size) fail(name, `${describe(input)} is shorter than the format ${describe(format)}`)
    const piece = rest.slice(0, size).join('')
    rest = rest.slice(size)
    if ('part' in tok) {
      if (!/^[+-]?\d+$/.test(piece)) fail(name, `${describe(input)} does not match the format ${describe(format)}`)
      parsed[tok.part] = Number(piece)
    } else if ('zone' in tok) {
      zoneOffset = offsetSeconds(name, piece, now)
    }
  }
  const need = (p: Part): number => {
    const v = parsed[p]
    if (v === undefined) return fail(name, `the format ${describe(format)} has no ${p} (needs %Y, %m, %d, %H, %M and %S)`)
    return v
  }
  const [y, mo, d, hh, mi, ss] = (['year', 'month', 'day', 'hour', 'minute', 'second'] as const).map(need) as [number, number, number, number, number, number]
  if (!validDate(y, mo, d)) fail(name, `${describe(input)} has an invalid date`)
  const seconds = daysFromCivil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - zoneOffset
  checkRange(name, seconds)
  const precision: TimeUnit =
    parsed.nanosecond !== undefined ? 'nanosecond'
      : parsed.microsecond !== undefined ? 'microsecond'
        : parsed.millisecond !== undefined ? 'millisecond'
          : 'second'
  const pf = UNIT_FACTOR[precision]
  const total =
    BigInt(seconds) * pf +
    (BigInt(parsed.millisecond ?? 0) * pf) / 1000n +
    (BigInt(parsed.microsecond ?? 0) * pf) / 1000000n +
    (BigInt(parsed.nanosecond ?? 0) * pf) / 1000000000n
  return floorDiv(total * UNIT_FACTOR[unit], pf)
}

function stringArgOf(name: string, v: unknown, what: string): string {
  if (!isBinary(v)) return fail(name, `expected ${what}, got ${describe(v)}`)
  return binaryText(name, v, what)
}

function nowIn(now: Clock, unit: TimeUnit): bigint {
  return (BigInt(Math.floor(now())) * UNIT_FACTOR[unit]) / 1000n
}

/** The time family, reading the current time from `now` (milliseconds since the epoch). */
export function createTimeFunctions(now: Clock = () => Date.now()): FunctionFamily {
  const offsetOf = (name: string, v: unknown): number => offsetSeconds(name, v, now)
  return {
    date_to_unix_ts: spec(3, 4, (...args) => {
      const name = 'date_to_unix_ts'
      const unit = timeUnitArg(name, args[0])
      const [offset, format, input] = args.length === 4 ? [offsetOf(name, args[1]), args[2], args[3]] : [0, args[1], args[2]]
      return toNumber(dateToUnixTs(name, unit, stringArgOf(name, format, 'a format string'), stringArgOf(name, input, 'a date string'), offset, now))
    }),
    format_date: spec(3, 4, (...args) => {
      const name = 'format_date'
      const unit = timeUnitArg(name, args[0])
      const offset = offsetOf(name, args[1])
      const format = stringArgOf(name, args[2], 'a format string')
      const time = args.length === 4 ? timeArg(name, args[3]) : nowIn(now, unit)
      return formatDate(name, unit, offset, format, time)
    }),
    now_rfc3339: spec(0, 1, (...args) => {
      const unit = args.length ? timeUnitArg('now_rfc3339', args[0]) : 'second'
      return formatRfc3339('now_rfc3339', nowIn(now, unit), unit)
    }),
    now_timestamp: spec(0, 1, (...args) => toNumber(nowIn(now, args.length ? timeUnitArg('now_timestamp', args[0]) : 'second'))),
    rfc3339_to_unix_ts: spec(1, 2, (...args) => {
      const name = 'rfc3339_to_unix_ts'
      const unit = args.length > 1 ? timeUnitArg(name, args[1]) : 'second'
      return toNumber(parseRfc3339(name, stringArgOf(name, args[0], 'an RFC 3339 date-time string'), unit))
    }),
    timezone_to_offset_seconds: spec(1, 1, (tz) => offsetOf('timezone_to_offset_seconds', tz)),
    timezone_to_second: spec(1, 1, (tz) => offsetOf('timezone_to_second', tz)),
    unix_ts_to_rfc3339: spec(1, 2, (...args) => {
      const name = 'unix_ts_to_rfc3339'
      const unit = args.length > 1 ? timeUnitArg(name, args[1]) : 'second'
      return formatRfc3339(name, timeArg(name, args[0]), unit)
    }),
  }
}

export const timeFunctions: FunctionFamily = createTimeFunctions()
