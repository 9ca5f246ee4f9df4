// The rules API: validation before anything is stored, the SQL tester, ruleCount and the delete guard.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sharedPostgres } from '../support/postgres.js'
import { startJunction, type TestJunction } from '../support/junction.js'

const rulesUrl = '/api/v1/deployments/default/rules'

describe('rules API', () => {
  let j: TestJunction
  let pgId: string

  before(async () => {
    j = await startJunction()
    const pg = sharedPostgres()
    const c = await j.api('POST', '/api/v1/deployments/default/connectors', { name: 'pg', type: 'postgresql', config: { host: pg.host, port: pg.port, database: pg.database, username: pg.user } })
    assert.equal(c.status, 201)
    pgId = c.body.id
  })
  after(async () => { await j.close() })

  it('bad SQL -> 400 INVALID_SQL with line and column; nothing stored', async () => {
    const r = await j.api('POST', rulesUrl, { name: 'bad', sql: 'SELECT payload.t\nFROM WHERE x', actions: [] })
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'INVALID_SQL')
    assert.equal(r.body.error.line, 2)
    assert.equal(typeof r.body.error.column, 'number')
    assert.ok(r.body.error.message.includes('line 2'))
    assert.deepEqual((await j.api('GET', rulesUrl)).body.data, [])
  })

  it('actions are validated: unknown connector, other deployment, bad params, bad builtin -> 400 with paths', async () => {
    const other = await j.api('POST', '/api/v1/deployments', { name: 'other' })
    const pg = sharedPostgres()
    const foreign = await j.api('POST', `/api/v1/deployments/${other.body.id}/connectors`, { name: 'pg', type: 'postgresql', config: { host: pg.host, database: pg.database, username: pg.user } })
    assert.equal(foreign.status, 201)
    const r = await j.api('POST', rulesUrl, {
      name: 'r', sql: 'SELECT * FROM "t/#"',
      actions: [
        { connectorId: 'c-nothere2', params: {} },
        { connectorId: foreign.body.id, params: { sql: 'x' } },
        { connectorId: pgId, params: { sqll: 'x' } },
        { builtin: 'teleport', params: {} },
        { builtin: 'republish', params: { qos: 3 } },
        { connectorId: pgId, params: { sql: 'INSERT INTO x VALUES (${id})' }, options: { batchSize: 0 } },
      ],
    })
    assert.equal(r.status, 400)
    const paths = r.body.error.fields.map((f: any) => f.path)
    assert.deepEqual(paths.sort(), [
      'actions.0.connectorId', 'actions.1.connectorId', 'actions.2.params.sql', 'actions.2.params.sqll',
      'actions.3.builtin', 'actions.4.params.qos', 'actions.4.params.topic', 'actions.5.options.batchSize',
    ].sort())
    assert.deepEqual((await j.api('GET', rulesUrl)).body.data, [])
  })

  it('republish MQTT 5 properties: defaults filled in, bad fixed values and malformed templates refused with their paths', async () => {
    const bad = await j.api('POST', rulesUrl, {
      name: 'props', sql: 'SELECT * FROM "t/#"',
      actions: [
        { builtin: 'republish', params: { topic: 't2', mqtt_properties: { 'Message-Expiry-Interval': 'soon', 'Topic-Alias': '1' } } },
        { builtin: 'republish', params: { topic: 't2', mqtt_properties: { 'Response-Topic': 'r/#' }, user_properties: 'x' } },
        { builtin: 'republish', params: { topic: 't2', mqtt_properties: { 'Content-Type': '${a[x]}' } } },
      ],
    })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.body.error.fields.map((f: any) => f.path).sort(), [
      'actions.0.params.mqtt_properties.Message-Expiry-Interval', 'actions.0.params.mqtt_properties.Topic-Alias',
      'actions.1.params.mqtt_properties.Response-Topic', 'actions.2.params.mqtt_properties.Content-Type',
    ])
    assert.ok(bad.body.error.fields.every((f: any) => f.hint), 'every error has a hint')
    const ok = await j.api('POST', rulesUrl, {
      name: 'props', sql: 'SELECT * FROM "t/#"',
      actions: [{ builtin: 'republish', params: { topic: 't2', mqtt_properties: { 'Content-Type': "${pub_props.'Content-Type'}" } } }],
    })
    assert.equal(ok.status, 201, JSON.stringify(ok.body))
    assert.deepEqual(ok.body.actions[0].params, {
      topic: 't2', qos: 0, retain: false, payload: '${payload}',
      mqtt_properties: { 'Content-Type': "${pub_props.'Content-Type'}" }, user_properties: '${user_properties}',
    })
    assert.equal((await j.api('DELETE', `${rulesUrl}/${ok.body.id}`)).status, 204)
  })

  it('the SQL tester runs a rule on a sample event with no side effects', async () => {
    const sql = 'SELECT payload.temp AS t, clientid FROM "sensors/#" WHERE payload.temp > 20'
    const hot = await j.api('POST', `${rulesUrl}/test`, { sql, context: { topic: 'sensors/1', payload: { temp: 25 }, clientid: 'd1' } })
    assert.equal(hot.status, 200, JSON.stringify(hot.body))
    assert.deepEqual(hot.body, { matched: true, output: { t: 25, clientid: 'd1' } })
    const cold = await j.api('POST', `${rulesUrl}/test`, { sql, context: { topic: 'sensors/1', payload: '{"temp": 5}' } })
    assert.equal(cold.body.matched, false)
    const elsewhere = await j.api('POST', `${rulesUrl}/test`, { sql, context: { topic: 'other/1', payload: { temp: 25 } } })
    assert.equal(elsewhere.body.matched, false)
    assert.match(elsewhere.body.reason, /does not match/)
    const bad = await j.api('POST', `${rulesUrl}/test`, { sql: 'SELECT FROM', context: {} })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.code, 'INVALID_SQL')
  })

  it('create, get, update, disable, enable; ruleCount and the connector delete guard follow real rules', async () => {
    const created = await j.api('POST', rulesUrl, {
      name: 'to-pg', sql: 'SELECT * FROM "t/#"', description: 'd',
      // A statement that needs no table passes the check on save (nothing is published here).
      actions: [{ connectorId: pgId, params: { sql: "SELECT pg_notify('nowhere', ${id})" } }],
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.match(created.body.id, /^r-[a-z0-9]{8}$/)
    assert.equal(created.body.actions[0].connectorId, pgId)
    assert.ok(created.body.metrics, 'a running rule has metrics')
    const ruleId = created.body.id
    const conn = await j.api('GET', `/api/v1/deployments/default/connectors/${pgId}`)
    assert.equal(conn.body.ruleCount, 1)
    assert.deepEqual(conn.body.rules, [{ id: ruleId, name: 'to-pg' }])
    const guard = await j.api('DELETE', `/api/v1/deployments/default/connectors/${pgId}?confirm=${pgId}`)
    assert.equal(guard.status, 409)
    assert.deepEqual(guard.body.error.rules, [{ id: ruleId, name: 'to-pg' }])

    const updated = await j.api('PUT', `${rulesUrl}/${ruleId}`, { name: 'to-nothing', actions: [{ builtin: 'republish', params: { topic: 'x/${clientid}' } }] })
    assert.equal(updated.status, 200)
    assert.deepEqual(updated.body.actions, [{ builtin: 'republish', params: { topic: 'x/${clientid}', qos: 0, retain: false, payload: '${payload}', mqtt_properties: {}, user_properties: '${user_properties}' } }])
    assert.equal((await j.api('GET', `/api/v1/deployments/default/connectors/${pgId}`)).body.ruleCount, 0)

    const disabled = await j.api('POST', `${rulesUrl}/${ruleId}/disable`)
    assert.equal(disabled.body.enabled, false)
    assert.equal(disabled.body.metrics, null)
    const enabled = await j.api('POST', `${rulesUrl}/${ruleId}/enable`)
    assert.equal(enabled.body.enabled, true)
    assert.ok(enabled.body.metrics)
    assert.equal((await j.api('DELETE', `${rulesUrl}/${ruleId}`)).status, 204)
    assert.equal((await j.api('GET', `${rulesUrl}/${ruleId}`)).status, 404)
  })
})
