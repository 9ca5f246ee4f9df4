// The jq function's own behaviour beyond EMQX's cases (test/rules/emqx-conformance.test.ts): its
// bounds (timeouts, quarantine, result size), its thread restarting, and values crossing it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ruleFunctions, RuleFunctionError } from '../../src/rules/functions/index.js'
import { jqThread } from '../../src/rules/functions/jq.js'

const jq = ruleFunctions.get('jq')!
const fails = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof RuleFunctionError && re.test(e.message))

describe('jq', () => {
  it('returns every result, decoded, in order', () => {
    assert.deepStrictEqual(jq('.[]', '[1, "a\\nb", null, {"x": [true]}]'), [1, 'a\nb', null, { x: [true] }])
    assert.deepStrictEqual(jq('.a, .b', { a: 1.5, b: 'é' }), [1.5, 'é'])
    assert.deepStrictEqual(jq('.', '"text with \\"quotes\\""'), ['text with "quotes"'])
  })
  it('encodes a non-binary input as JSON, and takes a Buffer as JSON text', () => {
    assert.deepStrictEqual(jq('length', [1, 2, 3]), [3])
    assert.deepStrictEqual(jq('.', true), [true])
    assert.deepStrictEqual(jq('.k', Buffer.from('{"k": "v"}')), ['v'])
  })
  it('refuses bad arguments before running', () => {
    fails(() => jq(42, '{}'), /jq: expected a jq program/)
    fails(() => jq('.', '{}', -1), /jq: expected a timeout/)
    fails(() => jq('.', '{}', 1.5), /jq: expected a timeout/)
  })
  it('stops a runaway program, starts a new thread, and refuses the program for a while', () => {
    const t0 = performance.now()
    fails(() => jq('def f: f; f', '{}', 100), /jq: timeout: the program ran for more than 100 ms$/)
    const timedOut = performance.now() - t0
    assert.equal(jqThread.running, false, 'the thread running the program was terminated')
    // Refused without running for the same or a shorter timeout...
    const t1 = performance.now()
    fails(() => jq('def f: f; f', '{}', 50), /refused without running/)
    assert.ok(performance.now() - t1 < timedOut, 'a refused call does not wait for its timeout')
    // ...run again with a longer one.
    fails(() => jq('def f: f; f', '{}', 150), /ran for more than 150 ms$/)
    assert.deepStrictEqual(jq('. + 1', '1'), [2])
    assert.equal(jqThread.running, true)
  })
  it('bounds the results: at most 1 MiB of JSON, or twice the input', () => {
    fails(() => jq('[range(0; 300000)]', 'null'), /over the limit of 1048576/)
    const big = JSON.stringify('x'.repeat(1_500_000))
    assert.equal((jq('.', big) as string[])[0]!.length, 1_500_000)
  })
  it("reports jq's errors with jq's message", () => {
    fails(() => jq('.a.b', '{"a": 1}'), /jq: error \(at inputString:0\): Cannot index number with string "b"/)
    fails(() => jq('foo(', '{}'), /syntax error/)
    fails(() => jq('.', '{"a":'), /jq: .*Unfinished JSON term/)
  })
})
