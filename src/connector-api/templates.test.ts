import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileOptionalTemplate, compileSqlTemplate, compileTemplate, compileValue, parsePath } from './templates.js'

const out = { clientid: 'dev-1', qos: 1, payload: '{"temp":21.5,"tags":["a","b"],"nested":{"x":null}}', obj: { a: { b: 2 } }, flag: false }

describe('templates', () => {
  it('renders text with nested paths, JSON payload decoding and 1-based indexes', () => {
    assert.equal(compileTemplate('t/${clientid}/${payload.temp}')(out), 't/dev-1/21.5')
    assert.equal(compileTemplate('${payload.tags[1]},${payload.tags[-1]}')(out), 'a,b')
    assert.equal(compileTemplate('${obj.a.b}|${flag}|${qos}')(out), '2|false|1')
    assert.equal(compileTemplate('no placeholders')(out), 'no placeholders')
  })

  it('renders a missing value as null, never "undefined"', () => {
    assert.equal(compileTemplate('x=${nope.deeper}')(out), 'x=null')
    assert.equal(compileTemplate('${payload.nested.x}')(out), 'null')
    assert.equal(compileTemplate('${payload.tags[9]}')(out), 'null')
  })

  it('renders objects as JSON and ${.} as the whole output', () => {
    assert.equal(compileTemplate('${obj}')(out), '{"a":{"b":2}}')
    assert.deepEqual(JSON.parse(compileTemplate('${.}')(out)), out)
  })

  it('extracts typed values from a single placeholder', () => {
    assert.equal(compileValue('${qos}')(out), 1)
    assert.equal(compileValue('${payload.temp}')(out), 21.5)
    assert.equal(compileValue('${missing}')(out), undefined)
  })

  it('an optional template leaves out a lone placeholder with no value, never rendering "null"', () => {
    assert.equal(compileOptionalTemplate('${missing}')(out), undefined)
    assert.equal(compileOptionalTemplate(' ${payload.nested.x} ')(out), undefined, 'null is no value either')
    assert.equal(compileOptionalTemplate('${qos}')(out), '1')
    assert.equal(compileOptionalTemplate('${flag}')(out), 'false')
    assert.equal(compileOptionalTemplate('id-${missing}')(out), 'id-null', 'with text around it, the template renders as any other')
    assert.equal(compileOptionalTemplate('fixed')(out), 'fixed')
  })

  it('turns SQL placeholders into bind parameters, quotes and all', () => {
    const t = compileSqlTemplate("INSERT INTO t(id, temp, raw, tag) VALUES ('${clientid}', ${payload.temp}, ${obj}, ${missing})")
    assert.equal(t.text, 'INSERT INTO t(id, temp, raw, tag) VALUES ($1, $2, $3, $4)')
    assert.deepEqual(t.params(out), ['dev-1', 21.5, '{"a":{"b":2}}', null])
    assert.deepEqual(t.placeholders, ['clientid', 'payload.temp', 'obj', 'missing'])
    assert.equal(compileSqlTemplate('SELECT ${a}, ${b}', 'question').text, 'SELECT ?, ?')
  })

  it('keeps an injection attempt as data', () => {
    const t = compileSqlTemplate('INSERT INTO t VALUES (${payload.v})')
    assert.deepEqual(t.params({ payload: { v: "x'); DROP TABLE t; --" } }), ["x'); DROP TABLE t; --"])
  })

  it('rejects a malformed path', () => {
    assert.throws(() => parsePath('a[x]'), /invalid placeholder path/)
    assert.deepEqual(parsePath('a.b[2][-1]'), ['a', 'b', 2, -1])
    assert.throws(() => parsePath("a.'b"), /invalid placeholder path/)
    assert.throws(() => parsePath("a.'b'c"), /invalid placeholder path/)
  })

  it('reads quoted names as rule SQL writes them (pub_props.\'User-Property\')', () => {
    assert.deepEqual(parsePath("pub_props.'User-Property'"), ['pub_props', 'User-Property'])
    assert.deepEqual(parsePath('.pub_props."User-Property".foo'), ['pub_props', 'User-Property', 'foo'])
    assert.deepEqual(parsePath("a.'b.c'[1]"), ['a', 'b.c', 1])
    const output = { pub_props: { 'User-Property': { foo: 'bar' } }, a: { 'b.c': ['x'] } }
    assert.equal(compileTemplate("${pub_props.'User-Property'.foo}/${a.'b.c'[1]}")(output), 'bar/x')
    assert.deepEqual(compileValue("${pub_props.'User-Property'}")(output), { foo: 'bar' })
  })
})
