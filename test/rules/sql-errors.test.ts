/**
 * Errors of the rule SQL engine: syntax errors and compile errors (RuleSqlError with line, column,
 * expected and found) and runtime errors (RuleEvalError with the clause and the position).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileStatement } from '../../src/rules/sql/compiler.js'
import { RuleEvalError, RuleSqlError, type RuleClause } from '../../src/rules/sql/errors.js'
import { DOCUMENTED_EVENT_TOPICS } from '../../src/rules/sql/events.js'

const functions = new Map<string, (...args: unknown[]) => unknown>([
  ['upper', (s) => String(s).toUpperCase()],
  ['is_not_null', (v) => v !== undefined],
  ['fail', () => {
    throw new Error('boom')
  }],
])
const arity = new Map([
  ['upper', { min: 1, max: 1 }],
  ['is_not_null', { min: 1, max: 1 }],
  ['fail', { min: 0, max: Infinity }],
])

const compile = (sql: string) => compileStatement(sql, { functions, arity })

const E = 'an expression'
const COMMA = '","'

interface SyntaxCase {
  readonly sql: string
  readonly at: readonly [line: number, column: number]
  readonly expected: readonly string[]
  /** The text found there; omitted for the end of the input. */
  readonly found?: string
  /** The message after `line L, column C: ` when it is not the generic `expected ..., found ...`. */
  readonly detail?: string | RegExp
  readonly note?: string
}

function errorTable(title: string, cases: readonly SyntaxCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.note === undefined ? JSON.stringify(c.sql) : `${c.note}: ${JSON.stringify(c.sql)}`, () => {
        let error: unknown
        try {
          compile(c.sql)
        } catch (err) {
          error = err
        }
        assert.ok(error instanceof RuleSqlError, `expected a RuleSqlError, got ${String(error)}`)
        assert.deepEqual([error.line, error.column], c.at)
        assert.deepEqual(error.expected, c.expected)
        assert.equal(error.found, c.found)
        assert.ok(error.message.startsWith(`line ${c.at[0]}, column ${c.at[1]}: `), error.message)
        if (c.detail instanceof RegExp) assert.match(error.detail, c.detail)
        else if (c.detail !== undefined) assert.equal(error.detail, c.detail)
        else {
          const list = c.expected.length === 1 ? c.expected[0] : `${c.expected.slice(0, -1).join(', ')} or ${c.expected[c.expected.length - 1]}`
          assert.equal(error.detail, `expected ${list}, found ${c.found === undefined ? 'end of input' : JSON.stringify(c.found)}`)
        }
        assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace in the message')
      })
    }
  })
}

errorTable('syntax errors: statements and clauses', [
  { sql: '', at: [1, 1], expected: ['SELECT', 'FOREACH'] },
  { sql: '   \n  ', at: [2, 3], expected: ['SELECT', 'FOREACH'] },
  { sql: 'UPDATE t SET a = 1', at: [1, 1], expected: ['SELECT', 'FOREACH'], found: 'UPDATE' },
  { sql: 'SELECT', at: [1, 7], expected: [E] },
  { sql: 'SELECT -- only a comment', at: [1, 25], expected: [E] },
  { sql: 'SELECT a', at: [1, 9], expected: ['FROM', COMMA] },
  { sql: 'SELECT a WHERE x', at: [1, 10], expected: ['FROM', COMMA], found: 'WHERE' },
  { sql: 'SELECT payload WHERE payload.x = 1', at: [1, 16], expected: ['FROM', COMMA], found: 'WHERE' },
  { sql: 'SELECT a FROM', at: [1, 14], expected: ['a topic in quotes'] },
  { sql: 'SELECT a FROM "t" WHERE', at: [1, 24], expected: [E] },
  { sql: 'SELECT a FROM "t" x', at: [1, 19], expected: ['end of input', COMMA, 'WHERE'], found: 'x' },
  { sql: 'SELECT a FROM "t";', at: [1, 18], expected: ['end of input', COMMA, 'WHERE'], found: ';' },
  { sql: 'SELECT * FROM t/#', at: [1, 16], expected: ['end of input', COMMA, 'WHERE'], found: '/' },
  { sql: 'SELECT a, FROM "t"', at: [1, 11], expected: [E], found: 'FROM' },
  { sql: 'SELECT a b c FROM "t"', at: [1, 12], expected: ['FROM', COMMA], found: 'c' },
  { sql: 'SELECT a FROM "t" WHERE a = 1 extra', at: [1, 31], expected: ['end of input'], found: 'extra' },
  { sql: 'SELECT a FROM "t" WHERE a = 1 WHERE b = 2', at: [1, 31], expected: ['end of input'], found: 'WHERE' },
  { sql: 'SELECT a FROM "t" WHERE a = \'x\' AND', at: [1, 36], expected: [E] },
  { sql: 'SELECT a FROM "t" WHERE -', at: [1, 26], expected: [E] },
  { sql: 'SELECT a FROM "t" WHERE if = 1', at: [1, 25], expected: [E], found: 'if', note: 'IF is reserved' },
  { sql: 'SELECT a,\n  b\n  FROM "t"\n WHERE a = ', at: [4, 12], expected: [E] },
  { sql: 'SELECT a\nFROM "t"\nWHERE a = 1 AND\n  b = ) ', at: [4, 7], expected: [E], found: ')' },
  { sql: 'SELECT "测试" + FROM "t"', at: [1, 15], expected: [E], found: 'FROM', note: 'columns count characters' },
  { sql: 'FOREACH a DO FROM "t"', at: [1, 14], expected: [E], found: 'FROM' },
  { sql: 'FOREACH a INCASE FROM "t"', at: [1, 18], expected: [E], found: 'FROM' },
  { sql: 'FOREACH a DO b INCASE c DO d FROM "t"', at: [1, 25], expected: ['FROM'], found: 'DO' },
  { sql: 'FOREACH a "t"', at: [1, 14], expected: ['FROM', COMMA, 'DO', 'INCASE'], note: 'a quoted name after an expression is an alias' },
  { sql: 'FOREACH payload.s AS s FROM', at: [1, 28], expected: ['a topic in quotes'] },
  { sql: 'FOREACH * FROM "t"', at: [1, 9], expected: [E], found: '*', detail: /FOREACH needs expressions/ },
])

errorTable('syntax errors: expressions', [
  { sql: 'SELECT a FROM "t" WHERE a = 1 = 2', at: [1, 31], expected: [], found: '=', detail: 'comparisons cannot be chained: use AND between them' },
  { sql: 'SELECT a FROM "t" WHERE a =~', at: [1, 29], expected: [E] },
  { sql: 'SELECT a FROM "t" WHERE a ! b', at: [1, 27], expected: ['end of input'], found: '!' },
  { sql: 'SELECT a FROM "t" WHERE a NOT 1', at: [1, 27], expected: ['end of input'], found: 'NOT' },
  { sql: 'SELECT a FROM "t" WHERE a IN ()', at: [1, 31], expected: [E], found: ')' },
  { sql: 'SELECT a FROM "t" WHERE a IN (1, 2', at: [1, 35], expected: ['")"', COMMA] },
  { sql: 'SELECT a FROM "t" WHERE a IN 1', at: [1, 30], expected: ['"("'], found: '1' },
  { sql: 'SELECT a FROM "t" WHERE (a = 1', at: [1, 31], expected: ['")"'] },
  { sql: 'SELECT (1 FROM "t"', at: [1, 11], expected: ['")"'], found: 'FROM' },
  { sql: 'SELECT [1, 2 FROM "t"', at: [1, 14], expected: ['"]"', COMMA], found: 'FROM' },
  { sql: 'SELECT f(1,) FROM "t"', at: [1, 12], expected: [E], found: ')' },
  { sql: 'SELECT upper(1 FROM "t"', at: [1, 16], expected: ['")"', COMMA], found: 'FROM' },
  { sql: 'SELECT CASE WHEN a THEN 1 FROM "t"', at: [1, 27], expected: ['END', 'WHEN', 'ELSE'], found: 'FROM' },
  { sql: 'SELECT CASE a THEN 1 END FROM "t"', at: [1, 15], expected: ['WHEN'], found: 'THEN' },
  { sql: 'SELECT CASE WHEN a 1 END FROM "t"', at: [1, 20], expected: ['THEN'], found: '1' },
  { sql: 'SELECT CASE END FROM "t"', at: [1, 13], expected: [E], found: 'END' },
  { sql: 'SELECT CASE WHEN a THEN 1 ELSE 2 FROM "t"', at: [1, 34], expected: ['END'], found: 'FROM' },
  { sql: 'SELECT 1.b FROM abc', at: [1, 9], expected: ['FROM', COMMA], found: '.', note: 'no path after a number' },
  { sql: 'SELECT a.1.100 FROM abc', at: [1, 10], expected: ['a field name'], found: '1.100', note: 'a.1.100 is ambiguous' },
  { sql: 'SELECT a[1].[2] FROM abc', at: [1, 13], expected: ['a field name'], found: '[' },
  { sql: 'SELECT a. FROM "t"', at: [1, 11], expected: ['a field name'], found: 'FROM' },
  { sql: 'SELECT payload.from FROM "t"', at: [1, 16], expected: ['a field name'], found: 'from', note: 'keywords need quotes as keys' },
  { sql: 'SELECT a.b[1..3].c FROM abc', at: [1, 17], expected: ['FROM', COMMA], found: '.', note: 'a range ends the path' },
  { sql: 'SELECT [1..] FROM "t"', at: [1, 12], expected: ['an integer'], found: ']' },
  { sql: 'SELECT [1..2 FROM "t"', at: [1, 14], expected: ['"]"'], found: 'FROM' },
  { sql: 'SELECT a[1..1e2] FROM "t"', at: [1, 13], expected: ['an integer'], found: '1e2' },
  { sql: 'SELECT 0x1F AS n FROM "t"', at: [1, 13], expected: ['FROM', COMMA], found: 'AS', note: 'no hexadecimal numbers (0 then the alias x1F)' },
  { sql: 'SELECT a FROM "t" WHERE a = 1e', at: [1, 30], expected: ['end of input'], found: 'e' },
  { sql: 'SELECT a FROM "t" WHERE a = b.', at: [1, 31], expected: ['a field name'] },
  { sql: 'SELECT a FROM "t" WHERE a = NOT b', at: [1, 29], expected: [E], found: 'NOT' },
  { sql: 'SELECT a FROM "t" WHERE a @ b', at: [1, 27], expected: ['end of input'], found: '@' },
  { sql: 'SELECT a FROM "t" WHERE a = 1 AND OR b', at: [1, 35], expected: [E], found: 'OR' },
])

errorTable('syntax errors: quotes', [
  { sql: 'SELECT \'abc FROM "t"', at: [1, 8], expected: ["'"], detail: "string is not closed: the closing ' is missing" },
  { sql: 'SELECT a FROM "t', at: [1, 15], expected: ['"'], detail: 'quoted name is not closed: the closing " is missing' },
  { sql: 'SELECT a FROM "t" WHERE a = "unterminated', at: [1, 29], expected: ['"'], detail: /not closed/ },
  { sql: "SELECT a FROM 't/#' WHERE b = 'x''", at: [1, 31], expected: ["'"], detail: /not closed/, note: "'' inside a string is a quote" },
  { sql: "SELECT a\nFROM \"t\"\nWHERE b = 'line\nbreak", at: [3, 11], expected: ["'"], detail: /not closed/ },
])

errorTable('syntax errors: aliases', [
  { sql: 'SELECT a AS 1 FROM "t"', at: [1, 13], expected: ['an alias name'], found: '1' },
  { sql: 'SELECT a AS FROM "t"', at: [1, 13], expected: ['an alias name'], found: 'FROM' },
  { sql: 'SELECT a AS [1..3] FROM "t"', at: [1, 13], expected: ['an alias name'], found: '[', note: 'a range is no alias' },
  { sql: 'SELECT a AS e[1..3] FROM "t"', at: [1, 16], expected: ['"]"'], found: '..' },
  { sql: 'SELECT a AS b. FROM "t"', at: [1, 16], expected: ['a field name'], found: 'FROM' },
  { sql: 'SELECT a AS b[x FROM "t"', at: [1, 17], expected: ['"]"'], found: 'FROM' },
  { sql: 'SELECT a AS b[-x] FROM "t"', at: [1, 16], expected: ['an integer index'], found: 'x' },
  { sql: 'SELECT a AS upper(b) FROM "t"', at: [1, 18], expected: ['FROM', COMMA], found: '(' },
])

errorTable('compile errors', [
  { sql: 'SELECT foo(1) FROM "t"', at: [1, 8], expected: [], found: 'foo', detail: 'unknown function "foo"' },
  { sql: 'SELECT a FROM "t" WHERE nope(a) AND is_not_null(a)', at: [1, 25], expected: [], found: 'nope', detail: 'unknown function "nope"' },
  { sql: 'FOREACH payload.s AS s DO bad(s) AS v FROM "t"', at: [1, 27], expected: [], found: 'bad', detail: 'unknown function "bad"' },
  { sql: 'SELECT upper(1, 2, 3) FROM "t"', at: [1, 8], expected: [], found: 'upper', detail: 'upper() takes 1 argument, got 3' },
  { sql: 'SELECT upper() FROM "t"', at: [1, 8], expected: [], found: 'upper', detail: 'upper() takes 1 argument, got 0' },
  { sql: 'select mod(1) from "t"', at: [1, 8], expected: [], found: 'mod', detail: 'mod() takes 2 arguments, got 1' },
  { sql: 'select div(1, 2, 3) from "t"', at: [1, 8], expected: [], found: 'div', detail: 'div() takes 2 arguments, got 3' },
  { sql: 'SELECT other_mod.f(1) FROM "t"', at: [1, 8], expected: [], found: 'other_mod.f', detail: /unknown function module "other_mod"/ },
  { sql: 'SELECT * FROM "$events/nope"', at: [1, 15], expected: DOCUMENTED_EVENT_TOPICS, found: '$events/nope', detail: /^unknown event topic "\$events\/nope"; the event topics are: \$events\/client_connected, / },
  { sql: 'SELECT * FROM "t/#", "$events/client_connected/+"', at: [1, 22], expected: DOCUMENTED_EVENT_TOPICS, found: '$events/client_connected/+', detail: /unknown event topic/ },
  { sql: 'SELECT * FROM "$events/message_publish"', at: [1, 15], expected: [], found: '$events/message_publish', detail: /cannot be used in FROM: select the MQTT topic filter/ },
  { sql: 'SELECT * FROM "a/#/b"', at: [1, 15], expected: [], found: 'a/#/b', detail: 'invalid topic filter "a/#/b": `#` must be a whole level and the last one' },
  { sql: 'SELECT * FROM "a/b#"', at: [1, 15], expected: [], found: 'a/b#', detail: /`#` must be a whole level/ },
  { sql: 'SELECT * FROM "a+"', at: [1, 15], expected: [], found: 'a+', detail: 'invalid topic filter "a+": `+` must be a whole level' },
  { sql: 'SELECT * FROM ""', at: [1, 15], expected: [], found: '', detail: 'invalid topic filter "": a topic filter cannot be empty' },
  { sql: 'SELECT * FROM "t/#", "x/#/y"', at: [1, 22], expected: [], found: 'x/#/y', detail: /invalid topic filter/ },
  { sql: 'SELECT * FROM\n  "t/#",\n  \'bad#\'', at: [3, 3], expected: [], found: 'bad#', detail: /invalid topic filter/ },
  { sql: 'SELECT * FROM "$bridges/"', at: [1, 15], expected: [], found: '$bridges/', detail: /names no data source/ },
  { sql: 'SELECT [3..1] AS r FROM "t"', at: [1, 8], expected: [], detail: /the range \[3\.\.1\] goes backwards/ },
  { sql: 'SELECT [1..1000000] AS r FROM "t"', at: [1, 8], expected: [], detail: /too long/ },
  { sql: 'SELECT a[0..2] AS r FROM "t"', at: [1, 9], expected: [], found: '0', detail: /a range index cannot be 0/ },
  { sql: 'FOREACH payload.x AS a.b FROM "t"', at: [1, 22], expected: [], detail: /its alias must be a plain name/ },
  { sql: 'FOREACH a, b AS c[1] FROM "t"', at: [1, 17], expected: [], detail: /its alias must be a plain name/ },
])

describe('RuleSqlError', () => {
  it('is an Error with a readable message and no stack in it', () => {
    try {
      compile('SELECT a WHERE x')
      assert.fail('should throw')
    } catch (err) {
      assert.ok(err instanceof Error)
      assert.ok(err instanceof RuleSqlError)
      assert.equal(err.name, 'RuleSqlError')
      assert.equal(err.message, 'line 1, column 10: expected FROM or ",", found "WHERE"')
    }
  })

  it('accepts what the error cases reject once fixed', () => {
    for (const sql of ['SELECT a FROM "t"', 'SELECT a FROM "t" WHERE a IN (1, 2)', "SELECT a FROM 't/#' WHERE b = 'x'''", 'SELECT 1 AS a.b.c[0].d FROM "t"', 'FOREACH a, b AS c FROM "t"']) {
      assert.doesNotThrow(() => compile(sql), sql)
    }
  })
})

interface RuntimeCase {
  readonly sql: string
  readonly ctx: Record<string, unknown>
  readonly clause: RuleClause
  readonly at?: readonly [number, number]
  readonly detail: string | RegExp
}

const pl = (payload: string, extra: Record<string, unknown> = {}) => ({ clientid: 'c1', topic: 't/a', qos: 1, payload, ...extra })

const runtimeCases: readonly RuntimeCase[] = [
  { sql: 'SELECT payload.x AS x FROM "t/#"', ctx: pl('not json'), clause: 'SELECT', at: [1, 8], detail: 'the payload is not valid JSON: "not json"' },
  { sql: 'select payload.a[1..4] as c from "t/#"', ctx: pl('{"x":[0,1,2,3,}'), clause: 'SELECT', at: [1, 8], detail: /not valid JSON/ },
  { sql: 'foreach payload.sensors do item.cmd as msg_type from "t/#"', ctx: pl('{"sensors": [{"cmd":"1"} {"cmd":}]}'), clause: 'FOREACH', at: [1, 9], detail: /not valid JSON/ },
  { sql: 'foreach payload from "t/#"', ctx: pl('abc'), clause: 'FOREACH', at: [1, 9], detail: /not valid JSON/ },
  { sql: "SELECT payload, 'x' AS payload.y FROM \"t/#\"", ctx: pl('abc'), clause: 'SELECT', at: [1, 24], detail: /not valid JSON/ },
  { sql: 'SELECT * FROM "t/#" WHERE payload.x = 1', ctx: pl(''), clause: 'WHERE', at: [1, 27], detail: /not valid JSON: ""/ },
  { sql: 'select payload.a[1..4] as c from "t/#"', ctx: pl('{"x":[0,1,2,3,4,5]}'), clause: 'SELECT', at: [1, 17], detail: 'a range [1..4] needs a list, got a missing value' },
  { sql: 'SELECT payload.a[3..9] AS c FROM "t/#"', ctx: pl('{"a":[0]}'), clause: 'SELECT', at: [1, 17], detail: /out of bounds/ },
  { sql: "SELECT * FROM \"t/#\" WHERE payload.x = 'abc'", ctx: pl('{"x":5}'), clause: 'WHERE', at: [1, 37], detail: 'cannot compare the number 5 with the string "abc": it is not a number' },
  { sql: "SELECT payload.x > '1e3' AS b FROM \"t/#\"", ctx: pl('{"x":5}'), clause: 'SELECT', at: [1, 18], detail: /is not a number/ },
  { sql: 'SELECT 1 / 0 AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 10], detail: 'division by zero' },
  { sql: 'SELECT 5 div 0 AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 10], detail: 'div by zero' },
  { sql: 'SELECT 5 mod 0 AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 10], detail: 'mod by zero' },
  { sql: 'SELECT mod(5, 0) AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 8], detail: 'mod by zero' },
  { sql: 'SELECT 1.5 div 1 AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 12], detail: 'div needs two integers, got 1.5 and 1' },
  { sql: "SELECT 'a' - 1 AS z FROM \"t/#\"", ctx: pl(''), clause: 'SELECT', at: [1, 12], detail: 'cannot subtract 1 from "a"' },
  { sql: "SELECT -'a' AS z FROM \"t/#\"", ctx: pl(''), clause: 'SELECT', at: [1, 8], detail: 'cannot negate "a"' },
  { sql: 'SELECT -x AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 8], detail: 'cannot negate a missing value' },
  { sql: 'SELECT missing + 1 AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 16], detail: 'cannot add a missing value and 1' },
  { sql: 'SELECT [1] + [2] AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 12], detail: 'cannot add a list and a list' },
  { sql: 'SELECT 2 * true AS z FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 10], detail: 'cannot multiply 2 by true' },
  { sql: 'SELECT 1e308 * 10 AS x FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 14], detail: 'multiplication overflows' },
  { sql: 'SELECT\n  payload.a\n    - 1 AS x FROM "t/#"', ctx: pl('{"a":"x"}'), clause: 'SELECT', at: [3, 5], detail: 'cannot subtract 1 from "x"' },
  { sql: 'SELECT fail(1) AS x FROM "t/#"', ctx: pl(''), clause: 'SELECT', at: [1, 8], detail: 'fail() failed: boom' },
  { sql: 'SELECT * FROM "t/#" WHERE fail()', ctx: pl(''), clause: 'WHERE', at: [1, 27], detail: 'fail() failed: boom' },
  { sql: 'SELECT * FROM "t/#" WHERE payload.x', ctx: pl('{"x":5}'), clause: 'WHERE', at: [1, 27], detail: 'the condition must be true or false, got 5' },
  { sql: 'SELECT * FROM "t/#" WHERE payload.x', ctx: pl('{}'), clause: 'WHERE', at: [1, 27], detail: 'the condition must be true or false, got a missing value' },
  { sql: "SELECT * FROM \"t/#\" WHERE 'true'", ctx: pl(''), clause: 'WHERE', at: [1, 27], detail: /got "true"/ },
  { sql: 'SELECT * FROM "t/#" WHERE payload.x AND true', ctx: pl('{"x":1}'), clause: 'WHERE', at: [1, 27], detail: 'AND needs true or false on both sides, got 1 on the left' },
  { sql: 'SELECT * FROM "t/#" WHERE false OR payload.x', ctx: pl('{"x":1}'), clause: 'WHERE', at: [1, 36], detail: 'OR needs true or false on both sides, got 1 on the right' },
  { sql: 'FOREACH payload.s AS s INCASE s FROM "t/#"', ctx: pl('{"s":[1]}'), clause: 'INCASE', at: [1, 31], detail: 'the condition must be true or false, got 1' },
  { sql: 'FOREACH payload.s AS s DO s + 1 AS v FROM "t/#"', ctx: pl('{"s":["x", [1]]}'), clause: 'DO', at: [1, 29], detail: 'cannot add a list and 1' },
  { sql: 'FOREACH payload.s AS s FROM "t/#" WHERE fail()', ctx: pl('{"s":[1]}'), clause: 'WHERE', at: [1, 41], detail: 'fail() failed: boom' },
  { sql: 'FOREACH fail() AS s FROM "t/#"', ctx: pl(''), clause: 'FOREACH', at: [1, 9], detail: 'fail() failed: boom' },
]

describe('runtime errors', () => {
  for (const c of runtimeCases) {
    it(JSON.stringify(c.sql), () => {
      const rule = compile(c.sql)
      let error: unknown
      try {
        rule.evaluate(c.ctx)
      } catch (err) {
        error = err
      }
      assert.ok(error instanceof RuleEvalError, `expected a RuleEvalError, got ${String(error)}`)
      assert.ok(!(error instanceof RuleSqlError))
      assert.equal(error.name, 'RuleEvalError')
      assert.equal(error.clause, c.clause)
      if (c.at !== undefined) {
        assert.deepEqual([error.line, error.column], c.at)
        assert.ok(error.message.startsWith(`${c.clause} clause, line ${c.at[0]}, column ${c.at[1]}: `), error.message)
      }
      if (c.detail instanceof RegExp) assert.match(error.detail, c.detail)
      else assert.equal(error.detail, c.detail)
    })
  }

  it('keeps the error a function threw as the cause', () => {
    const rule = compile('SELECT fail() AS x FROM "t/#"')
    try {
      rule.evaluate(pl(''))
      assert.fail('should throw')
    } catch (err) {
      assert.ok(err instanceof RuleEvalError)
      assert.ok(err.cause instanceof Error)
      assert.equal(err.cause.message, 'boom')
    }
  })

  it('is not raised where EMQX short-circuits: AND, OR, CASE and INCASE skip what they do not need', () => {
    assert.deepEqual(compile('SELECT qos FROM "t/#" WHERE qos = 0 AND fail()').evaluate(pl('')), [])
    assert.deepEqual(compile('SELECT CASE WHEN qos = 1 THEN 1 ELSE fail() END AS v FROM "t/#"').evaluate(pl('')), [{ v: 1 }])
    assert.deepEqual(compile('FOREACH payload.s AS s DO fail() AS v INCASE s > 5 FROM "t/#"').evaluate(pl('{"s":[1,2]}')), [])
  })
})
