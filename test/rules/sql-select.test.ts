/**
 * Conformance of SELECT statements with EMQX's rule engine: each case is SQL, an event context and
 * the expected outputs. Cases come from EMQX's documentation and its rule engine test suite
 * (t_sqlselect_*, t_sqlparse_*), restated here, plus cases for the semantics they imply.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileStatement } from '../../src/rules/sql/compiler.js'

type Ctx = Record<string, unknown>
interface Case {
  readonly sql: string
  readonly ctx?: Ctx
  readonly out: readonly unknown[]
  readonly note?: string
}

// A few functions standing in for the built-in library, so these cases test the language alone.
const functions = new Map<string, (...args: unknown[]) => unknown>([
  ['upper', (s) => String(s).toUpperCase()],
  ['abs', (n) => {
    if (typeof n !== 'number') throw new Error('abs needs a number')
    return Math.abs(n)
  }],
  ['is_null', (v) => v === undefined],
  ['is_not_null', (v) => v !== undefined],
  ['json_decode', (s) => JSON.parse(String(s)) as unknown],
  ['map_get', (k, m, d) => (m !== null && typeof m === 'object' && Object.hasOwn(m, String(k)) ? (m as Ctx)[String(k)] : d)],
  ['clientid', () => (ctx: Ctx) => ctx['clientid']],
  ['str', (v) => String(v)],
])

const TS = 1700000000000

/** A message-publish context as EMQX builds it, with `payload` as the raw text. */
function msg(payload: unknown = {}, extra: Ctx = {}): Ctx {
  return {
    id: '0005f1d2c3b4a000',
    event: 'message.publish',
    clientid: 'c1',
    username: 'u1',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    peerhost: '10.0.0.1',
    topic: 't/a',
    qos: 1,
    flags: { dup: false, retain: false },
    pub_props: { 'User-Property': { foo: 'bar' } },
    timestamp: TS,
    publish_received_at: TS,
    node: 'junction@test',
    ...extra,
  }
}

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.note === undefined ? c.sql : `${c.note}: ${c.sql}`, () => {
        const rule = compileStatement(c.sql, { functions })
        assert.equal(rule.isForeach, false)
        assert.deepEqual(rule.evaluate(c.ctx ?? msg()), c.out)
      })
    }
  })
}

const cmd = msg({ cmd: { info: 'tt' } })

table('fields, aliases and *', [
  { sql: 'SELECT * FROM "t/#"', ctx: msg({ x: 1 }), out: [msg({ x: 1 })] },
  { sql: 'SELECT clientid FROM "t/#"', out: [{ clientid: 'c1' }] },
  { sql: 'SELECT clientid, username, qos FROM "t/#"', out: [{ clientid: 'c1', username: 'u1', qos: 1 }] },
  { sql: 'SELECT clientid AS cid FROM "t/#"', out: [{ cid: 'c1' }] },
  { sql: 'SELECT clientid cid FROM "t/#"', out: [{ cid: 'c1' }], note: 'AS is optional' },
  { sql: 'SeLeCt clientid aS cid FrOm "t/#" wHeRe qos = 1', out: [{ cid: 'c1' }], note: 'keywords are case-insensitive' },
  { sql: 'SELECT CLIENTID FROM "t/#"', out: [{ CLIENTID: undefined }], note: 'field names are case-sensitive' },
  { sql: 'SELECT "clientid" AS c FROM "t/#"', out: [{ c: 'c1' }], note: 'double quotes make a name, not a string' },
  { sql: 'SELECT "my field" FROM "t/#"', ctx: msg({}, { 'my field': 7 }), out: [{ 'my field': 7 }] },
  { sql: 'SELECT clientid AS "client id" FROM "t/#"', out: [{ 'client id': 'c1' }] },
  { sql: 'SELECT nosuch FROM "t/#"', out: [{ nosuch: undefined }], note: 'a missing field is selected as undefined' },
  { sql: 'SELECT payload FROM "t/#"', ctx: msg('{"x": 1}'), out: [{ payload: '{"x": 1}' }], note: 'payload alone stays the raw text' },
  { sql: 'SELECT payload.x FROM "t/#"', ctx: msg({ x: 1 }), out: [{ payload: { x: 1 } }], note: 'a path without AS nests the output' },
  { sql: 'SELECT payload.x AS x FROM "t/#"', ctx: msg({ x: 1 }), out: [{ x: 1 }] },
  { sql: 'SELECT payload.a.b.c.deep AS my_field FROM "t/#"', ctx: msg({ a: { b: { c: { deep: 'd' } } } }), out: [{ my_field: 'd' }] },
  { sql: 'SELECT payload.missing AS y FROM "t/#"', ctx: msg({ x: 1 }), out: [{ y: undefined }] },
  { sql: 'SELECT payload.x.y.z AS y FROM "t/#"', ctx: msg({ x: 1 }), out: [{ y: undefined }], note: 'walking into a number' },
  { sql: 'SELECT payload.x AS x FROM "t/#"', ctx: msg('{"x": null}'), out: [{ x: null }], note: 'JSON null is null, not missing' },
  { sql: 'SELECT 1 AS a, \'two\' AS b, 2.5 AS c FROM "t/#"', out: [{ a: 1, b: 'two', c: 2.5 }] },
  { sql: "SELECT 'abc' FROM \"t/#\"", out: [{ abc: 'abc' }], note: 'a string literal without AS is stored under its text' },
  { sql: 'SELECT 1 + 1 FROM "t/#"', out: [{ '_v_op_+_1': 2 }], note: 'other expressions without AS get a generated name' },
  { sql: 'SELECT clientid, upper(clientid) FROM "t/#"', out: [{ clientid: 'c1', _v_fun_upper_2: 'C1' }] },
  { sql: 'SELECT [1,2,3,4] FROM "t/#"', out: [{ _v_list_1: [1, 2, 3, 4] }] },
  { sql: 'SELECT *, 1 AS extra FROM "t/#"', out: [{ ...msg(), extra: 1 }] },
  { sql: "SELECT *, 'z' AS clientid FROM \"t/#\"", out: [{ ...msg(), clientid: 'z' }], note: 'a field after * overrides' },
  { sql: "SELECT 'z' AS clientid, * FROM \"t/#\"", out: [msg()], note: '* overrides the fields before it (EMQX merges the event over them)' },
  { sql: 'SELECT clientid AS a, clientid AS a FROM "t/#"', out: [{ a: 'c1' }], note: 'a repeated alias keeps the last value' },
  { sql: 'SELECT\n  clientid,\n  qos\nFROM\n  "t/#"\n', out: [{ clientid: 'c1', qos: 1 }], note: 'newlines' },
  { sql: 'SELECT clientid -- who sent it\nFROM "t/#" -- and the end', out: [{ clientid: 'c1' }], note: '-- comments' },
  {
    sql: 'SELECT payload.msg as msg, clientid, username, payload, topic, qos FROM "t/#"',
    ctx: msg('{"msg":"hello"}', { clientid: 'c_emqx', username: 'u_emqx' }),
    out: [{ msg: 'hello', clientid: 'c_emqx', username: 'u_emqx', payload: '{"msg":"hello"}', topic: 't/a', qos: 1 }],
    note: 'EMQX docs: message fields',
  },
])

table('aliases used by later fields and by WHERE', [
  { sql: 'select payload.cmd as cmd from "t/#" where cmd.info = \'tt\'', ctx: cmd, out: [{ cmd: { info: 'tt' } }] },
  { sql: "select payload.cmd as cmd, cmd.info as info from \"t/#\" where cmd.info = 'tt' and info = 'tt'", ctx: cmd, out: [{ cmd: { info: 'tt' }, info: 'tt' }] },
  {
    sql: "select payload.cmd as cmd, cmd.info as meta.info from \"t/#\" where cmd.info = 'tt' and meta.info = 'tt'",
    ctx: cmd,
    out: [{ cmd: { info: 'tt' }, meta: { info: 'tt' } }],
    note: 'cascaded AS with a nested alias',
  },
  { sql: 'select payload as p, p.a.b as c from "t/#"', ctx: msg('{"a": {"b": 0}}'), out: [{ p: '{"a": {"b": 0}}', c: 0 }], note: 'a JSON string alias is decoded on access' },
  { sql: 'SELECT payload.x as x FROM "tests/test_topic_1" WHERE x = 1', ctx: msg({ x: 1 }), out: [{ x: 1 }] },
  { sql: 'SELECT payload.x as x FROM "tests/test_topic_1" WHERE x = 1', ctx: msg({ x: 2 }), out: [] },
  { sql: "SELECT clientid as cid FROM \"#\" WHERE cid = 'c1'", out: [{ cid: 'c1' }] },
  { sql: "SELECT clientid as cid FROM \"#\" WHERE username = 'u1'", out: [{ cid: 'c1' }], note: 'WHERE also sees unselected fields' },
  { sql: "SELECT clientid as cid FROM \"#\" WHERE xyz = 'abc'", out: [], note: 'an unknown field in WHERE does not match' },
  { sql: "SELECT 'x' AS clientid FROM \"#\" WHERE clientid = 'x'", out: [{ clientid: 'x' }], note: 'WHERE sees the selected value over the event' },
  { sql: "SELECT payload.nope AS topic FROM \"#\" WHERE topic = 't/a'", out: [], note: 'a selected missing value hides the event field in WHERE' },
  { sql: 'SELECT a, b FROM "t/#" WHERE a = b', ctx: msg(''), out: [{ a: undefined, b: undefined }], note: 'missing = missing' },
  { sql: 'SELECT a, b FROM "t/#" WHERE a > b', ctx: msg('{"b":1}'), out: [] },
  { sql: 'SELECT a < b AS c FROM "t/#"', ctx: msg('{"b":1}'), out: [{ c: false }] },
  { sql: 'SELECT 1 AS one, one + 1 AS two, two * 10 AS twenty FROM "t/#"', out: [{ one: 1, two: 2, twenty: 20 }] },
])

table('nested aliases and puts into lists', [
  { sql: 'SELECT clientid AS a.b.c FROM "t/#"', out: [{ a: { b: { c: 'c1' } } }] },
  { sql: 'SELECT clientid AS a.b, qos AS a.c FROM "t/#"', out: [{ a: { b: 'c1', c: 1 } }] },
  { sql: "SELECT 1 AS a, 'x' AS a.b FROM \"t/#\"", out: [{ a: { b: 'x' } }], note: 'a non-map level becomes a map' },
  { sql: 'SELECT clientid AS a.\'my key\' FROM "t/#"', out: [{ a: { 'my key': 'c1' } }] },
  { sql: 'SELECT clientid AS a.1 FROM "t/#"', out: [{ a: { 1: 'c1' } }], note: 'a number after . is a key' },
  { sql: 'select true as a, false as b, false as x.y, true as c[-0] from "t/#"', out: [{ a: true, b: false, x: { y: false }, c: [true] }] },
  { sql: 'select payload.x as b, 1 as c[-0], 2 as c[-0], b as c[0] from "t/#"', ctx: msg({ x: 0 }), out: [{ b: 0, c: [0, 1, 2] }], note: '[-0] appends, [0] prepends' },
  { sql: 'select [] as c, 1 as c[-0], 2 as c[-0], 0 as c[0] from "t/#"', ctx: msg(''), out: [{ c: [0, 1, 2] }] },
  {
    sql: 'select [payload.a, "topic", \'c\'] as c, 1 as c[-0], 2 as c[-0], 0 as c[0] from "t/#"',
    ctx: msg('{"a":11}'),
    out: [{ c: [0, 11, 't/a', 'c', 1, 2] }],
  },
  { sql: 'select [1..4] as c, 5 as c[-0], 6 as c[-0], 0 as c[0] from "t/#"', ctx: msg(''), out: [{ c: [0, 1, 2, 3, 4, 5, 6] }] },
  { sql: "SELECT [1, 2, 3] AS l, 'x' AS l[2] FROM \"t/#\"", out: [{ l: [1, 'x', 3] }] },
  { sql: "SELECT [1, 2, 3] AS l, 'x' AS l[-1] FROM \"t/#\"", out: [{ l: [1, 2, 'x'] }] },
  { sql: "SELECT [1, 2, 3] AS l, 'x' AS l[7] FROM \"t/#\"", out: [{ l: [1, 2, 3] }], note: 'past the end changes nothing' },
  { sql: "SELECT 'x' AS l[3] FROM \"t/#\"", out: [{ l: ['x'] }], note: 'an index into a missing list makes a one-element list' },
  { sql: "SELECT [[1], [2]] AS l, 'x' AS l[2][1] FROM \"t/#\"", out: [{ l: [[1], ['x']] }] },
  { sql: "SELECT payload.l AS l, 'x' AS l[1].k FROM \"t/#\"", ctx: msg({ l: [{ k: 1, j: 2 }] }), out: [{ l: [{ k: 'x', j: 2 }] }] },
])

table('puts into the payload', [
  {
    sql: "select payload, 'STEVE' as payload.data[1].name from \"t/#\"",
    ctx: msg({ f1: 'f1', f2: 'f2', data: [{ name: 'n1', idx: 1 }, { name: 'n2', idx: 2 }] }),
    out: [{ payload: { f1: 'f1', f2: 'f2', data: [{ name: 'STEVE', idx: 1 }, { name: 'n2', idx: 2 }] } }],
    note: 'a selected JSON payload is decoded before putting into it',
  },
  { sql: 'select 0 as payload.x[2].y from "t/#"', ctx: msg('{"x": [1,{"y": [1,2]},3]}'), out: [{ payload: { x: [{ y: 0 }] } }] },
  { sql: 'select payload.x, 0 as payload.x[2].y from "t/#"', ctx: msg('{"x": [1,{"y": [1,2]},3]}'), out: [{ payload: { x: [1, { y: 0 }, 3] } }] },
  {
    sql: "SELECT payload, map_get('engineWorkTime', payload.params, -1) as payload.params.engineWorkTime, map_get('hydOilTem', payload.params, -1) as payload.params.hydOilTem FROM \"t/#\"",
    ctx: msg('{ "msgId": 1002, "params": { "convertTemp": 20, "engineSpeed": 42, "hydOilTem": 30 } }'),
    out: [{ payload: { msgId: 1002, params: { convertTemp: 20, engineSpeed: 42, engineWorkTime: -1, hydOilTem: 30 } } }],
    note: 'EMQX issue 3866',
  },
  {
    sql: "SELECT payload, map_get('engineWorkTime', payload.params, -1) as payload.params.engineWorkTime, map_get('hydOilTem', payload.params, -1) as payload.params.hydOilTem FROM \"t/#\"",
    ctx: msg('{ "msgId": 1002, "params": { "convertTemp": 20, "engineSpeed": 42 } }'),
    out: [{ payload: { msgId: 1002, params: { convertTemp: 20, engineSpeed: 42, engineWorkTime: -1, hydOilTem: -1 } } }],
  },
  {
    sql: 'SELECT payload, 1 AS payload.a.b FROM "t/#" WHERE payload.a.c = 2',
    ctx: msg({ a: { c: 2 } }),
    out: [{ payload: { a: { c: 2, b: 1 } } }],
    note: 'WHERE reads the modified payload',
  },
])

table('paths: keys, indexes and ranges', [
  { sql: 'SELECT payload.arr[1] AS first, payload.arr[-1] AS last FROM "t/#"', ctx: msg({ arr: [10, 20, 30] }), out: [{ first: 10, last: 30 }] },
  { sql: 'SELECT payload.arr[0] AS a, payload.arr[4] AS b, payload.arr[-4] AS c FROM "t/#"', ctx: msg({ arr: [10, 20, 30] }), out: [{ a: undefined, b: undefined, c: undefined }] },
  { sql: 'SELECT payload.x[-2].y as b FROM "t/#"', ctx: msg({ x: [1, { y: 3 }, 4] }), out: [{ b: 3 }] },
  { sql: 'SELECT payload.x[2].y as b FROM "t/#"', ctx: msg({}, { payload: { x: [1, { y: 3 }, 4] } }), out: [{ b: 3 }], note: 'an already decoded payload' },
  { sql: 'select payload.x[2] from "t/#"', ctx: msg({}, { payload: { x: [1, 3, 4] } }), out: [{ payload: { x: [3] } }], note: 'an index path without AS' },
  { sql: 'select payload.x[2].y from "t/#"', ctx: msg({}, { payload: { x: [1, { y: 3 }, 4] } }), out: [{ payload: { x: [{ y: 3 }] } }] },
  { sql: 'select payload, payload.x[2].y from "t/#"', ctx: msg('{"x": [1,{"y": [1,2]},3]}'), out: [{ payload: { x: [1, { y: [1, 2] }, 3] } }] },
  { sql: 'select payload.x[2].y as b from "t/#"', ctx: msg('{"x": [1,{"y": [1,2]},3]}'), out: [{ b: [1, 2] }] },
  { sql: 'select payload.x[2].y as b.c from "t/#"', ctx: msg('{"x": [1,{"y": [1,2]},3]}'), out: [{ b: { c: [1, 2] } }] },
  { sql: 'SELECT payload.m[1][2] AS v FROM "t/#"', ctx: msg({ m: [[1, 2], [3, 4]] }), out: [{ v: 2 }] },
  { sql: 'SELECT payload.arr[payload.i] AS v FROM "t/#"', ctx: msg({ arr: [10, 20, 30], i: 2 }), out: [{ v: 20 }], note: 'an index read from a field' },
  { sql: 'SELECT payload.arr[i] AS v FROM "t/#"', ctx: msg({ arr: [10, 20, 30] }, { i: 3 }), out: [{ v: 30 }] },
  { sql: 'SELECT payload.arr[payload.i + 1] AS v FROM "t/#"', ctx: msg({ arr: [10, 20, 30], i: 1 }), out: [{ v: 20 }] },
  { sql: "SELECT payload.arr['1'] AS v FROM \"t/#\"", ctx: msg({ arr: [10] }), out: [{ v: undefined }], note: 'a string is not an index' },
  { sql: 'SELECT payload.obj[1] AS v FROM "t/#"', ctx: msg({ obj: { 1: 'x' } }), out: [{ v: undefined }], note: 'an index into a map is missing' },
  { sql: 'SELECT payload.arr.x AS v FROM "t/#"', ctx: msg({ arr: [1] }), out: [{ v: undefined }], note: 'a key of a list is missing' },
  { sql: 'SELECT payload.1 AS one, payload.a.2.b AS two FROM "t/#"', ctx: msg({ 1: 'x', a: { 2: { b: 'y' } } }), out: [{ one: 'x', two: 'y' }] },
  { sql: "SELECT payload.'key with spaces' AS k FROM \"t/#\"", ctx: msg({ 'key with spaces': 5 }), out: [{ k: 5 }] },
  { sql: "SELECT payload.'from' AS f, payload.\"end\" AS e FROM \"t/#\"", ctx: msg({ from: 1, end: 2 }), out: [{ f: 1, e: 2 }], note: 'keywords as keys need quotes' },
  { sql: "SELECT pub_props.'User-Property'.foo as foo FROM \"t/#\"", out: [{ foo: 'bar' }], note: 'EMQX docs: a user property' },
  { sql: 'SELECT flags.retain AS r FROM "t/#"', out: [{ r: false }] },
  { sql: 'SELECT data.a.b AS v FROM "t/#"', ctx: msg({}, { data: '{"a": {"b": 5}}' }), out: [{ v: 5 }], note: 'any JSON string is decoded on a path' },
  { sql: 'SELECT topic.x AS v FROM "t/#"', out: [{ v: undefined }], note: 'a string that is not JSON has no fields' },
  { sql: 'SELECT payload.s.k AS v FROM "t/#"', ctx: msg({ s: '{"k": true}' }), out: [{ v: true }], note: 'JSON text inside the payload' },
  { sql: 'SELECT payload.x AS v FROM "t/#"', ctx: msg('42'), out: [{ v: undefined }], note: 'a payload that is a JSON number' },
  { sql: 'SELECT payload.constructor AS c, payload.toString AS t FROM "t/#"', ctx: msg({}), out: [{ c: undefined, t: undefined }], note: 'no inherited properties' },
  { sql: 'SELECT payload.__proto__ AS p FROM "t/#"', ctx: msg('{"__proto__": {"a": 1}}'), out: [{ p: { a: 1 } }], note: 'an own __proto__ key' },
  { sql: 'SELECT json_decode(payload).a AS a FROM "t/#"', ctx: msg({ a: 3 }), out: [{ a: 3 }], note: 'a path after a call' },
  { sql: 'SELECT (payload.a).b AS b FROM "t/#"', ctx: msg({ a: { b: 4 } }), out: [{ b: 4 }], note: 'a path after parentheses' },
  { sql: 'select json_decode(payload) as p, p[1] as a from "t/#"', ctx: msg('[{"x": 1}]'), out: [{ p: [{ x: 1 }], a: { x: 1 } }] },
  { sql: 'select json_decode(payload) as p, p[1] as a from "t/#"', ctx: msg('{"x": 1}'), out: [{ p: { x: 1 }, a: undefined }] },
  { sql: 'select payload.a[1..4] as c from "t/#"', ctx: msg('{"a":[0,1,2,3,4,5]}'), out: [{ c: [0, 1, 2, 3] }] },
  { sql: 'select payload.a[1..4] from "t/#"', ctx: msg('{"a":[0,1,2,3,4,5]}'), out: [{ payload: { a: [0, 1, 2, 3] } }] },
  { sql: 'select a[2..4] from "t/#"', ctx: msg('', { a: [1, 2, 3, 4, 5] }), out: [{ a: [2, 3, 4] }] },
  { sql: 'SELECT payload.a[2..-1] AS c, payload.a[-2..-1] AS d, payload.a[3..3] AS e FROM "t/#"', ctx: msg({ a: [1, 2, 3, 4, 5] }), out: [{ c: [2, 3, 4, 5], d: [4, 5], e: [3] }] },
  { sql: 'SELECT payload.a[2..9] AS c FROM "t/#"', ctx: msg({ a: [1, 2, 3] }), out: [{ c: [2, 3] }], note: 'a range past the end is cut' },
  { sql: 'SELECT payload.a[1..4] AS c FROM "t/#" WHERE payload.a[2..2] = [1]', ctx: msg({ a: [0, 1, 2, 3, 4] }), out: [{ c: [0, 1, 2, 3] }] },
  { sql: 'select [1..4] from "t/#"', ctx: msg(''), out: [{ _v_range_1: [1, 2, 3, 4] }] },
  { sql: 'SELECT [-2..2] AS r, [3..2] AS empty FROM "t/#"', out: [{ r: [-2, -1, 0, 1, 2], empty: [] }] },
])

table('literals', [
  { sql: 'SELECT 1.5 AS a, 2.5e2 AS b, 1e3 AS c, 007 AS d, 1.100 AS e, 0 AS f FROM "t/#"', out: [{ a: 1.5, b: 250, c: 1000, d: 7, e: 1.1, f: 0 }] },
  { sql: 'SELECT -1.5 AS a, - 2 AS b, -(-3) AS c, -payload.x AS d FROM "t/#"', ctx: msg({ x: 4 }), out: [{ a: -1.5, b: -2, c: 3, d: -4 }] },
  { sql: "SELECT +'abc' AS s, +1 AS n FROM \"t/#\"", out: [{ s: 'abc', n: 1 }], note: 'unary + leaves the value as it is' },
  { sql: "SELECT 'it''s' AS s FROM \"t/#\"", out: [{ s: "it's" }], note: 'a doubled quote in a string' },
  { sql: "SELECT 'a\\nb' AS s FROM \"t/#\"", out: [{ s: 'a\\nb' }], note: 'no backslash escapes' },
  { sql: "SELECT '' AS s FROM \"t/#\"", out: [{ s: '' }] },
  { sql: "SELECT '测试' AS s FROM \"t/#\"", out: [{ s: '测试' }] },
  { sql: 'SELECT TRUE AS a, False AS b FROM "t/#"', out: [{ a: true, b: false }] },
  { sql: "SELECT [] AS a, [1, 'x', [2, 3]] AS b, [payload.a, qos] AS c FROM \"t/#\"", ctx: msg({ a: 'A' }), out: [{ a: [], b: [1, 'x', [2, 3]], c: ['A', 1] }] },
  { sql: 'select [21 + 21, abs(-abs(-2)), [1 + 1], 4] as l from "t/#"', ctx: msg(''), out: [{ l: [42, 2, [2], 4] }] },
])

table('arithmetic', [
  { sql: 'select 1-1 as a from "t/#"', ctx: msg(''), out: [{ a: 0 }] },
  { sql: 'select -1 + 1 as a from "t/#"', ctx: msg(''), out: [{ a: 0 }] },
  { sql: 'select 1 + 1 as a from "t/#"', ctx: msg(''), out: [{ a: 2 }] },
  { sql: 'select +1 as a from "t/#"', ctx: msg(''), out: [{ a: 1 }] },
  { sql: 'select 2 mod 2 as mod1, mod(3, 2) as mod2, 4 div 2 as div1, div(7, 2) as div2 from "t/#"', out: [{ mod1: 0, mod2: 1, div1: 2, div2: 3 }] },
  { sql: 'SELECT 2 + 3 * 4 AS a, (2 + 3) * 4 AS b, 10 - 4 - 3 AS c, 2 * 3 mod 4 AS d, -2 * 3 AS e FROM "t/#"', out: [{ a: 14, b: 20, c: 3, d: 2, e: -6 }] },
  { sql: 'SELECT 7 / 2 AS a, 6 / 3 AS b, 1 / 4 AS c FROM "t/#"', out: [{ a: 3.5, b: 2, c: 0.25 }], note: '/ divides exactly' },
  { sql: 'SELECT 7 div 2 AS a, -7 div 2 AS b, 7 DIV -2 AS c FROM "t/#"', out: [{ a: 3, b: -3, c: -3 }], note: 'div truncates toward zero' },
  { sql: 'SELECT 7 mod 3 AS a, -7 mod 2 AS b, 7 MOD -2 AS c, 4 mod 2 AS d FROM "t/#"', out: [{ a: 1, b: -1, c: 1, d: 0 }], note: 'mod takes the sign of the dividend' },
  { sql: 'SELECT 0.1 + 0.2 AS a, 1.5 * 2 AS b, 10 - 0.5 AS c FROM "t/#"', out: [{ a: 0.1 + 0.2, b: 3, c: 9.5 }] },
  { sql: 'SELECT (payload.integer_field + 2) * 2 as num FROM "t/#"', ctx: msg({ integer_field: 3 }), out: [{ num: 10 }], note: 'EMQX docs' },
  { sql: 'SELECT payload.a * payload.b - payload.c / 2 AS r FROM "t/#"', ctx: msg({ a: 3, b: 4, c: 5 }), out: [{ r: 9.5 }] },
  { sql: 'SELECT -payload.a * 2 AS r, - -payload.a AS s FROM "t/#"', ctx: msg({ a: 3 }), out: [{ r: -6, s: 3 }] },
  { sql: 'SELECT 0 * -1 AS z FROM "t/#"', out: [{ z: 0 }], note: 'no negative zero' },
])

table('string concatenation with +', [
  { sql: "SELECT 'a' + 'b' AS s FROM \"t/#\"", out: [{ s: 'ab' }] },
  { sql: "SELECT 'n' + 1 AS a, 1.5 + 'x' AS b, 'x' + 1.25 AS c FROM \"t/#\"", out: [{ a: 'n1', b: '1.5x', c: 'x1.25' }] },
  { sql: "SELECT 'x' + true AS a, 'x' + payload.n AS b, 'x' + missing AS c FROM \"t/#\"", ctx: msg({ n: null }), out: [{ a: 'xtrue', b: 'xnull', c: 'xundefined' }] },
  { sql: "SELECT 'v=' + (1 / 3) AS a, 'v=' + 0.1 * 3 AS b, 'v=' + 1e-12 AS c FROM \"t/#\"", out: [{ a: 'v=0.3333333333', b: 'v=0.3', c: 'v=0.0' }], note: 'floats print with up to 10 decimals' },
  { sql: "SELECT 'o=' + payload.o AS a, 'l=' + payload.l AS b FROM \"t/#\"", ctx: msg({ o: { k: 1 }, l: [1, 'a'] }), out: [{ a: 'o={"k":1}', b: 'l=[1,"a"]' }], note: 'maps and lists as JSON' },
  { sql: "SELECT (upper(clientid) + '_UPPERCASE_LETTERS') as cid FROM \"t/#\"", out: [{ cid: 'C1_UPPERCASE_LETTERS' }], note: 'EMQX docs' },
  { sql: "SELECT clientid + '/' + qos + '/' + topic AS k FROM \"t/#\"", out: [{ k: 'c1/1/t/a' }] },
  { sql: "SELECT 1 + 2 + 'x' AS a, 'x' + 1 + 2 AS b FROM \"t/#\"", out: [{ a: '3x', b: 'x12' }], note: 'left to right' },
])

table('comparisons', [
  { sql: 'SELECT 1 = 1 AS a, 1 = 1.0 AS b, 2 > 1 AS c, 1 != 2 AS d, 1 <> 1 AS e, 3 <= 3 AS f, 3 >= 4 AS g, 2 < 1 AS h FROM "t/#"', out: [{ a: true, b: true, c: true, d: true, e: false, f: true, g: false, h: false }] },
  { sql: "SELECT 'b' > 'a' AS a, 'abc' = 'abc' AS b, 'abc' < 'abd' AS c, 'Z' < 'a' AS d, 'é' > 'z' AS e FROM \"t/#\"", out: [{ a: true, b: true, c: true, d: true, e: true }] },
  { sql: "SELECT '10' > '9' AS a FROM \"t/#\"", out: [{ a: false }], note: 'two strings compare as text' },
  { sql: "SELECT payload.n = '10' AS a, payload.n > '9' AS b, payload.s = 10 AS c, payload.s < 9.5 AS d FROM \"t/#\"", ctx: msg({ n: 10, s: '10' }), out: [{ a: true, b: true, c: true, d: false }], note: 'a number and a numeric string compare as numbers' },
  { sql: "SELECT 1.5 = '1.5' AS a, 2 = '2.0' AS b, -3 = '-3' AS c, 1000 = '1.0e3' AS d FROM \"t/#\"", out: [{ a: true, b: true, c: true, d: true }] },
  { sql: "SELECT payload.f = 'true' AS a, payload.f = true AS b, payload.n = 'null' AS c, 'false' = false AS d FROM \"t/#\"", ctx: msg({ f: true, n: null }), out: [{ a: true, b: true, c: true, d: true }], note: 'true/false/null against a string compare as names' },
  { sql: 'SELECT payload.arr = [1, 2] AS a, payload.obj = payload.obj2 AS b, payload.obj = payload.obj3 AS c, payload.arr != [2, 1] AS d FROM "t/#"', ctx: msg({ arr: [1, 2], obj: { a: 1, b: [1] }, obj2: { b: [1], a: 1 }, obj3: { a: 1 } }), out: [{ a: true, b: true, c: false, d: true }], note: 'lists and maps compare by content' },
  { sql: "SELECT true > 1 AS a, payload.obj < payload.arr AS b, payload.arr < 'x' AS c, null > true AS d FROM \"t/#\"", ctx: msg({ obj: { a: 1 }, arr: [] }), out: [{ a: true, b: true, c: true, d: false }], note: 'mixed types follow Erlang term order' },
  { sql: 'SELECT [1, 2] < [1, 3] AS a, [1, 2] < [1, 2, 0] AS b, [2] > [1, 9] AS c FROM "t/#"', out: [{ a: true, b: true, c: true }] },
  {
    sql: 'SELECT payload.nope = 1 AS a, payload.nope != 1 AS b, payload.nope = payload.nope2 AS c, payload.nope < 1 AS d, payload.nope >= payload.nope2 AS e, payload.nope != payload.nope2 AS f FROM "t/#"',
    ctx: msg({}),
    out: [{ a: false, b: false, c: true, d: false, e: true, f: false }],
    note: 'a missing value: every comparison with it is false, except missing = missing',
  },
  { sql: 'SELECT payload.n = payload.nope AS a, payload.n = null AS b FROM "t/#"', ctx: msg({ n: null }), out: [{ a: false, b: false }], note: 'JSON null is not missing; `null` is just a field name' },
])

table('topic match =~', [
  { sql: "SELECT topic =~ 't/#' AS a, topic =~ 't/+' AS b, topic =~ 't/b' AS c, topic =~ '+/+/+' AS d, topic =~ '#' AS e, topic =~ 't/a' AS f FROM \"#\"", out: [{ a: true, b: true, c: false, d: false, e: true, f: true }] },
  { sql: "SELECT topic =~ 't/#' AS a, topic =~ 't/+' AS b FROM \"#\"", ctx: msg({}, { topic: 't' }), out: [{ a: true, b: false }], note: 't/# also matches t' },
  { sql: "SELECT topic =~ '#' AS a, topic =~ '$SYS/#' AS b, topic =~ '+/x' AS c, topic =~ '$SYS/+' AS d FROM \"#\"", ctx: msg({}, { topic: '$SYS/x' }), out: [{ a: false, b: true, c: false, d: true }], note: '$ topics and leading wildcards' },
  { sql: "SELECT topic =~ 'a/+/c' AS a, topic =~ 'a/+' AS b, topic =~ 'a//c' AS c FROM \"#\"", ctx: msg({}, { topic: 'a//c' }), out: [{ a: true, b: false, c: true }], note: 'empty levels' },
  { sql: "SELECT missing =~ 't/#' AS a, flags =~ '#' AS b FROM \"#\"", out: [{ a: false, b: false }], note: 'only strings match' },
  { sql: "SELECT clientid FROM \"$events/session_subscribed\" WHERE topic =~ 't/#' and qos = 1", ctx: { clientid: 'c9', topic: 't/1/2', qos: 1 }, out: [{ clientid: 'c9' }], note: 'EMQX docs' },
  { sql: "SELECT clientid FROM \"$events/session_subscribed\" WHERE topic =~ 't/#' and qos = 1", ctx: { clientid: 'c9', topic: 'u/1', qos: 1 }, out: [] },
])

table('IN and NOT IN', [
  { sql: "SELECT clientid FROM \"t/#\" WHERE clientid IN ('c1', 'c2')", out: [{ clientid: 'c1' }] },
  { sql: "SELECT clientid FROM \"t/#\" WHERE clientid IN ('c2', 'c3')", out: [] },
  { sql: "SELECT clientid FROM \"t/#\" WHERE clientid NOT IN ('c2', 'c3')", out: [{ clientid: 'c1' }] },
  { sql: "SELECT clientid FROM \"t/#\" WHERE clientid not in ('c1')", out: [] },
  { sql: "SELECT payload.x IN (1, 2, 3) AS a, payload.x NOT IN (1, 2) AS b, payload.x IN ('3') AS c, payload.x IN (1 + 2) AS d FROM \"t/#\"", ctx: msg({ x: 3 }), out: [{ a: true, b: true, c: false, d: true }], note: 'IN does not convert strings' },
  { sql: "SELECT payload.x IN (qos, payload.y) AS a FROM \"t/#\"", ctx: msg({ x: 'b', y: 'b' }), out: [{ a: true }] },
  { sql: 'SELECT payload.l IN ([1, 2], [3]) AS a FROM "t/#"', ctx: msg({ l: [3] }), out: [{ a: true }] },
  { sql: 'SELECT nope IN (1) AS a, nope NOT IN (1) AS b FROM "t/#"', out: [{ a: false, b: true }] },
  { sql: "SELECT * FROM \"t/#\" WHERE NOT clientid IN ('c1')", out: [] },
])

table('CASE', [
  ...[
    [1, 1],
    [0, 0],
    [-1, 0],
    [7, 7],
    [8, 7],
  ].map(([x, y]) => ({
    sql: 'select case when payload.x < 0 then 0 when payload.x > 7 then 7 else payload.x end as y from "t/#"',
    ctx: msg({ x: x! }),
    out: [{ y: y! }],
    note: `x = ${x}`,
  })),
  ...[
    [1, 2],
    [2, 3],
    [4, 4],
    [7, 4],
    [8, 4],
  ].map(([x, y]) => ({
    sql: 'select case payload.x when 1 then 2 when 2 then 3 else 4 end as y from "t/#"',
    ctx: msg({ x: x! }),
    out: [{ y: y! }],
    note: `x = ${x}`,
  })),
  ...[
    [1, undefined],
    [5, undefined],
    [0, undefined],
    [-1, 0],
    [7, undefined],
    [8, 7],
  ].map(([x, y]) => ({
    sql: 'select case when payload.x < 0 then 0 when payload.x > 7 then 7 end as y from "t/#"',
    ctx: msg({ x: x! }),
    out: [{ y }],
    note: `no ELSE, x = ${x}`,
  })),
  { sql: "SELECT CASE payload.x WHEN '1' THEN 'text' WHEN 1 THEN 'number' END AS y FROM \"t/#\"", ctx: msg({ x: 1 }), out: [{ y: 'number' }], note: 'CASE x WHEN matches exactly' },
  { sql: "SELECT CASE WHEN payload.x > 0 THEN 'pos' ELSE 'neg' END + '!' AS s FROM \"t/#\"", ctx: msg({ x: 2 }), out: [{ s: 'pos!' }] },
  { sql: "SELECT CASE WHEN payload.a THEN 'a' WHEN payload.b THEN 'b' ELSE 'none' END AS s FROM \"t/#\"", ctx: msg({ a: 1, b: true }), out: [{ s: 'b' }], note: 'a WHEN that is not true is skipped' },
  { sql: "SELECT CASE WHEN qos = 1 AND clientid = 'c1' THEN 'yes' END AS s FROM \"t/#\"", out: [{ s: 'yes' }] },
  { sql: "SELECT CASE WHEN qos = 0 THEN 'a' WHEN qos = 1 THEN CASE WHEN retain THEN 'b' ELSE 'c' END END AS s FROM \"t/#\"", ctx: msg({}, { retain: false }), out: [{ s: 'c' }], note: 'nested CASE' },
  { sql: "SELECT case when payload.x < 0 then 0 else payload.x end FROM \"t/#\"", ctx: msg({ x: 4 }), out: [{ _v_case_1: 4 }] },
  { sql: "SELECT * FROM \"t/#\" WHERE CASE WHEN qos = 1 THEN true ELSE false END", out: [msg()] },
])

table('WHERE', [
  { sql: "SELECT * FROM \"t/#\" WHERE username = 'eric'", ctx: msg({}, { username: 'eric' }), out: [msg({}, { username: 'eric' })], note: 'EMQX docs' },
  { sql: "SELECT * FROM \"t/#\" WHERE username = 'eric'", out: [] },
  { sql: 'select * from "t/#" where payload.cmd.info = \'tt\'', ctx: cmd, out: [cmd] },
  { sql: 'SELECT * FROM "#" WHERE payload.x.y = 1', ctx: msg({ x: { y: 1 }, other: 'field' }), out: [msg({ x: { y: 1 }, other: 'field' })] },
  { sql: "SELECT * FROM \"t/#\" WHERE payload.name = 'sensor_1' and payload.temprature > 39", ctx: msg({ name: 'sensor_1', temprature: 40 }), out: [msg({ name: 'sensor_1', temprature: 40 })] },
  { sql: "SELECT * FROM \"t/#\" WHERE payload.name = 'sensor_1' and payload.temprature > 39", ctx: msg({ name: 'sensor_1', temprature: 39 }), out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE payload.a = 1 OR payload.b = 2 AND payload.c = 3', ctx: msg({ a: 0, b: 2, c: 4 }), out: [], note: 'AND binds tighter than OR' },
  { sql: 'SELECT qos FROM "t/#" WHERE payload.a = 1 OR payload.b = 2 AND payload.c = 3', ctx: msg({ a: 1, b: 0, c: 0 }), out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE (payload.a = 1 OR payload.b = 2) AND payload.c = 3', ctx: msg({ a: 1, b: 0, c: 0 }), out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE NOT payload.x = 1', ctx: msg({ x: 2 }), out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE NOT payload.x = 1 AND qos = 1', ctx: msg({ x: 1 }), out: [], note: 'NOT binds tighter than AND' },
  { sql: 'SELECT qos FROM "t/#" WHERE NOT (payload.x = 1 OR qos = 1)', ctx: msg({ x: 2 }), out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE NOT NOT qos = 1', out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE NOT payload.missing', ctx: msg({}), out: [], note: 'NOT of a non-boolean is false' },
  { sql: 'SELECT qos FROM "t/#" WHERE is_not_null(payload.x)', ctx: msg({ x: 0 }), out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE is_not_null(payload.x)', ctx: msg({ y: 0 }), out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE true', out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE false', out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE payload.ok', ctx: msg({ ok: true }), out: [{ qos: 1 }], note: 'a boolean field' },
  { sql: 'SELECT qos FROM "t/#" WHERE payload.ok', ctx: msg({ ok: false }), out: [] },
  { sql: 'SELECT qos FROM "t/#" WHERE qos = 1 AND payload.a = 1 AND clientid = \'c1\'', ctx: msg({ a: 1 }), out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE qos = 0 OR qos = 2 OR qos = 1', out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE qos = 0 AND payload.crash.x = 1', ctx: msg('not json'), out: [], note: 'AND stops at the first false' },
  { sql: 'SELECT qos FROM "t/#" WHERE qos = 1 OR payload.crash.x = 1', ctx: msg('not json'), out: [{ qos: 1 }], note: 'OR stops at the first true' },
  { sql: "SELECT qos FROM \"t/#\" WHERE payload.x > 20 AND payload.x < 30", ctx: msg({ x: 25 }), out: [{ qos: 1 }] },
  { sql: 'SELECT qos FROM "t/#" WHERE payload.temp > 20', ctx: msg({ temp: '25' }), out: [{ qos: 1 }], note: 'a numeric string compared with a number' },
])

table('functions', [
  { sql: 'SELECT abs(payload.x) AS a, upper(clientid) AS u FROM "t/#"', ctx: msg({ x: -3 }), out: [{ a: 3, u: 'C1' }] },
  { sql: 'SELECT UPPER(clientid) AS u, Abs(-1) AS a FROM "t/#"', out: [{ u: 'C1', a: 1 }], note: 'function names are case-insensitive' },
  { sql: 'SELECT emqx_rule_funcs.upper(clientid) AS u FROM "t/#"', out: [{ u: 'C1' }], note: 'the built-in module may be named' },
  { sql: 'SELECT clientid() AS c FROM "t/#"', out: [{ c: 'c1' }], note: 'a function may read the event' },
  { sql: 'SELECT upper(str(qos + 1)) AS s FROM "t/#"', out: [{ s: '2' }] },
  { sql: "SELECT map_get('k', payload, 'default') AS v FROM \"t/#\"", ctx: msg({}, { payload: { k: 'v' } }), out: [{ v: 'v' }] },
  { sql: 'SELECT abs(1 + payload.x * 2) AS v FROM "t/#"', ctx: msg({ x: -3 }), out: [{ v: 5 }] },
])

describe('compiled rules are reusable', () => {
  it('evaluates many events with one compiled rule, each independently', () => {
    const rule = compileStatement('SELECT payload.t AS t, clientid FROM "s/#" WHERE payload.t > 20', { functions })
    assert.deepEqual(rule.evaluate(msg({ t: 25 })), [{ t: 25, clientid: 'c1' }])
    assert.deepEqual(rule.evaluate(msg({ t: 5 })), [])
    assert.deepEqual(rule.evaluate(msg({ t: 30 }, { clientid: 'c2' })), [{ t: 30, clientid: 'c2' }])
    assert.deepEqual(rule.sources, ['s/#'])
  })

  it('does not modify the context, nor outputs of earlier events', () => {
    const rule = compileStatement("SELECT *, 1 AS pub_props.x, 'n' AS payload.name FROM \"t/#\"", { functions })
    const ctx = msg({ name: 'a' })
    const copy = structuredClone(ctx)
    const first = rule.evaluate(ctx)
    assert.deepEqual(ctx, copy)
    assert.deepEqual(first, [{ ...copy, pub_props: { 'User-Property': { foo: 'bar' }, x: 1 }, payload: { name: 'n' } }])
    const again = rule.evaluate(ctx)
    assert.deepEqual(again, first)
    assert.notEqual(again[0], first[0])
  })

  it('returns a fresh list for a range literal each time', () => {
    const rule = compileStatement('SELECT [1..3] AS r FROM "t/#"', { functions })
    const a = rule.evaluate(msg())[0]!['r'] as number[]
    a.push(99)
    assert.deepEqual(rule.evaluate(msg())[0]!['r'], [1, 2, 3])
  })

  it('writes an own __proto__ key instead of changing the prototype', () => {
    const rule = compileStatement('SELECT 1 AS "__proto__".polluted FROM "t/#"', { functions })
    const [out] = rule.evaluate(msg())
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: 1 })
    assert.equal(({} as Ctx)['polluted'], undefined)
  })

  it('accepts a byte buffer payload', () => {
    const rule = compileStatement('SELECT payload.x AS x FROM "t/#"', { functions })
    assert.deepEqual(rule.evaluate(msg({}, { payload: Buffer.from('{"x": [1]}') })), [{ x: [1] }])
  })
})
