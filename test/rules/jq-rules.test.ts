// jq in running rules and the rule tester, end to end: Junction in-process with its real broker and
// API, real MQTT clients. A runaway jq program fails its messages within its timeout (then at once,
// while it is quarantined), and Junction keeps serving: other rules and the API answer.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { MqttClient } from 'mqtt'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device } from '../e2e/support.js'

const RULES = '/api/v1/deployments/default/rules'

describe('jq in rules', () => {
  let j: TestJunction
  let dev: MqttClient
  let sub: MqttClient
  const received: { topic: string; payload: string }[] = []

  before(async () => {
    j = await startJunction({ logLevel: 'silent' })
    dev = await device(j, 'jq-dev')
    sub = await device(j, 'jq-sub')
    await sub.subscribeAsync('jqout/#', { qos: 1 })
    sub.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }))
  })
  after(async () => {
    await dev?.endAsync()
    await sub?.endAsync()
    await j?.close()
  })

  async function rule(name: string, sql: string, outTopic: string): Promise<string> {
    const created = await j.api('POST', RULES, { name, sql, actions: [{ builtin: 'republish', params: { topic: outTopic, payload: '${r}', qos: 1 } }] })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    return created.body.id as string
  }
  const metrics = async (id: string) => (await j.api('GET', `${RULES}/${id}`)).body.metrics.rule as { matched: number; passed: number; failed: number; lastError: string | null }

  it('transforms messages with a jq program', async () => {
    await rule('jq-double', `SELECT jq('.a * 2', payload) AS r FROM "jqin/#"`, 'jqout/double')
    await dev.publishAsync('jqin/1', JSON.stringify({ a: 21 }), { qos: 1 })
    await eventually(async () => received.filter((m) => m.topic === 'jqout/double'), (ms) => ms.length === 1, 'the republished result')
    assert.deepStrictEqual(JSON.parse(received.find((m) => m.topic === 'jqout/double')!.payload), [42])
  })

  it('fails a runaway program within its timeout, then at once, and keeps serving', async () => {
    const id = await rule('jq-loop', `SELECT jq('def f: f; f', payload, 300) AS r FROM "jqloop/#"`, 'jqout/loop')
    await dev.publishAsync('jqloop/1', '{}', { qos: 1 })
    const first = await eventually(() => metrics(id), (m) => m.failed === 1, 'the first runaway message to fail')
    assert.match(first.lastError ?? '', /jq.*timeout: the program ran for more than 300 ms/)
    await dev.publishAsync('jqloop/2', '{}', { qos: 1 })
    const second = await eventually(() => metrics(id), (m) => m.failed === 2, 'the second runaway message to fail')
    assert.match(second.lastError ?? '', /refused without running/)
    assert.equal(second.passed, 0)
    assert.equal(received.filter((m) => m.topic === 'jqout/loop').length, 0)

    // The API answers and another jq rule still works (on a new jq thread).
    assert.equal((await j.api('GET', '/api/v1/health')).status, 200)
    await dev.publishAsync('jqin/2', JSON.stringify({ a: 5 }), { qos: 1 })
    await eventually(async () => received.filter((m) => m.topic === 'jqout/double'), (ms) => ms.length === 2, 'a result after the runaway')
    assert.deepStrictEqual(JSON.parse(received.filter((m) => m.topic === 'jqout/double')[1]!.payload), [10])
  })

  it('rules/test runs jq and reports its errors as a failed evaluation', async () => {
    const ok = await j.api('POST', `${RULES}/test`, { sql: `SELECT jq('.[] | .v', payload) AS r FROM "t/#"`, context: { topic: 't/1', payload: '[{"v": 1}, {"v": "x"}]' } })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.deepStrictEqual(ok.body, { matched: true, output: { r: [1, 'x'] } })
    const bad = await j.api('POST', `${RULES}/test`, { sql: `SELECT jq('.a |', payload) AS r FROM "t/#"`, context: { topic: 't/1', payload: '{}' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED')
    assert.match(bad.body.error.message, /jq.*syntax error/)
  })

  it('rules/test: a FOREACH over an empty or non-list collection matches with no outputs, as EMQX answers []', async () => {
    for (const payload of ['{"sensors": []}', '{"sensors": 1}', '{}']) {
      const res = await j.api('POST', `${RULES}/test`, { sql: 'FOREACH payload.sensors AS s DO s.cmd AS cmd FROM "t/#"', context: { topic: 't/1', payload } })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.deepStrictEqual(res.body, { matched: true, outputs: [] }, payload)
    }
    const whereFalse = await j.api('POST', `${RULES}/test`, { sql: `FOREACH payload.sensors AS s FROM "t/#" WHERE clientid = 'nobody'`, context: { topic: 't/1', payload: '{"sensors": [1]}', clientid: 'c1' } })
    assert.equal(whereFalse.status, 200)
    assert.equal(whereFalse.body.matched, false)
    const some = await j.api('POST', `${RULES}/test`, { sql: 'FOREACH payload.sensors AS s DO s AS v FROM "t/#"', context: { topic: 't/1', payload: '{"sensors": [1, 2]}' } })
    assert.deepStrictEqual(some.body, { matched: true, outputs: [{ v: 1 }, { v: 2 }], output: { v: 1 } })
  })

  it('rules/test: context functions read the sample event', async () => {
    const res = await j.api('POST', `${RULES}/test`, { sql: `SELECT topic() AS t, topic(2) AS l, clientid() AS c, payload('a.b') AS b FROM "t/#"`, context: { topic: 't/x', clientid: 'c9', payload: '{"a": {"b": 3}}' } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepStrictEqual(res.body.output, { t: 't/x', l: 'x', c: 'c9', b: 3 })
  })
})
