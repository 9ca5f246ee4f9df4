import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileCommand, splitCommand } from './command-template.js'

describe('redis command templates', () => {
  it('splits the string form at spaces, keeping quoted parts whole', () => {
    assert.deepEqual(splitCommand(`HSET  k "a b" 'c  d' "q\\"uote\\\\" \${x}`), ['HSET', 'k', 'a b', 'c  d', 'q"uote\\', '${x}'])
  })

  it('renders one argument per element: values as text, JSON or bytes, missing and null as ""', () => {
    const t = compileCommand(['XADD', 's:${id}', '*', 'v', '${v}', 'o', '${o}', 'b', '${b}', 'n', '${n}', 'm', '${missing}', 'mix', '${id}/${missing}/${v}'])
    const bytes = Buffer.from([0, 255, 10])
    assert.equal(t.name, 'XADD')
    assert.deepEqual(t.render({ id: 'a b', v: 1.5, o: { k: [1] }, b: bytes, n: null }), ['s:a b', '*', 'v', '1.5', 'o', '{"k":[1]}', 'b', bytes, 'n', '', 'm', '', 'mix', 'a b//1.5'])
  })

  it('a value that looks like more arguments or a second command stays one argument', () => {
    const t = compileCommand('SET k ${v}')
    assert.deepEqual(t.render({ v: 'x\r\nFLUSHALL\r\n' }), ['k', 'x\r\nFLUSHALL\r\n'])
  })

  it('refuses an empty command and a placeholder as the command name', () => {
    assert.throws(() => compileCommand([]), /empty/)
    assert.throws(() => compileCommand('   '), /empty/)
    assert.throws(() => compileCommand(['${cmd}', 'k']), /literal/)
  })
})
