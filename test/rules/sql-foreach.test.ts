/**
 * Conformance of FOREACH / DO / INCASE statements with EMQX's rule engine (its t_sqlparse_foreach_*
 * cases and the documented examples with arrays of sensors), restated as data tables.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileStatement } from '../../src/rules/sql/compiler.js'

type Ctx = Record<string, unknown>
interface Case {
  readonly sql: string
  readonly ctx: Ctx
  readonly out: readonly unknown[]
  readonly note?: string
}

const functions = new Map<string, (...args: unknown[]) => unknown>([
  ['upper', (s) => String(s).toUpperCase()],
  ['is_not_null', (v) => v !== undefined],
  ['is_map', (v) => v !== null && typeof v === 'object' && !Array.isArray(v)],
  ['json_decode', (s) => JSON.parse(String(s)) as unknown],
  ['nth', (n, l) => (l as unknown[])[(n as number) - 1]],
  ['tokens', (s, sep) => String(s).split(String(sep)).filter((x) => x !== '')],
  // sublist(Len, List) / sublist(Start, Len, List), 1-based like lists:sublist
  ['sublist', (...a) => (a.length === 2 ? (a[1] as unknown[]).slice(0, a[0] as number) : (a[2] as unknown[]).slice((a[0] as number) - 1, (a[0] as number) - 1 + (a[1] as number)))],
  ['jq_wrap', (v) => [v]],
])

const TS = 1700000000000

function msg(payload: unknown, extra: Ctx = {}): Ctx {
  return {
    id: '0005f1d2c3b4a000',
    clientid: 'c_steve',
    username: 'u1',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    topic: 't/1',
    qos: 1,
    timestamp: TS,
    node: 'junction@test',
    ...extra,
  }
}

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.note === undefined ? c.sql : `${c.note}: ${c.sql}`, () => {
        const rule = compileStatement(c.sql, { functions })
        assert.equal(rule.isForeach, true)
        assert.deepEqual(rule.evaluate(c.ctx), c.out)
      })
    }
  })
}

const twoSensors = msg('{"sensors": [1, 2]}', { topic: 't/a' })
const cmds = msg('{"sensors": [{"cmd":"1"}, {"cmd":"2"}]}')
const numCmds = msg('{"sensors": [{"cmd":1}, {"cmd":2}, {"cmd":3}]}')

table('FOREACH without DO: each output is the event, the FOREACH fields and the element', [
  { sql: 'foreach payload.sensors as s from "t/#"', ctx: twoSensors, out: [{ ...twoSensors, s: 1 }, { ...twoSensors, s: 2 }] },
  {
    sql: 'foreach payload.sensors from "t/#"',
    ctx: twoSensors,
    out: [
      { ...twoSensors, payload: { sensors: [1, 2] }, item: 1 },
      { ...twoSensors, payload: { sensors: [1, 2] }, item: 2 },
    ],
    note: 'without AS the element is `item` (and payload.sensors is selected as a path)',
  },
  {
    sql: 'foreach payload.sensors from "t/#"',
    ctx: msg('{"sensors": [{"cmd":"1"}, {"cmd":"2","name":"ct"}]}', { clientid: 'c_a' }),
    out: [
      { ...msg('', { clientid: 'c_a' }), payload: { sensors: [{ cmd: '1' }, { cmd: '2', name: 'ct' }] }, item: { cmd: '1' } },
      { ...msg('', { clientid: 'c_a' }), payload: { sensors: [{ cmd: '1' }, { cmd: '2', name: 'ct' }] }, item: { cmd: '2', name: 'ct' } },
    ],
  },
  { sql: 'foreach payload.sensors as s incase s.cmd != 1 from "t/#"', ctx: numCmds, out: [{ ...numCmds, s: { cmd: 2 } }, { ...numCmds, s: { cmd: 3 } }] },
  {
    sql: 'foreach payload.sensors incase item.cmd != 1 from "t/#"',
    ctx: numCmds,
    out: [
      { ...numCmds, payload: { sensors: [{ cmd: 1 }, { cmd: 2 }, { cmd: 3 }] }, item: { cmd: 2 } },
      { ...numCmds, payload: { sensors: [{ cmd: 1 }, { cmd: 2 }, { cmd: 3 }] }, item: { cmd: 3 } },
    ],
  },
  { sql: 'FOREACH payload.sensors AS s DO * FROM "t/#"', ctx: twoSensors, out: [{ ...twoSensors, s: 1 }, { ...twoSensors, s: 2 }], note: 'DO * is the whole binding' },
  { sql: 'FOREACH payload.sensors AS s DO *, s * 10 AS ten FROM "t/#"', ctx: twoSensors, out: [{ ...twoSensors, s: 1, ten: 10 }, { ...twoSensors, s: 2, ten: 20 }] },
])

table('FOREACH with DO', [
  { sql: 'foreach payload.sensors as s do s.cmd as msg_type from "t/#"', ctx: cmds, out: [{ msg_type: '1' }, { msg_type: '2' }] },
  { sql: 'foreach payload.sensors do item.cmd as msg_type from "t/#"', ctx: cmds, out: [{ msg_type: '1' }, { msg_type: '2' }] },
  { sql: 'foreach payload.sensors do item as item from "t/#"', ctx: twoSensors, out: [{ item: 1 }, { item: 2 }] },
  { sql: 'foreach payload.sensors do item from "t/#"', ctx: twoSensors, out: [{ item: 1 }, { item: 2 }], note: 'a DO field without AS' },
  { sql: 'foreach payload.sensors as s do s.cmd as m, clientid, qos from "t/#"', ctx: cmds, out: [{ m: '1', clientid: 'c_steve', qos: 1 }, { m: '2', clientid: 'c_steve', qos: 1 }] },
  { sql: 'foreach payload.sensors as s do s.cmd from "t/#"', ctx: cmds, out: [{ s: { cmd: '1' } }, { s: { cmd: '2' } }], note: 'a DO path without AS nests' },
  { sql: 'foreach payload.sensors as s do s.cmd as a.b, 1 as a.c from "t/#"', ctx: cmds, out: [{ a: { b: '1', c: 1 } }, { a: { b: '2', c: 1 } }] },
  {
    sql: "FOREACH payload.sensors AS s DO CASE WHEN s > 1 THEN 'big' ELSE 'small' END AS size FROM \"t/#\"",
    ctx: twoSensors,
    out: [{ size: 'small' }, { size: 'big' }],
  },
  { sql: 'FOREACH [1..3] AS n DO n * 10 AS v FROM "t/#"', ctx: msg(''), out: [{ v: 10 }, { v: 20 }, { v: 30 }], note: 'a range literal' },
  { sql: "FOREACH ['a', 'b'] AS x DO x + '!' AS v FROM \"t/#\"", ctx: msg(''), out: [{ v: 'a!' }, { v: 'b!' }], note: 'a list literal' },
  { sql: 'FOREACH payload.sensors AS s DO s AS v, s AS w FROM "t/#"', ctx: twoSensors, out: [{ v: 1, w: 1 }, { v: 2, w: 2 }] },
  { sql: 'FOREACH payload.sensors AS s DO s AS v, v + 1 AS w FROM "t/#"', ctx: twoSensors, out: [{ v: 1, w: 2 }, { v: 2, w: 3 }], note: 'DO fields see earlier DO aliases' },
])

table('FOREACH with DO and INCASE', [
  { sql: 'foreach payload.sensors as s do s.cmd as msg_type, s.name as name incase is_not_null(s.cmd) from "t/#"', ctx: cmds, out: [{ msg_type: '1', name: undefined }, { msg_type: '2', name: undefined }] },
  {
    sql: 'foreach payload.sensors as s do s.cmd as msg_type, s.name as name incase is_not_null(s.cmd) from "t/#"',
    ctx: msg('{"sensors": [{"cmd":"1", "name":"n1"}, {"cmd":"2"}, {"name":"n3"}]}'),
    out: [{ msg_type: '1', name: 'n1' }, { msg_type: '2', name: undefined }],
  },
  { sql: 'foreach payload.sensors as s do s.cmd as msg_type, s.name as name incase is_not_null(s.cmd) from "t/#"', ctx: twoSensors, out: [], note: 'numbers have no cmd' },
  { sql: 'FOREACH payload.sensors AS s DO s AS v INCASE s IN (1, 3) FROM "t/#"', ctx: msg('{"sensors": [1, 2, 3]}'), out: [{ v: 1 }, { v: 3 }] },
  { sql: 'FOREACH payload.sensors AS s DO s AS v INCASE s > 1 AND s < 3 FROM "t/#"', ctx: msg('{"sensors": [1, 2, 3]}'), out: [{ v: 2 }] },
  { sql: 'FOREACH payload.sensors AS s DO s AS v INCASE NOT s = 2 FROM "t/#"', ctx: msg('{"sensors": [1, 2, 3]}'), out: [{ v: 1 }, { v: 3 }] },
  { sql: "FOREACH payload.sensors AS s DO s AS v INCASE clientid = 'c_steve' FROM \"t/#\"", ctx: twoSensors, out: [{ v: 1 }, { v: 2 }], note: 'INCASE sees the event too' },
  { sql: 'FOREACH payload.sensors AS s DO s AS v INCASE false FROM "t/#"', ctx: twoSensors, out: [] },
])

table('FOREACH on what is not a list', [
  { sql: 'foreach payload.sensors as s do s.cmd as msg_type, s.name as name from "t/#"', ctx: msg('{"sensors": 1}'), out: [] },
  { sql: 'foreach payload.sensors as s do s.cmd as msg_type, s.name as name from "t/#"', ctx: msg('{"sensors": []}'), out: [] },
  { sql: 'foreach payload.sensors from "t/#"', ctx: msg('{"sensors": 1}'), out: [] },
  { sql: 'foreach payload.sensors from "t/#"', ctx: msg('{"other": 1}'), out: [], note: 'missing' },
  { sql: 'foreach payload.sensors from "t/#"', ctx: msg('{"sensors": {"a": 1}}'), out: [], note: 'a map' },
  { sql: 'foreach payload from "t/#"', ctx: msg('{"a": 1}'), out: [], note: 'a payload that is a JSON map' },
  { sql: "foreach payload.sensors from 't/#', \"$events/client_connected\"", ctx: msg('{"sensors": 1}', { topic: 't/a' }), out: [], note: 'both kinds of quotes in FROM' },
])

table('FOREACH over a decoded payload and cascaded aliases', [
  {
    sql: 'foreach json_decode(payload) do item.id as zid, timestamp as t from "t/#"',
    ctx: msg('[{"id": 5},{"id": 15}]'),
    out: [{ zid: 5, t: TS }, { zid: 15, t: TS }],
  },
  { sql: 'foreach json_decode(payload) as p do p.ts as ts from "t/#"', ctx: msg([{ ts: 1451649600512, values: { respiratoryrate: 20, heartrate: 130, systolic: 50 } }]), out: [{ ts: 1451649600512 }] },
  { sql: 'foreach payload as p do p.ts as ts from "t/#"', ctx: msg([{ ts: 1451649600512, values: { heartrate: 130 } }]), out: [{ ts: 1451649600512 }], note: 'the payload itself is decoded' },
  { sql: 'foreach payload as item do item.data as next_data from "t/#"', ctx: msg('[{"data": "value1"}, {"data": "value2"}]'), out: [{ next_data: 'value1' }, { next_data: 'value2' }] },
  {
    sql: "foreach json_decode(payload) as p, p.sensors as s, s.collection as c, c.info as info do info.cmd as msg_type, info.name as name incase is_not_null(info.cmd) from \"t/#\" where s.page = '2'",
    ctx: msg('{"sensors": {"page": 2, "collection": {"info":[{"name":"cmd1", "cmd":"1"}, {"cmd":"2"}]} } }'),
    out: [{ msg_type: '1', name: 'cmd1' }, { msg_type: '2', name: undefined }],
  },
  {
    sql: "foreach json_decode(payload) as p, p.sensors as s, s.collection as c, c.info as info do info.cmd as msg_type, info.name as name incase is_not_null(info.cmd) from \"t/#\" where s.page = '3'",
    ctx: msg('{"sensors": {"page": 2, "collection": {"info":[{"name":"cmd1", "cmd":"1"}, {"cmd":"2"}]} } }'),
    out: [],
    note: 'WHERE false',
  },
  {
    sql: "foreach json_decode(payload) as p, p.sensors as s, s.collection as c, c.info as info do info.cmd as msg_type, info.name as name, s, c incase is_map(info) from \"t/#\" where s.page = '2'",
    ctx: msg('{"sensors": {"page": 2, "collection": {"info":["haha", {"name":"cmd1", "cmd":"1"}]} } }'),
    out: [
      {
        msg_type: '1',
        name: 'cmd1',
        s: { page: 2, collection: { info: ['haha', { name: 'cmd1', cmd: '1' }] } },
        c: { info: ['haha', { name: 'cmd1', cmd: '1' }] },
      },
    ],
  },
  {
    sql: "foreach json_decode(payload) as p, p.sensors as s, s.collection as c, sublist(2,1,c.info) as info do info.cmd as msg_type, info.name as name from \"t/#\" where s.page = '2'",
    ctx: msg('{"sensors": {"page": 2, "collection": {"info":["haha", {"name":"cmd1", "cmd":"1"}]} } }'),
    out: [{ msg_type: '1', name: 'cmd1' }],
  },
  {
    sql: 'FOREACH payload.data as d, d.sensors as s DO s.name AS name FROM "t/#"',
    ctx: msg({ date: '2020-04-24', data: { sensors: [{ name: 'a', idx: 0 }, { name: 'b', idx: 1 }] } }),
    out: [{ name: 'a' }, { name: 'b' }],
    note: 'EMQX docs: a name for the payload data before the array',
  },
  {
    sql: 'FOREACH payload.data as d, d.sensors as s FROM "t/#"',
    ctx: msg({ data: { sensors: [7] } }),
    out: [{ ...msg({ data: { sensors: [7] } }), d: { sensors: [7] }, s: 7 }],
    note: 'every FOREACH alias is in the output without DO',
  },
  { sql: 'FOREACH jq_wrap(payload) AS it DO it.field_1, it.field_2 FROM "t/#"', ctx: msg({ field_1: 1, field_2: 2 }), out: [{ it: { field_1: 1, field_2: 2 } }], note: 'DO paths without AS nest under the element name' },
])

const sensors = msg({
  date: '2020-04-24',
  sensors: [
    { name: 'a', idx: 0 },
    { name: 'b', idx: 1 },
    { name: 'c', idx: 2 },
  ],
})

table('EMQX documentation: sensors', [
  {
    sql: 'FOREACH\n    payload.sensors\nFROM "t/#"',
    ctx: sensors,
    out: [0, 1, 2].map((i) => ({ ...sensors, payload: { sensors: (JSON.parse(sensors['payload'] as string) as { sensors: unknown[] }).sensors }, item: { name: 'abc'[i], idx: i } })),
    note: 'example 1',
  },
  {
    sql: 'FOREACH\n    payload.sensors\nDO\n    clientid,\n    item.name as name,\n    item.idx as idx\nINCASE\n    item.idx >= 1\nFROM "t/#"',
    ctx: sensors,
    out: [
      { clientid: 'c_steve', name: 'b', idx: 1 },
      { clientid: 'c_steve', name: 'c', idx: 2 },
    ],
    note: 'example 2',
  },
  {
    sql: 'FOREACH\n    payload.sensors as s\nDO\n    clientid,\n    s.name as name,\n    s.idx as idx\nINCASE\n    s.idx >= 1\nFROM "t/#"',
    ctx: sensors,
    out: [
      { clientid: 'c_steve', name: 'b', idx: 1 },
      { clientid: 'c_steve', name: 'c', idx: 2 },
    ],
    note: 'example 2 with AS',
  },
  {
    sql: "FOREACH\n    payload.sensors as s\nDO\n    nth(2, tokens(clientid,'_')) as clientid,\n    s.name as name,\n    s.idx as idx\nINCASE\n    s.idx >= 1\nFROM \"t/#\"",
    ctx: sensors,
    out: [
      { clientid: 'steve', name: 'b', idx: 1 },
      { clientid: 'steve', name: 'c', idx: 2 },
    ],
    note: 'example 3',
  },
  {
    sql: 'FOREACH\n    payload.sensors as sensor\nDO\n    timestamp,\n    clientid,\n    upper(sensor.name) as name,\n    sensor.idx as idx\nINCASE\n    sensor.idx >= 1\nFROM "t/#"',
    ctx: sensors,
    out: [
      { timestamp: TS, clientid: 'c_steve', name: 'B', idx: 1 },
      { timestamp: TS, clientid: 'c_steve', name: 'C', idx: 2 },
    ],
    note: 'the syntax page example',
  },
  {
    sql: "FOREACH payload.sensors as e DO clientid, e.name as name, e.idx as idx INCASE e.idx >= 1 FROM \"t/#\" WHERE payload.date = '2020-04-24'",
    ctx: sensors,
    out: [
      { clientid: 'c_steve', name: 'b', idx: 1 },
      { clientid: 'c_steve', name: 'c', idx: 2 },
    ],
    note: 'with WHERE on the payload',
  },
  {
    sql: "FOREACH payload.sensors as e DO clientid, e.name as name FROM \"t/#\" WHERE payload.date = '2021-01-01'",
    ctx: sensors,
    out: [],
    note: 'WHERE false',
  },
  {
    sql: 'FOREACH payload.sensors as e DO e.name as name FROM "t/#" WHERE e != []',
    ctx: sensors,
    out: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
    note: 'WHERE sees the FOREACH alias (the whole list)',
  },
])

describe('FOREACH results are independent', () => {
  it('gives each output its own object and leaves the context alone', () => {
    const rule = compileStatement('FOREACH payload.sensors AS s FROM "t/#"', { functions })
    const ctx = msg({ sensors: [1, 2] })
    const before = structuredClone(ctx)
    const out = rule.evaluate(ctx)
    assert.equal(out.length, 2)
    assert.notEqual(out[0], out[1])
    assert.deepEqual(ctx, before)
    assert.deepEqual(rule.sources, ['t/#'])
  })
})
