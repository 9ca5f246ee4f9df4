// Date and time functions: EMQX docs examples (in UTC+8, as the docs are), emqx_rule_funcs_SUITE
// cases, a fixed clock for now_*, and the suite's format_date/date_to_unix_ts round trips.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTimeFunctions } from '../../src/rules/functions/index.js'
import { type Case, call, err, runCases } from './functions-cases.js'

// The server's local time zone, used by unix_ts_to_rfc3339/now_rfc3339 and 'local' (no daylight saving).
process.env.TZ = 'Asia/Shanghai'

/** Seconds since the epoch of a UTC date-time (month 1-12), computed independently of the code under test. */
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mo - 1, d, h, mi, s) / 1000
const T = utc(2024, 3, 1, 2, 30, 38) // 2024-03-01T10:30:38+08:00

const conversions: Case[] = [
  // EMQX docs
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S%:z', '2024-02-23 15:00:00+08:00'], 1708671600],
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H:%M:%S%:z', '2024-02-23 15:00:00'], 1708671600],
  ['date_to_unix_ts', ['second', 'Z', '%Y-%m-%d %H:%M:%S%:z', '2024-02-23 07:00:00'], 1708671600],
  ['date_to_unix_ts', ['second', 14400, '%Y-%m-%d %H:%M:%S%:z', '2024-02-23 15:00:00'], 1708686000],
  ['format_date', ['millisecond', '+08:00', '%Y-%m-%d %H:%M:%S.%6N%z', 1708933353472], '2024-02-26 15:42:33.472000+0800'],
  ['format_date', ['millisecond', '+08:00', '%Y-%m-%d %H:%M:%S.%6N%:z', 1708933353472], '2024-02-26 15:42:33.472000+08:00'],
  ['format_date', ['millisecond', '+08:20:30', '%Y-%m-%d %H:%M:%S.%3N%::z', 1708933353472], '2024-02-26 16:03:03.472+08:20:30'],
  // (the docs print +08:00 for offset 'Z': a typo; the offset shown is the one used)
  ['format_date', ['millisecond', 'Z', '%Y-%m-%d %H:%M:%S.%3N%:z', 1708933353472], '2024-02-26 07:42:33.472+00:00'],
  ['format_date', ['millisecond', 28800, '%Y-%m-%d %H:%M:%S.%3N%:z', 1708933353472], '2024-02-26 15:42:33.472+08:00'],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30Z'], 1708703790],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30+08:00'], 1708674990],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.87Z', 'second'], 1708703790],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.87Z', 'millisecond'], 1708703790870],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.87Z', 'microsecond'], 1708703790870000],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.535904509Z', 'nanosecond'], 1708703790535904509],
  ['timezone_to_offset_seconds', ['Z'], 0],
  ['timezone_to_offset_seconds', ['+08:00'], 28800],
  ['timezone_to_offset_seconds', ['local'], 28800],
  ['unix_ts_to_rfc3339', [1708671600], '2024-02-23T15:00:00+08:00'],
  ['unix_ts_to_rfc3339', [1708671600766, 'millisecond'], '2024-02-23T15:00:00.766+08:00'],
  // emqx_rule_funcs_SUITE: offsets
  ['timezone_to_offset_seconds', ['+02:00:00'], 7200],
  ['timezone_to_offset_seconds', ['-02:00:00'], -7200],
  ['timezone_to_offset_seconds', ['+00:01:42'], 102],
  ['timezone_to_offset_seconds', ['z'], 0],
  ['timezone_to_offset_seconds', [42], 42],
  ['timezone_to_offset_seconds', [undefined], 0],
  ['timezone_to_offset_seconds', ['+0800'], 28800],
  ['timezone_to_offset_seconds', ['-05:30'], -19800],
  ['timezone_to_second', ['+08:00'], 28800],
  ['timezone_to_second', ['local'], 28800],
  ['timezone_to_offset_seconds', ['+24:00'], err(/invalid time zone offset "\+24:00"/)],
  ['timezone_to_offset_seconds', ['08:00'], err(/invalid time zone offset/)],
  ['timezone_to_offset_seconds', ['+08'], err(/invalid time zone offset/)],
  ['timezone_to_offset_seconds', ['+08:60'], err(/invalid time zone offset/)],
  ['timezone_to_offset_seconds', [1.5], err(/expected a time zone offset, got 1.5/)],
  // emqx_rule_funcs_SUITE: date_to_unix_ts table
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H-%M-%S', '2024-03-01 10:30:38'], T],
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H-%M-%S.%3N', '2024-03-01 10:30:38.333'], T],
  ['date_to_unix_ts', ['millisecond', '+08:00', '%Y-%m-%d %H-%M-%S.%3N', '2024-03-01 10:30:38.333'], T * 1000 + 333],
  ['date_to_unix_ts', ['microsecond', '+08:00', '%Y-%m-%d %H-%M-%S.%3N', '2024-03-01 10:30:38.333'], T * 1e6 + 333000],
  ['date_to_unix_ts', ['nanosecond', '+08:00', '%Y-%m-%d %H-%M-%S.%3N', '2024-03-01 10:30:38.333'], Number(BigInt(T) * 1000000000n + 333000000n)],
  ['date_to_unix_ts', ['microsecond', '+08:00', '%Y-%m-%d %H-%M-%S.%6N', '2024-03-01 10:30:38.333444'], T * 1e6 + 333444],
  // emqx_rule_funcs_SUITE: parse errors and compatibility (literal text is skipped, not compared)
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2022-059999-26 10:40:12'], err(/does not match the format/)],
  ['date_to_unix_ts', ['second', '%y-%m-%d %H:%M:%S', '2022-05-26 10:40:12'], err(/does not match the format/)],
  ['date_to_unix_ts', ['second', '%Y-%d %H:%M:%S', '2022-32 10:40:12'], err(/has no month/)],
  ['date_to_unix_ts', ['second', '%H:%M:%S', '10:40:12'], err(/has no year/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2022-05-32 10:40:12'], err(/invalid date/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2023-02-29 10:40:12'], err(/invalid date/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2024-02-30 10:40:12'], err(/invalid date/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2022-05-26 10:40:12'], 1653561612],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H-%M-%S', '2022-05-26 10:40:12'], 1653561612],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2022-05-26 10-40-12'], 1653561612],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2024-02-29 14:31:40'], 1709217100],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2024-03-01 12:44:31'], 1709297071],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2100-03-01 12:44:31'], 4107588271],
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H:%M:%S', '2024-02-29 14:31:40'], 1709188300],
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H:%M:%S', '2024-03-01 12:44:31'], 1709268271],
  ['date_to_unix_ts', ['second', '+08:00', '%Y-%m-%d %H:%M:%S', '2100-03-01 12:44:31'], 4107559471],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S.%3N%:z', '2024-02-23 15:00:00.123+08:00'], 1708671600],
  ['date_to_unix_ts', ['millisecond', '%Y-%m-%d %H:%M:%S.%3N%z', '2024-02-23 15:00:00.123+0800'], 1708671600123],
  ['date_to_unix_ts', ['second', '%d/%m/%Y', '23/02/2024'], err(/has no hour/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2024-02-2'], err(/shorter than the format/)],
  ['date_to_unix_ts', ['second', '%Y-%m-%d %H:%M:%S', '2024-02'], err(/has no day/)],
  // an offset given as argument applies only when the input has none (EMQX would apply both)
  ['date_to_unix_ts', ['second', '+07:00', '%Y-%m-%d %H:%M:%S%:z', '2024-02-23 15:00:00+08:00'], 1708671600],
  ['date_to_unix_ts', ['hour', '%Y', '2024'], err(/invalid time unit "hour"/)],
  // format_date with other units, offsets and literal text
  ['format_date', ['second', '-05:30', '%d/%m/%Y %H:%M', 0], '31/12/1969 18:30'],
  ['format_date', ['microsecond', 'Z', '%S.%6N|%3N|%N', 1708933353472123], '33.472123|472|472123000'],
  ['format_date', ['second', '+0800', '%Y', 0], '1970'],
  ['format_date', ['second', 'Z', '%Y年%m月%d日', 0], '1970年01月01日'],
  ['format_date', ['second', 'Z', '%N %z', 0], '000000000 +0000'],
  ['format_date', ['second', '+08', '%Y', 0], err(/invalid time zone offset "\+08"/)],
  ['format_date', ['second', 'Z', '%Y', 1.5], err(/expected an integer timestamp, got 1.5/)],
  ['format_date', ['second', 'Z', '%Y', 1e13], err(/outside the years 0000..9999/)],
  // RFC 3339 in and out
  ['rfc3339_to_unix_ts', ['2024-02-23 15:56:30Z'], 1708703790],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30+08'], 1708674990],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.5-01:00', 'millisecond'], 1708707390500],
  ['rfc3339_to_unix_ts', ['1970-01-01T00:00:00Z'], 0],
  ['rfc3339_to_unix_ts', ['2024-02-30T00:00:00Z'], err(/invalid date/)],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30'], err(/invalid time zone offset/)],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30.x5Z', 'millisecond'], err(/not an RFC 3339|invalid/)],
  ['rfc3339_to_unix_ts', ['garbage'], err(/is not an RFC 3339 date-time/)],
  ['rfc3339_to_unix_ts', ['2024-02-23T15:56:30Z', 'hour'], err(/invalid time unit/)],
  ['rfc3339_to_unix_ts', [1708703790], err(/expected an RFC 3339 date-time string/)],
  ['unix_ts_to_rfc3339', [0], '1970-01-01T08:00:00+08:00'],
  ['unix_ts_to_rfc3339', [-1, 'second'], '1970-01-01T07:59:59+08:00'],
  ['unix_ts_to_rfc3339', [1708671600766123, 'microsecond'], '2024-02-23T15:00:00.766123+08:00'],
  ['unix_ts_to_rfc3339', [1708671600000000000, 'nanosecond'], '2024-02-23T15:00:00.000000000+08:00'],
  ['unix_ts_to_rfc3339', [1708671600.5], err(/expected an integer timestamp, got 1708671600.5/)],
  ['unix_ts_to_rfc3339', ['x'], err(/expected an integer timestamp/)],
  ['unix_ts_to_rfc3339', [1e16], err(/outside the years 0000..9999/)],
]

runCases('date and time functions', conversions)

// A fixed clock: 2024-02-23T15:00:00.766+08:00.
const fixed = createTimeFunctions(() => 1708671600766)
runCases('date and time functions reading a fixed clock', [
  ['now_rfc3339', [], '2024-02-23T15:00:00+08:00'],
  ['now_rfc3339', ['second'], '2024-02-23T15:00:00+08:00'],
  ['now_rfc3339', ['millisecond'], '2024-02-23T15:00:00.766+08:00'],
  ['now_rfc3339', ['microsecond'], '2024-02-23T15:00:00.766000+08:00'],
  ['now_rfc3339', ['nanosecond'], '2024-02-23T15:00:00.766000000+08:00'],
  ['now_timestamp', [], 1708671600],
  ['now_timestamp', ['second'], 1708671600],
  ['now_timestamp', ['millisecond'], 1708671600766],
  ['now_timestamp', ['microsecond'], 1708671600766000],
  ['now_timestamp', ['nanosecond'], 1708671600766000000],
  ['now_timestamp', ['minute'], err(/invalid time unit "minute"/)],
  ['format_date', ['second', '+08:00', '%Y-%m-%d %H:%M:%S'], '2024-02-23 15:00:00'],
  ['format_date', ['millisecond', 'Z', '%H:%M:%S.%3N'], '07:00:00.766'],
  ['timezone_to_offset_seconds', ['local'], 28800],
], fixed)

describe('date and time functions on the real clock', () => {
  it('now_timestamp and now_rfc3339 read Date.now()', () => {
    const before = Date.now()
    const ms = call('now_timestamp', 'millisecond') as number
    const s = call('now_timestamp') as number
    const after = Date.now()
    assert.ok(ms >= before && ms <= after)
    assert.ok(s >= Math.floor(before / 1000) && s <= Math.floor(after / 1000))
    const text = call('now_rfc3339', 'millisecond') as string
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/)
    const back = call('rfc3339_to_unix_ts', text, 'millisecond') as number
    assert.ok(back >= before && back <= Date.now())
  })
  it('unix_ts_to_rfc3339 and rfc3339_to_unix_ts are inverse in every unit (the suite\'s check)', () => {
    for (const unit of ['second', 'millisecond', 'microsecond']) {
      const t = call('now_timestamp', unit)
      assert.equal(call('rfc3339_to_unix_ts', call('unix_ts_to_rfc3339', t, unit), unit), t)
    }
  })
  it('format_date then date_to_unix_ts gives back the time (the suite\'s round trips)', () => {
    const seconds = [0, 1708671600, Math.floor(Date.now() / 1000), 4107588271]
    for (const s of seconds) {
      const a1 = ['second', '+07:00', '%m--%d--%Y---%H:%M:%S%z']
      assert.equal(call('date_to_unix_ts', ...a1, call('format_date', ...a1, s)), s)
      const a3 = ['second', '+08:00', '%Y-%m-%d-%H:%M:%S%z']
      assert.equal(call('date_to_unix_ts', 'second', a3[2], call('format_date', ...a3, s)), s)
      // no offset in the format: the offset is given to both
      const a4 = ['second', '+04:00', '--%m--%d--%Y---%H:%M:%S']
      assert.equal(call('date_to_unix_ts', ...a4, call('format_date', ...a4, s)), s)
    }
    for (const ms of [0, 1708933353472, Date.now()]) {
      const formatted = call('format_date', 'millisecond', '+04:00', '--%m--%d--%Y---%H:%M:%S:%3N%z', ms)
      assert.equal(call('date_to_unix_ts', 'millisecond', '--%m--%d--%Y---%H:%M:%S:%3N%z', formatted), ms)
    }
  })
})
