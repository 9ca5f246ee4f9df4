/**
 * FROM sources: MQTT topic filters, event topics and their fields, and the topic matching used by
 * `=~` and by the rule engine.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileStatement } from '../../src/rules/sql/compiler.js'
import {
  DOCUMENTED_EVENT_TOPICS,
  EVENT_FIELDS,
  EVENT_NAMES,
  EVENT_TOPICS,
  eventNameForSource,
  fieldsForSource,
  isEventSource,
  MESSAGE_PUBLISH_EVENT_TOPIC,
} from '../../src/rules/sql/events.js'
import { topicFilterProblem, topicMatches } from '../../src/rules/sql/topic.js'

const functions = new Map<string, (...args: unknown[]) => unknown>()
const compile = (sql: string) => compileStatement(sql, { functions })

describe('FROM sources', () => {
  const cases: readonly [sql: string, sources: readonly string[], isForeach: boolean][] = [
    ['SELECT * FROM "t/a"', ['t/a'], false],
    ['SELECT * FROM "t/a","t/b"', ['t/a', 't/b'], false],
    ['SELECT * FROM "t/#", "my/other/topic"', ['t/#', 'my/other/topic'], false],
    ["SELECT * FROM 't/#'", ['t/#'], false],
    ["select clientid, topic as tp from 't/tt', \"$events/client_connected\"", ['t/tt', '$events/client_connected'], false],
    ['SELECT * FROM "#"', ['#'], false],
    ['SELECT * FROM "+/+/temp"', ['+/+/temp'], false],
    ['SELECT * FROM "$SYS/brokers/#"', ['$SYS/brokers/#'], false],
    ['SELECT x FROM "测试专用topic"', ['测试专用topic'], false],
    ['SELECT x FROM abc', ['abc'], false],
    ['SELECT * FROM "a//b"', ['a//b'], false],
    ['SELECT * FROM "$events/client_connected"', ['$events/client_connected'], false],
    ['SELECT * FROM "$events/client/connected"', ['$events/client/connected'], false],
    ['SELECT * FROM "$bridges/mqtt:my_bridge"', ['$bridges/mqtt:my_bridge'], false],
    ['SELECT * FROM "$sources/mqtt:in"', ['$sources/mqtt:in'], false],
    ['SELECT * FROM "t/1", "$events/message_delivered", "$events/message_acked"', ['t/1', '$events/message_delivered', '$events/message_acked'], false],
    ['FOREACH payload.s FROM "t/#", "u/+"', ['t/#', 'u/+'], true],
    ['FOREACH payload.s DO item AS i INCASE item > 1 FROM "t/#" WHERE qos = 1', ['t/#'], true],
  ]
  for (const [sql, sources, isForeach] of cases) {
    it(sql, () => {
      const rule = compile(sql)
      assert.deepEqual(rule.sources, sources)
      assert.equal(rule.isForeach, isForeach)
    })
  }

  it('accepts every event topic', () => {
    for (const topic of EVENT_TOPICS) assert.deepEqual(compile(`SELECT * FROM "${topic}"`).sources, [topic])
  })
})

describe('event topics and fields', () => {
  it('has the events EMQX 5 documents', () => {
    for (const t of [
      '$events/client_connected',
      '$events/client_disconnected',
      '$events/client_connack',
      '$events/client_check_authz_complete',
      '$events/client_check_authn_complete',
      '$events/session_subscribed',
      '$events/session_unsubscribed',
      '$events/message_delivered',
      '$events/message_acked',
      '$events/message_dropped',
      '$events/delivery_dropped',
    ]) {
      assert.ok(EVENT_TOPICS.includes(t), t)
      assert.ok(DOCUMENTED_EVENT_TOPICS.includes(t), t)
    }
    assert.ok(!EVENT_TOPICS.includes(MESSAGE_PUBLISH_EVENT_TOPIC))
    assert.ok(!DOCUMENTED_EVENT_TOPICS.includes('$events/client/connected'))
  })

  it('names the same event for both spellings of an event topic', () => {
    assert.equal(EVENT_NAMES['$events/client_connected'], 'client.connected')
    assert.equal(EVENT_NAMES['$events/client/connected'], 'client.connected')
    assert.equal(EVENT_NAMES['$events/delivery_dropped'], 'delivery.dropped')
    assert.equal(EVENT_NAMES['$events/message/delivery_dropped'], 'delivery.dropped')
    assert.equal(EVENT_NAMES['$events/client_check_authz_complete'], 'client.check_authz_complete')
    assert.equal(eventNameForSource('$events/session_subscribed'), 'session.subscribed')
    assert.equal(eventNameForSource('t/#'), 'message.publish')
    assert.equal(eventNameForSource('$SYS/#'), 'message.publish')
    assert.equal(eventNameForSource('$bridges/mqtt:b'), '$bridges/mqtt:b')
    assert.equal(eventNameForSource('$events/nope'), undefined)
    assert.equal(isEventSource('$events/client_connected'), true)
    assert.equal(isEventSource('$bridges/mqtt:b'), true)
    assert.equal(isEventSource('t/#'), false)
  })

  it('lists the fields of every event, and the message fields for plain topics', () => {
    assert.deepEqual(Object.keys(EVENT_FIELDS).sort(), [...EVENT_TOPICS, MESSAGE_PUBLISH_EVENT_TOPIC].sort())
    for (const [topic, fields] of Object.entries(EVENT_FIELDS)) {
      assert.ok(fields.includes('event'), topic)
      assert.equal(new Set(fields).size, fields.length, `${topic} lists a field twice`)
    }
    const publish = EVENT_FIELDS[MESSAGE_PUBLISH_EVENT_TOPIC]!
    for (const f of ['id', 'clientid', 'username', 'payload', 'peerhost', 'topic', 'qos', 'flags', 'headers', 'pub_props', 'timestamp', 'publish_received_at', 'node', 'client_attrs']) {
      assert.ok(publish.includes(f), f)
    }
    assert.deepEqual(fieldsForSource('t/#'), publish)
    const expectations: Record<string, readonly string[]> = {
      '$events/message_delivered': ['id', 'from_clientid', 'from_username', 'clientid', 'username', 'payload', 'peerhost', 'topic', 'qos', 'flags', 'pub_props', 'timestamp', 'publish_received_at', 'node'],
      '$events/message_acked': ['from_clientid', 'puback_props', 'pub_props'],
      '$events/message_dropped': ['id', 'reason', 'clientid', 'payload', 'topic'],
      '$events/delivery_dropped': ['reason', 'from_clientid', 'from_username', 'clientid'],
      '$events/client_connected': ['clientid', 'username', 'mountpoint', 'peername', 'sockname', 'proto_name', 'proto_ver', 'keepalive', 'clean_start', 'expiry_interval', 'is_bridge', 'connected_at', 'conn_props', 'timestamp', 'node', 'client_attrs'],
      '$events/client_disconnected': ['reason', 'clientid', 'username', 'peername', 'sockname', 'disconnected_at', 'disconn_props', 'timestamp', 'node', 'client_attrs'],
      '$events/client_connack': ['reason_code', 'clientid', 'username', 'peername', 'sockname', 'proto_name', 'proto_ver', 'keepalive', 'clean_start', 'expiry_interval', 'conn_props', 'timestamp', 'node'],
      '$events/client_check_authz_complete': ['clientid', 'username', 'peerhost', 'topic', 'action', 'result', 'authz_source', 'timestamp', 'node', 'client_attrs'],
      '$events/client_check_authn_complete': ['clientid', 'username', 'peername', 'reason_code', 'is_superuser', 'is_anonymous', 'client_attrs'],
      '$events/session_subscribed': ['clientid', 'username', 'peerhost', 'topic', 'qos', 'sub_props', 'timestamp', 'node', 'client_attrs'],
      '$events/session_unsubscribed': ['clientid', 'username', 'peerhost', 'topic', 'qos', 'unsub_props', 'timestamp', 'node', 'client_attrs'],
    }
    for (const [topic, fields] of Object.entries(expectations)) {
      for (const f of fields) assert.ok(EVENT_FIELDS[topic]!.includes(f), `${topic} has ${f}`)
    }
    assert.ok(!EVENT_FIELDS['$events/client_connected']!.includes('payload'))
    assert.deepEqual(EVENT_FIELDS['$events/client/connected'], EVENT_FIELDS['$events/client_connected'])
    assert.ok(fieldsForSource('$bridges/mqtt:b').includes('server'))
    assert.deepEqual(fieldsForSource('$events/nope'), [])
  })

  it('keeps the exported tables frozen', () => {
    assert.ok(Object.isFrozen(EVENT_TOPICS))
    assert.ok(Object.isFrozen(EVENT_FIELDS))
    assert.ok(Object.isFrozen(EVENT_FIELDS['$events/client_connected']))
    assert.ok(Object.isFrozen(EVENT_NAMES))
  })
})

describe('rules on event contexts', () => {
  const now = 1700000000000
  const cases: readonly [sql: string, ctx: Record<string, unknown>, out: readonly unknown[]][] = [
    ['select topic as tp from "$events/session_subscribed"', { topic: 't/tt', event: 'session.subscribed' }, [{ tp: 't/tt' }]],
    ['select clientid from "$events/client_connected"', { clientid: 'abc', event: 'client.connected' }, [{ clientid: 'abc' }]],
    ['select clientid, topic as tp from "t/tt", "$events/client_connected"', { clientid: 'abc', topic: 't/tt' }, [{ clientid: 'abc', tp: 't/tt' }]],
    ["SELECT peername as ip_port FROM \"$events/client_connected\" WHERE clientid = 'c1'", { clientid: 'c1', peername: '10.0.0.9:51000' }, [{ ip_port: '10.0.0.9:51000' }]],
    ["SELECT peername as ip_port FROM \"$events/client_connected\" WHERE clientid = 'c1'", { clientid: 'c2', peername: '10.0.0.9:51000' }, []],
    ["SELECT * FROM \"$events/client_connected\" WHERE username = 'emqx1'", { clientid: 'c_emqx1', username: 'emqx1' }, [{ clientid: 'c_emqx1', username: 'emqx1' }]],
    ["SELECT clientid FROM \"$events/session_subscribed\" WHERE topic = 'my/topic' and qos = 1", { clientid: 'c1', topic: 'my/topic', qos: 1 }, [{ clientid: 'c1' }]],
    ["SELECT clientid FROM \"$events/session_subscribed\" WHERE topic = 'my/topic' and qos = 1", { clientid: 'c1', topic: 'my/topic', qos: 0 }, []],
    [
      'SELECT from_clientid, from_username, topic, qos, node, timestamp FROM "$events/message_delivered"',
      { id: 'x', from_clientid: 'c_emqx_1', from_username: 'u_emqx_1', clientid: 'c_emqx_2', topic: 't/a', qos: 1, node: 'emqx@127.0.0.1', timestamp: now },
      [{ from_clientid: 'c_emqx_1', from_username: 'u_emqx_1', topic: 't/a', qos: 1, node: 'emqx@127.0.0.1', timestamp: now }],
    ],
    ["SELECT reason FROM \"$events/client_disconnected\" WHERE reason = 'normal'", { reason: 'normal' }, [{ reason: 'normal' }]],
    ["SELECT clientid, reason_code FROM \"$events/client_connack\" WHERE reason_code != 'success'", { clientid: 'c', reason_code: 'not_authorized' }, [{ clientid: 'c', reason_code: 'not_authorized' }]],
    ["SELECT clientid FROM \"$events/client_check_authz_complete\" WHERE result = 'deny' AND action = 'publish'", { clientid: 'c', result: 'deny', action: 'publish' }, [{ clientid: 'c' }]],
    ['SELECT clientid, payload.x AS x FROM "$events/message_dropped" WHERE reason = \'no_subscribers\'', { clientid: 'c', reason: 'no_subscribers', payload: '{"x": 1}' }, [{ clientid: 'c', x: 1 }]],
    ["SELECT pub_props.'User-Property' AS user_properties, clientid FROM \"$events/message_dropped\"", { clientid: 'pub-02', pub_props: { 'User-Property': { mykey: '222' } } }, [{ user_properties: { mykey: '222' }, clientid: 'pub-02' }]],
    ['SELECT conn_props.\'Session-Expiry-Interval\' AS sei FROM "$events/client_connected"', { conn_props: { 'Session-Expiry-Interval': 7200 } }, [{ sei: 7200 }]],
    ['SELECT client_attrs.test AS t FROM "$events/client_connected"', { client_attrs: { test: 'example' } }, [{ t: 'example' }]],
  ]
  for (const [sql, ctx, out] of cases) {
    it(sql, () => assert.deepEqual(compile(sql).evaluate(ctx), out))
  }
})

describe('topicMatches', () => {
  const cases: readonly [filter: string, topic: string, match: boolean][] = [
    ['t/a', 't/a', true],
    ['t/a', 't/b', false],
    ['t/a', 't/a/b', false],
    ['t/+', 't/a', true],
    ['t/+', 't', false],
    ['t/+', 't/a/b', false],
    ['t/+', 't/', true],
    ['t/#', 't', true],
    ['t/#', 't/a', true],
    ['t/#', 't/a/b/c', true],
    ['t/#', 'u/a', false],
    ['#', 'a', true],
    ['#', 'a/b', true],
    ['#', '/a', true],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+/+', '/a', true],
    ['+/b/#', 'a/b', true],
    ['+/b/#', 'a/c', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['sensors/+/temp', 'sensors/1/temp', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/+', '$SYS/x', true],
    ['$events/#', '$events/client_connected', true],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
    ['A/b', 'a/b', false],
    ['t/a', 't/a/', false],
  ]
  for (const [filter, topic, match] of cases) it(`${filter} ${match ? 'matches' : 'does not match'} ${topic}`, () => assert.equal(topicMatches(filter, topic), match))
})

describe('topicFilterProblem', () => {
  const ok = ['#', '+', 'a/b', 'a/+/b', 'a/#', '+/+', '/', '$SYS/#', 'a//b', '测试']
  const bad = ['', 'a/#/b', '#/a', 'a#', 'a/b+', '+a', 'a\u0000b']
  for (const f of ok) it(`accepts ${JSON.stringify(f)}`, () => assert.equal(topicFilterProblem(f), undefined))
  for (const f of bad) it(`rejects ${JSON.stringify(f)}`, () => assert.equal(typeof topicFilterProblem(f), 'string'))
})
