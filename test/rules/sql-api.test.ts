/**
 * The public API of src/rules/sql: compileRuleSql with the built-in function library by default.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileRuleSql, EVENT_FIELDS, EVENT_TOPICS, RuleEvalError, RuleSqlError, topicMatches } from '../../src/rules/sql/index.js'

const ctx = (payload: string, extra: Record<string, unknown> = {}) => ({ clientid: 'c_steve', username: 'u', topic: 't/1', qos: 1, payload, timestamp: 1, ...extra })

describe('compileRuleSql', () => {
  it('uses the built-in functions by default', () => {
    const rule = compileRuleSql("SELECT upper(clientid) AS u, nth(2, tokens(clientid, '_')) AS name, abs(payload.x) AS a FROM \"t/#\"")
    assert.deepEqual(rule.evaluate(ctx('{"x": -2}')), [{ u: 'C_STEVE', name: 'steve', a: 2 }])
  })

  it('checks the arity of built-ins when compiling', () => {
    assert.throws(() => compileRuleSql('SELECT upper(a, b) FROM "t/#"'), (err: unknown) => err instanceof RuleSqlError && err.line === 1 && err.column === 8 && /upper\(\) takes 1 argument, got 2/.test(err.message))
  })

  it('rejects unknown functions with their position', () => {
    assert.throws(() => compileRuleSql('SELECT a FROM "t/#"\nWHERE no_such_fn(a)'), (err: unknown) => err instanceof RuleSqlError && err.line === 2 && err.column === 7 && err.found === 'no_such_fn')
  })

  it('takes another function table', () => {
    const functions = new Map([['twice', (x: unknown) => (x as number) * 2]])
    assert.deepEqual(compileRuleSql('SELECT twice(qos) AS q FROM "t/#"', { functions }).evaluate(ctx('')), [{ q: 2 }])
    assert.throws(() => compileRuleSql('SELECT upper(clientid) FROM "t/#"', { functions }), RuleSqlError)
  })

  it('runs the documented FOREACH example with the real functions', () => {
    const rule = compileRuleSql(`FOREACH
    payload.sensors as s
DO
    nth(2, tokens(clientid,'_')) as clientid,
    s.name as name,
    s.idx as idx
INCASE
    s.idx >= 1
FROM "t/#"`)
    const payload = JSON.stringify({ date: '2020-04-24', sensors: [{ name: 'a', idx: 0 }, { name: 'b', idx: 1 }, { name: 'c', idx: 2 }] })
    assert.equal(rule.isForeach, true)
    assert.deepEqual(rule.sources, ['t/#'])
    assert.deepEqual(rule.evaluate(ctx(payload)), [
      { clientid: 'steve', name: 'b', idx: 1 },
      { clientid: 'steve', name: 'c', idx: 2 },
    ])
  })

  it('throws RuleEvalError when a built-in fails at run time', () => {
    const rule = compileRuleSql('SELECT abs(clientid) AS a FROM "t/#"')
    assert.throws(() => rule.evaluate(ctx('')), (err: unknown) => err instanceof RuleEvalError && err.clause === 'SELECT' && err.column === 8)
  })

  it('exports the event tables and topic matching', () => {
    assert.ok(EVENT_TOPICS.includes('$events/client_connected'))
    assert.ok(EVENT_FIELDS['$events/client_connected']!.includes('clientid'))
    assert.equal(topicMatches('a/#', 'a/b'), true)
  })
})
