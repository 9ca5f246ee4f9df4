import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HoconError, parseHocon } from './hocon.js'

describe('parseHocon (the subset EMQX writes)', () => {
  it('objects with and without separators, dotted keys, merged repeats, comments', () => {
    const o = parseHocon(`
      # comment
      a { b = 1, c: "two" }   // trailing comment
      a.d = true
      a { e = null }
      "quoted key" { x = -1.5 }
      f.g.h = 15s
    `)
    assert.deepEqual(o, { a: { b: 1, c: 'two', d: true, e: null }, 'quoted key': { x: -1.5 }, f: { g: { h: '15s' } } })
  })

  it('arrays of strings and objects, triple-quoted strings keep ${...} and quotes', () => {
    const o = parseHocon('actions = ["pgsql:a", {function = console}, {function = republish, args {topic = "t/${clientid}"}}]\n' + 'sql = """SELECT "x" FROM "t/#" WHERE a = \'${b}\'"""\n')
    assert.deepEqual(o.actions, ['pgsql:a', { function: 'console' }, { function: 'republish', args: { topic: 't/${clientid}' } }])
    assert.equal(o.sql, `SELECT "x" FROM "t/#" WHERE a = '\${b}'`)
  })

  it('a root in braces; escapes in quoted strings', () => {
    assert.deepEqual(parseHocon('{ a = "x\\ny\\"z" }'), { a: 'x\ny"z' })
  })

  it('refuses what it does not support, naming the line', () => {
    for (const [text, line] of [['a {\n b = ${x}\n}', 2], ['a {\n b = 1\n', 3], ['a\n', 1], ['a = """never closed', 1], ['include "other.conf"\n', 1]] as const) {
      assert.throws(() => parseHocon(text), (e: unknown) => e instanceof HoconError && e.line === line, text)
    }
  })

  it('bounds nesting', () => {
    assert.throws(() => parseHocon(`${'a {'.repeat(200)}${'}'.repeat(200)}`), /nested too deep/)
  })
})
