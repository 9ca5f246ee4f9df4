// Status from real deliveries: a real MQTT device, the real PostgreSQL server. A rule whose
// insert targets a table that is gone leaves the connector `connected` while its delivery is
// `failing` (code and message from PostgreSQL) and the rule counts actions.failed; creating the
// table heals it. An insert blocked by another session's lock leaves messages in flight with
// nothing delivered: `stalled`, until the lock goes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { sharedPostgres } from '../support/postgres.js'
import { AUTH, eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

function pgClient(): pg.Client {
  const s = sharedPostgres()
  return new pg.Client({ host: s.host, port: s.port, database: s.database, user: s.user, password: s.password })
}

async function count(client: pg.Client, table: string): Promise<number> {
  return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
}

describe('delivery health against PostgreSQL', () => {
  let j: TestJunction
  const db = pgClient()
  const locker = pgClient()
  const missing = randomName('health_missing')
  const locked = randomName('health_locked')
  let connectorId = ''

  before(async () => {
    await Promise.all([db.connect(), locker.connect()])
    j = await startJunction()
    const s = sharedPostgres()
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: s.host, port: s.port, database: s.database, username: s.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    await eventually(() => j.api('GET', `${connectors}/${connectorId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await locker.query('ROLLBACK').catch(() => undefined)
    await locker.end().catch(() => undefined)
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${missing}`).catch(() => undefined)
    await db.query(`DROP TABLE IF EXISTS ${locked}`).catch(() => undefined)
    await db.end()
  })

  it('a missing table: connected but failing with the code and message; actions.failed counts; creating the table heals it', async () => {
    // The table exists while the rule is saved (a check at save time may refuse a missing one),
    // then goes: what the runtime meets when someone drops a table under a running rule.
    await db.query(`CREATE TABLE ${missing} (clientid text, n int)`)
    const rule = await j.api('POST', rules, {
      name: 'to a table that goes', sql: 'SELECT clientid, payload.n AS n FROM "health/missing"',
      actions: [{ connectorId, params: { sql: `INSERT INTO ${missing} (clientid, n) VALUES (\${clientid}, \${n})` } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await db.query(`DROP TABLE ${missing}`)

    const fresh = (await j.api('GET', `${connectors}/${connectorId}`)).body
    assert.deepEqual(fresh.delivery, { state: 'ok', failingActions: 0, stalledActions: 0 }, 'nothing sent yet: ok')

    const sensor = await device(j, 'health-dev')
    for (let n = 0; n < 20; n++) await sensor.publishAsync('health/missing', JSON.stringify({ n }), { qos: 1 })
    const ruleView = await eventually(() => j.api('GET', `${rules}/${rule.body.id}`), (r) => r.body.metrics.rule.actions.failed === 20, 'the rule counts 20 failed actions', 15_000)
    assert.deepEqual(ruleView.body.metrics.rule.actions, { total: 20, success: 0, failed: 20, discarded: 0 })
    const action = ruleView.body.metrics.actions[0]
    assert.equal(action.health.state, 'failing')
    assert.equal(action.health.code, 'INVALID_STATEMENT')
    assert.equal(action.lastErrorCode, 'INVALID_STATEMENT')
    assert.match(action.health.message, new RegExp(`relation "${missing}" does not exist`))
    assert.ok(Date.parse(action.health.since) <= Date.now())

    const details = (await j.api('GET', `${connectors}/${connectorId}`)).body
    assert.equal(details.status, 'connected', 'status stays about the connection')
    assert.equal(details.statusCode, null)
    assert.equal(details.delivery.state, 'failing')
    assert.equal(details.delivery.code, 'INVALID_STATEMENT')
    assert.match(details.delivery.reason, /does not exist/)
    assert.equal(details.delivery.since, action.health.since)
    assert.deepEqual([details.delivery.failingActions, details.delivery.stalledActions], [1, 0])
    const listed = (await j.api('GET', connectors)).body.data.find((c: { id: string }) => c.id === connectorId)
    assert.deepEqual(listed.delivery, details.delivery, 'the list shows it too')

    const text = (await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: AUTH } })).body
    assert.match(text, new RegExp(`junction_rule_actions_failed_total\\{deployment="default",rule="${rule.body.id}"\\} 20`))
    assert.match(text, new RegExp(`junction_rule_actions_total\\{deployment="default",rule="${rule.body.id}"\\} 20`))
    assert.match(text, new RegExp(`junction_action_failing\\{deployment="default",rule="${rule.body.id}",action="0",target="${connectorId}"\\} 1`))
    assert.match(text, new RegExp(`junction_connector_delivery_failing\\{deployment="default",connector="${connectorId}",type="postgresql"\\} 1`))
    assert.match(text, new RegExp(`junction_connector_connected\\{deployment="default",connector="${connectorId}",type="postgresql"\\} 1`))

    await db.query(`CREATE TABLE ${missing} (clientid text, n int)`)
    await sensor.publishAsync('health/missing', JSON.stringify({ n: 100 }), { qos: 1 })
    await sensor.endAsync()
    const healed = await eventually(() => j.api('GET', `${connectors}/${connectorId}`), (r) => r.body.delivery.state === 'ok', 'delivery back to ok', 15_000)
    assert.deepEqual(healed.body.delivery, { state: 'ok', failingActions: 0, stalledActions: 0 })
    assert.deepEqual((await db.query(`SELECT clientid, n FROM ${missing}`)).rows, [{ clientid: 'health-dev', n: 100 }])
    const after = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics
    assert.deepEqual(after.rule.actions, { total: 21, success: 1, failed: 20, discarded: 0 })
    assert.deepEqual(after.actions[0].health, { state: 'ok' })
    assert.equal(after.actions[0].lastErrorCode, 'INVALID_STATEMENT', 'the last error stays on record')
    assert.ok((await j.api('DELETE', `${rules}/${rule.body.id}`)).status < 300)
  })

  it('inserts blocked by a lock: connected, messages in flight, nothing delivered -> stalled; the lock goes -> ok', async () => {
    await db.query(`CREATE TABLE ${locked} (n int)`)
    // TTL 20 s: stalled after a quarter of it (5 s), well before the blocked sends time out.
    const rule = await j.api('POST', rules, {
      name: 'to a locked table', sql: 'SELECT payload.n AS n FROM "health/locked"',
      actions: [{ connectorId, params: { sql: `INSERT INTO ${locked} (n) VALUES (\${n})` }, options: { requestTtlMs: 20_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    const sensor = await device(j, 'health-locked')
    // One delivery first, so the action's statement is ready before the table is locked.
    await sensor.publishAsync('health/locked', JSON.stringify({ n: 0 }), { qos: 1 })
    await eventually(() => count(db, locked), (n) => n === 1, 'the first row')

    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${locked} IN ACCESS EXCLUSIVE MODE`)
    for (let n = 1; n <= 3; n++) await sensor.publishAsync('health/locked', JSON.stringify({ n }), { qos: 1 })
    await sensor.endAsync()
    const stalled = await eventually(() => j.api('GET', `${connectors}/${connectorId}`), (r) => r.body.delivery.state === 'stalled', 'delivery stalled', 15_000)
    assert.equal(stalled.body.status, 'connected')
    assert.equal(stalled.body.delivery.stalledActions, 1)
    assert.equal(stalled.body.delivery.failingActions, 0)
    assert.match(stalled.body.delivery.reason, /^3 message\(s\) waiting; nothing delivered for \d+ s$/)
    assert.equal(stalled.body.delivery.code, undefined)
    const metrics = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics
    assert.equal(metrics.actions[0].health.state, 'stalled')
    assert.equal(metrics.actions[0].queuing + metrics.actions[0].inflight, 3)
    assert.deepEqual(metrics.rule.actions, { total: 4, success: 1, failed: 0, discarded: 0 })
    const text = (await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: AUTH } })).body
    assert.match(text, new RegExp(`junction_connector_delivery_stalled\\{deployment="default",connector="${connectorId}",type="postgresql"\\} 1`))

    await locker.query('COMMIT')
    await eventually(() => count(db, locked), (n) => n === 4, 'the blocked rows arrive')
    const healed = await eventually(() => j.api('GET', `${connectors}/${connectorId}`), (r) => r.body.delivery.state === 'ok', 'delivery back to ok')
    assert.equal(healed.body.status, 'connected')
    const done = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics
    assert.deepEqual(done.rule.actions, { total: 4, success: 4, failed: 0, discarded: 0 })
  })
})
