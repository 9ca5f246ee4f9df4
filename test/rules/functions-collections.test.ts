// Map, array, conditional and topic functions: EMQX docs examples, emqx_rule_funcs_SUITE cases, edges.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Case, call, err, runCases } from './functions-cases.js'

const maps: Case[] = [
  // EMQX docs
  ['map_get', ['msg', { msg: 'hello' }], 'hello'],
  ['map_get', ['data', { msg: 'hello' }], undefined],
  ['map_get', ['data', { msg: 'hello' }, ''], ''],
  ['map_get', ['value', { data: [1.2, 1.3] }, []], []],
  ['map_keys', [{ a: 1, b: 2 }], ['a', 'b']],
  ['map_values', [{ a: 1, b: 2 }], [1, 2]],
  ['map_to_entries', [{ a: 1, b: 2 }], [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]],
  ['map_put', ['b', 1, { a: 1 }], { a: 1, b: 1 }],
  ['map_put', ['a', 2, { a: 1 }], { a: 2 }],
  // emqx_rule_funcs_SUITE
  ['map_get', ['a', { a: 1 }], 1],
  ['map_get', ['a', {}], undefined],
  ['map_get', ['a.b', { a: { b: 1 } }], 1],
  ['map_get', ['a.c', { a: { b: 1 } }], undefined],
  ['map_put', ['a', 1, {}], { a: 1 }],
  ['map_put', ['a.b', 1, {}], { a: { b: 1 } }],
  ['map_put', ['a.c', 1, { a: { b: 1 } }], { a: { b: 1, c: 1 } }],
  ['map_keys', ['{"a":"a","b":1,"c":"c"}'], ['a', 'b', 'c']],
  ['map_values', ['{"a":"a","b":1,"c":"c"}'], ['a', 1, 'c']],
  ['map_to_entries', [{}], []],
  ['map_to_entries', ['{"a":1,"b":"b"}'], [{ key: 'a', value: 1 }, { key: 'b', value: 'b' }]],
  ['map_size', [{}], 0],
  ['map_size', [{ a: 'b' }], 1],
  ['map_size', [[]], 0],
  ['map_size', [[['a', 'b']]], 1],
  ['map_size', ['{}'], 0],
  ['map_size', ['{"a" : "b"}'], 1],
  ['map_new', [], {}],
  // JSON text is decoded on the way, JSON null is a value, only own keys count
  ['map_get', ['a.b', '{"a":{"b":2}}'], 2],
  ['map_get', ['a.b', { a: '{"b":3}' }], 3],
  ['map_get', ['b', { b: null }], null],
  ['map_get', ['b', { b: null }, 0], null],
  ['map_get', ['a.b', { a: null }, 0], 0],
  ['map_get', ['x', 'not json', 'd'], 'd'],
  ['map_get', ['toString', {}], undefined],
  ['map_get', [1, {}], err(/expected a string key/)],
  ['map_put', ['a', 1, 'not a map'], { a: 1 }],
  ['map_put', ['__proto__', 1, {}], JSON.parse('{"__proto__":1}')],
  ['map_keys', [5], err(/^map_keys: expected an object, got 5$/)],
  ['map_values', ['[1]'], err(/expected a JSON object/)],
  // mget/mput: suite and docs (an array key is a nested path)
  ['mget', ['a', { a: 1 }], 1],
  ['mget', ['a', '{"a" : 1}'], 1],
  ['mget', ['a.b', { 'a.b': 1 }], 1],
  ['mget', ['a', {}], undefined],
  ['mget', ['c', { a: { b: 1 } }], undefined],
  ['mget', ['a', { a: { b: 1 } }], { b: 1 }],
  ['mget', [['a', 'b'], { a: { b: 1 } }], 1],
  ['mget', ['a', {}, 'default'], 'default'],
  ['mget', [1, { a: 1 }], undefined],
  ['mput', ['a', 1, {}], { a: 1 }],
  ['mput', ['a', 2, { a: 1 }], { a: 2 }],
  ['mput', ['a', 2, '{"a" : 1}'], { a: 2 }],
  ['mput', ['a.b', 2, { 'a.b': 1 }], { 'a.b': 2 }],
  ['mput', [['a', 'b'], 2, { a: { b: 1 } }], { a: { b: 2 } }],
  ['mput', [['a', 'b'], 2, { c: 1 }], { c: 1, a: { b: 2 } }],
  ['mput', ['a', 1, 5], err(/expected an object/)],
  ['mput', [1, 1, {}], err(/expected a string key/)],
  // map_to_redis_hset_args: suite (fields only)
  ['map_to_redis_hset_args', [{}], []],
  ['map_to_redis_hset_args', [{ a: 1 }], ['a', '1']],
  ['map_to_redis_hset_args', [{ a: 1.1 }], ['a', '1.1']],
  ['map_to_redis_hset_args', [{ a: 1.123456789 }], ['a', '1.123457']],
  ['map_to_redis_hset_args', [{ a: true }], ['a', 'true']],
  ['map_to_redis_hset_args', [{ a: false }], ['a', 'false']],
  ['map_to_redis_hset_args', [{ a: '' }], ['a', '']],
  ['map_to_redis_hset_args', [{ a: 'i j' }], ['a', 'i j']],
  ['map_to_redis_hset_args', [{ a: 1, b: 2 }], ['a', '1', 'b', '2']],
  ['map_to_redis_hset_args', [{ a: null, b: [1], c: { d: 1 } }], []],
  ['map_to_redis_hset_args', ['{"a":1}'], ['a', '1']],
  ['map_to_redis_hset_args', ['not json'], []],
  ['map_to_redis_hset_args', [['not map', 'not json either']], []],
]

const arrays: Case[] = [
  // EMQX docs
  ['contains', [2, [1, 2, 3]], true],
  ['contains', [2.3, [1.8, 2.5, 2.0]], false],
  ['contains', ['John', ['John', 'David']], true],
  ['contains', [[1, 2], ['a', 'b', [1, 2]]], true],
  ['contains', [{ a: 1 }, [{ a: 1 }, { b: 2 }]], true],
  ['first', [['John', 'David']], 'John'],
  ['first', [[]], err(/^first: the array is empty$/)],
  ['last', [['John', 'David']], 'David'],
  ['last', [[]], err(/empty/)],
  ['length', [[1, 2, 3, 4]], 4],
  ['length', [[]], 0],
  ['nth', [1, [1, 2, 3]], 1],
  ['nth', [0, [1, 2, 3]], err(/position 0 is out of range 1..3/)],
  ['nth', [4, [1, 2, 3]], err(/position 4 is out of range/)],
  ['sublist', [3, [1, 2, 3, 4]], [1, 2, 3]],
  ['sublist', [10, [1, 2, 3, 4]], [1, 2, 3, 4]],
  ['sublist', [2, 10, [1, 2, 3, 4]], [2, 3, 4]],
  // emqx_rule_funcs_SUITE
  ['contains', [1, [1, 2, 3, 4]], true],
  ['contains', [3, [1, 2, 3, 4]], true],
  ['contains', ['a', ['', 'ab', 3, 'a']], true],
  ['contains', [{ a: 'b' }, [{ a: 1 }, { a: 'b' }]], true],
  ['contains', [{ a: 'b' }, [{ a: 1 }]], false],
  ['contains', [3, [1, 2]], false],
  ['contains', ['c', ['', 'ab', 3, 'a']], false],
  ['contains', [1, 'abc'], err(/expected an array/)],
  ['first', [[1, 2, 3, 4]], 1],
  ['last', [[1, 2, 3, 4]], 4],
  ['nth', [2, [1, 2, 3, 4]], 2],
  ['nth', [4, [1, 2, 3, 4]], 4],
  ['nth', ['1', [1]], err(/expected an integer position/)],
  ['length', ['abc'], err(/expected an array/)],
  ['sublist', [4, [1, 2, 3, 4]], [1, 2, 3, 4]],
  ['sublist', [2, [1, 2, 3, 4]], [1, 2]],
  ['sublist', [4, 1, [1, 2, 3, 4]], [4]],
  ['sublist', [4, 2, [1, 2, 3, 4]], [4]],
  ['sublist', [5, 2, [1, 2, 3, 4]], []],
  ['sublist', [2, 2, [1, 2, 3, 4]], [2, 3]],
  ['sublist', [1, 1, [1, 2, 3, 4]], [1]],
  ['sublist', [6, 1, [1, 2, 3, 4]], err(/start 6 is out of range 1..5/)],
  ['sublist', [0, 1, [1]], err(/start 0 is out of range/)],
  ['sublist', [-1, [1]], err(/length must not be negative/)],
]

const conditional: Case[] = [
  ['coalesce', [[]], undefined],
  ['coalesce', [[undefined, undefined, undefined]], undefined],
  ['coalesce', [[undefined, 42, undefined]], 42],
  ['coalesce', [['hello', undefined]], 'hello'],
  ['coalesce', [['world']], 'world'],
  ['coalesce', ['hello', 'world'], 'hello'],
  ['coalesce', [undefined, 'world'], 'world'],
  ['coalesce', [null, 0], null],
  ['coalesce', ['', 0], ''],
  ['coalesce', ['x'], err(/expected an array/)],
  ['coalesce_ne', [[]], undefined],
  ['coalesce_ne', [['', undefined, '']], undefined],
  ['coalesce_ne', [['', 42, undefined]], 42],
  ['coalesce_ne', [['hello', '']], 'hello'],
  ['coalesce_ne', [['world']], 'world'],
  ['coalesce_ne', ['hello', 'world'], 'hello'],
  ['coalesce_ne', ['', 'world'], 'world'],
  ['coalesce_ne', [undefined, 0], 0],
]

const topics: Case[] = [
  ['contains_topic', [[{ topic: 't/a', qos: 0 }], 't/a'], true],
  ['contains_topic', [[{ topic: 't/a', qos: 0 }], 't/b'], false],
  ['contains_topic', [[{ topic: 't/#', qos: 0 }], 't/a'], false],
  ['contains_topic', [[{ topic: 't/a', qos: 1 }], 't/a', 1], true],
  ['contains_topic', [[{ topic: 't/a', qos: 1 }], 't/a', 0], false],
  ['contains_topic_match', [[{ topic: 't/a', qos: 0 }], 't/#'], true],
  ['contains_topic_match', [[{ topic: 't/a' }], 't/+'], true],
  ['contains_topic_match', [[{ topic: 't' }], 't/#'], true],
  ['contains_topic_match', [[{ topic: 'x/a' }], 't/#'], false],
  ['contains_topic_match', [[{ topic: '$SYS/a' }], '#'], false],
  ['contains_topic_match', [[{ topic: '$SYS/a' }], '$SYS/#'], true],
  ['contains_topic_match', [[{ topic: 't/a/b', qos: 2 }], 't/+/b', 2], true],
  ['contains_topic', ['x', 't'], err(/expected an array of topic filters/)],
]

runCases('map functions', maps)
runCases('array functions', arrays)
runCases('conditional functions', conditional)
runCases('topic filter functions', topics)

describe('map functions leave their input unchanged', () => {
  it('map_put and mput return copies', () => {
    const input = { a: { b: 1 } }
    const out = call('map_put', 'a.c', 2, input)
    assert.deepStrictEqual(input, { a: { b: 1 } })
    assert.deepStrictEqual(out, { a: { b: 1, c: 2 } })
    const out2 = call('mput', ['a', 'b'], 3, input)
    assert.deepStrictEqual(input, { a: { b: 1 } })
    assert.deepStrictEqual(out2, { a: { b: 3 } })
  })
  it('a "__proto__" key is a plain key, not the prototype', () => {
    const out = call('map_put', '__proto__', { polluted: true }, {}) as Record<string, unknown>
    assert.deepStrictEqual(Object.keys(out), ['__proto__'])
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})
