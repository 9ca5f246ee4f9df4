// Limits of rule evaluation (src/rules/limits.ts): nothing a payload or a rule's SQL holds may
// make one evaluation allocate or compute without bound; each limit is a clear error instead.
import assert from 'node:assert/strict'
import { gzipSync, deflateRawSync, deflateSync } from 'node:zlib'
import { describe, it } from 'node:test'
import { ruleFunctions } from '../../src/rules/functions/index.js'
import { exceedsJsonSize, MAX_EVALUATION_SIZE, MAX_SQL_DEPTH, MAX_SQL_LENGTH, MAX_VALUE_SIZE } from '../../src/rules/limits.js'
import { compileRuleSql, RuleEvalError, RuleSqlError } from '../../src/rules/sql/index.js'
import { MAX_SQL_TREE_DEPTH } from '../../src/rules/sql/parser.js'

const call = (name: string, ...args: unknown[]): unknown => ruleFunctions.get(name)!(...args)
const evaluate = (sql: string, payload: unknown = '{}'): Record<string, unknown>[] => compileRuleSql(sql).evaluate({ topic: 't/1', payload })
const tooLarge = /over the limit of 1048576 for one value|larger than 1048576/

/** Milliseconds `fn` takes, best of a few runs (the least disturbed by the rest of the machine). */
function timeOf(fn: () => unknown, runs = 3): number {
  let best = Infinity
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint()
    fn()
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6)
  }
  return best
}

describe('regular expressions run in linear time', () => {
  it('the catastrophic pattern answers about as fast as a plain one on the same subject', () => {
    const subject = `${'a'.repeat(32)}!`
    assert.equal(call('regex_match', subject, '^(a+)+$'), false)
    // Backtracking takes 2^32 steps here (seconds to hours); linear time is the plain pattern's order.
    const attack = timeOf(() => call('regex_match', subject, '^(a+)+$'))
    const plain = timeOf(() => call('regex_match', subject, '^a+$'))
    assert.ok(attack < Math.max(plain, 0.05) * 50, `attack ${attack} ms, plain ${plain} ms`)
  })

  it('stays linear on a long subject, for match, replace and extract', () => {
    const long = `${'a'.repeat(100_000)}!`
    const short = `${'a'.repeat(10_000)}!`
    for (const [name, args] of [
      ['regex_match', ['(a|aa)+$']],
      ['regex_replace', ['(a|a)*b', 'x']],
      ['regex_extract', ['((a+)+)$']],
    ] as const) {
      // Best of three each: one sample can be stretched by a garbage collection or by the other test files running meanwhile.
      const tLong = timeOf(() => call(name, long, ...args))
      const tShort = timeOf(() => call(name, short, ...args))
      // 10 times the subject: about 10 times the time (quadratic would be 100).
      assert.ok(tLong < Math.max(tShort, 1) * 40, `${name}: ${tShort} ms for 10k, ${tLong} ms for 100k`)
    }
  })

  it('a pattern RE2 cannot run rejects the rule when it is written in the SQL, at the pattern', () => {
    const sql = "SELECT regex_match(payload.s, '(a)\\1') AS m FROM \"t/#\""
    assert.throws(() => compileRuleSql(sql), (e: unknown) => {
      assert.ok(e instanceof RuleSqlError)
      assert.match(e.message, /backreferences are not supported/)
      assert.equal(e.line, 1)
      assert.equal(e.column, sql.indexOf("'(a)") + 1)
      assert.match(e.hint ?? '', /linear-time engine/)
      return true
    })
    assert.throws(() => compileRuleSql("SELECT regex_replace(payload, 'a(?=b)', 'x') FROM \"t/#\""), /lookahead is not supported/)
    assert.throws(() => compileRuleSql("SELECT regex_extract(payload, '(') FROM \"t/#\""), /invalid regular expression/)
    // A pattern taken from the message is checked when it is used: the message fails, the rule stays.
    const rule = compileRuleSql('SELECT regex_match(payload.s, payload.re) AS m FROM "t/#"')
    assert.throws(() => rule.evaluate({ payload: '{"s":"aa","re":"(a)\\\\1"}' }), (e: unknown) => e instanceof RuleEvalError && /backreferences/.test(e.message))
    assert.deepEqual(rule.evaluate({ payload: '{"s":"aa","re":"^a+$"}' }), [{ m: true }])
  })
})

describe('results are capped at the value limit', () => {
  const big = 'x'.repeat(MAX_VALUE_SIZE + 1)

  it('pad, sprintf, replace, regex_replace, concat and join refuse to grow past it before allocating', () => {
    assert.throws(() => call('pad', 'x', 100_000_000), tooLarge)
    assert.throws(() => call('pad', 'x', 100_000_000, 'leading', 'ab'), tooLarge)
    assert.equal((call('pad', 'x', MAX_VALUE_SIZE) as string).length, MAX_VALUE_SIZE)
    assert.throws(() => call('sprintf', '~100000000c', 120), tooLarge)
    assert.throws(() => call('sprintf', '~.100000000f', 1.5), tooLarge)
    assert.throws(() => call('sprintf', '~1000000c'.repeat(3), 120, 120, 120), tooLarge)
    const mb = 'a'.repeat(1024)
    assert.throws(() => call('replace', mb, 'a', 'b'.repeat(2048)), tooLarge)
    assert.throws(() => call('regex_replace', mb, 'a', 'b'.repeat(2048)), tooLarge)
    assert.throws(() => call('regex_replace', mb, '', 'b'.repeat(2048)), tooLarge)
    const half = 'y'.repeat(MAX_VALUE_SIZE / 2 + 1)
    assert.throws(() => call('concat', half, half), tooLarge)
    assert.throws(() => call('concat', [half, half]), tooLarge)
    assert.throws(() => call('join_to_string', ',', [half, half]), tooLarge)
  })

  it('a result may be as large as its largest argument: big payloads go through', () => {
    assert.equal((call('pad', big, 10) as string).length, big.length)
    assert.equal((call('replace', big, 'x', 'y') as string).length, big.length)
    assert.equal((call('regex_replace', big, 'x', 'y') as string).length, big.length)
    assert.deepEqual(evaluate('SELECT lower(payload) AS l FROM "t/#"', big)[0]!.l, big)
  })

  it('decompression stops at the limit: a small bomb is an error, not gigabytes', () => {
    const zeros = Buffer.alloc(64 * MAX_VALUE_SIZE)
    for (const [name, packed] of [['gunzip', gzipSync(zeros)], ['unzip', deflateRawSync(zeros)], ['zip_uncompress', deflateSync(zeros)]] as const) {
      assert.ok(packed.length < 100_000)
      assert.throws(() => call(name, packed), /decompressed data is larger than 1048576 bytes/, name)
    }
    assert.equal((call('gunzip', gzipSync(Buffer.from('hello'))) as string), 'hello')
  })

  it('in SQL, any function or + that grows a value past the limit fails the message with the reason', () => {
    const cases = [
      "SELECT pad('x', 100000000) AS p FROM \"t/#\"",
      'SELECT bin2hexstr(payload) AS h FROM "t/#"',
      'SELECT payload + payload AS d FROM "t/#"',
      "SELECT str_utf16_le(payload) AS u FROM \"t/#\"",
    ]
    const payload = 'z'.repeat(MAX_VALUE_SIZE * 0.75)
    for (const sql of cases) {
      assert.throws(() => evaluate(sql, payload), (e: unknown) => {
        assert.ok(e instanceof RuleEvalError, sql)
        assert.match(e.message, /over the limit of 1048576 for one value/, sql)
        assert.match(e.message, /line 1, column \d+/, sql)
        return true
      })
    }
  })

  it('one evaluation may not make more than its budget, however many fields share it', () => {
    const fields = Array.from({ length: 20 }, (_, i) => `pad('x', 1000000) AS f${i}`).join(', ')
    assert.throws(() => evaluate(`SELECT ${fields} FROM "t/#"`), new RegExp(`limit of ${MAX_EVALUATION_SIZE} characters or bytes of strings and binaries that one evaluation may make`))
    const few = Array.from({ length: 10 }, (_, i) => `pad('x', 1000000) AS f${i}`).join(', ')
    assert.equal(Object.keys(evaluate(`SELECT ${few} FROM "t/#"`)[0]!).length, 10)
    // Doubling in nested calls stops at the value limit after a handful of steps.
    let sql = "'xxxxxxxxxxxxxxxx'"
    for (let i = 0; i < 30; i++) sql = `concat(${sql}, ${sql.length > 200 ? 'f' : sql})`
    assert.throws(() => evaluate(`SELECT pad('a', 600000) AS f, ${sql} AS g FROM "t/#"`), /over the limit/)
  })

  it('exceedsJsonSize stops early and counts shared values each time', () => {
    const shared = { s: 'x'.repeat(1000) }
    assert.equal(exceedsJsonSize(Array.from({ length: 10 }, () => shared), 20_000), false)
    assert.equal(exceedsJsonSize(Array.from({ length: 100 }, () => shared), 20_000), true)
    assert.equal(exceedsJsonSize({ a: [1, 2, 3] }, 100), false)
  })
})

describe('SQL nesting and length are bounded', () => {
  const nested = (n: number): string => `SELECT ${'('.repeat(n)}1${')'.repeat(n)} AS x FROM "t/#"`

  it(`${MAX_SQL_DEPTH} levels of parentheses compile; one more is an error with line, column and hint`, () => {
    assert.deepEqual(compileRuleSql(nested(MAX_SQL_DEPTH - 1)).evaluate({ payload: '' }), [{ x: 1 }])
    assert.throws(() => compileRuleSql(nested(MAX_SQL_DEPTH + 1)), (e: unknown) => {
      assert.ok(e instanceof RuleSqlError)
      assert.match(e.message, /^line 1, column \d+: the expression is nested too deeply \(more than 100 levels\)/)
      assert.match(e.hint ?? '', /at most 100 levels/)
      return true
    })
  })

  it('thousands of parentheses, calls, lists, NOTs or signs are a RuleSqlError, never a stack overflow', () => {
    // 2000 levels: twice what overflowed the parser's stack before the limit; each SQL is under the length limit.
    const n = 2000
    for (const sql of [
      nested(n),
      `SELECT ${'abs('.repeat(n)}1${')'.repeat(n)} AS x FROM "t/#"`,
      `SELECT ${'['.repeat(n)}1${']'.repeat(n)} AS x FROM "t/#"`,
      `SELECT 1 FROM "t/#" WHERE ${'NOT '.repeat(n)}true`,
      `SELECT ${'- '.repeat(n)}1 AS x FROM "t/#"`,
      `SELECT ${'CASE WHEN true THEN '.repeat(n)}1${' END'.repeat(n)} AS x FROM "t/#"`,
    ]) {
      assert.ok(sql.length <= MAX_SQL_LENGTH)
      assert.throws(() => compileRuleSql(sql), (e: unknown) => e instanceof RuleSqlError && /nested too deeply \(more than 100 levels\)/.test(e.message), sql.slice(0, 40))
    }
  })

  it('a long chain of operators compiles and runs up to the tree limit, and is refused past it', () => {
    const chain = (n: number): string => `SELECT 1 AS x FROM "t/#" WHERE ${Array.from({ length: n }, (_, i) => `payload = '${i}'`).join(' OR ')}`
    assert.deepEqual(compileRuleSql(chain(MAX_SQL_TREE_DEPTH - 1)).evaluate({ payload: String(MAX_SQL_TREE_DEPTH - 2) }), [{ x: 1 }])
    assert.throws(() => compileRuleSql(chain(MAX_SQL_TREE_DEPTH + 5)), (e: unknown) => {
      assert.ok(e instanceof RuleSqlError)
      assert.match(e.message, /too deeply nested \(more than 1000 levels/)
      assert.match(e.hint ?? '', /IN \(\.\.\.\)/)
      return true
    })
    assert.throws(() => compileRuleSql(`SELECT ${Array(20_000).fill('1').join('+')} AS x FROM "t/#"`), RuleSqlError)
  })

  it('SQL longer than the limit is refused', () => {
    const sql = `SELECT '${'x'.repeat(MAX_SQL_LENGTH)}' AS x FROM "t/#"`
    assert.throws(() => compileRuleSql(sql), (e: unknown) => e instanceof RuleSqlError && /the SQL is too long/.test(e.message))
  })
})

describe('JSON depth is bounded', () => {
  const deep = (n: number): string => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`

  it('a payload nested more than 1000 levels fails the message; 1000 levels decode', () => {
    const rule = compileRuleSql('SELECT payload.a AS a FROM "t/#"')
    assert.throws(() => rule.evaluate({ payload: deep(100_000) }), (e: unknown) => e instanceof RuleEvalError && /nested more than 1000 levels deep/.test(e.message))
    assert.equal(rule.evaluate({ payload: deep(999) }).length, 1)
    // Brackets inside strings do not count.
    assert.deepEqual(rule.evaluate({ payload: `{"a":"${'['.repeat(5000)}"}` }), [{ a: '['.repeat(5000) }])
    assert.throws(() => call('json_decode', deep(5000)), /json_decode: JSON nested more than 1000 levels deep/)
  })
})
