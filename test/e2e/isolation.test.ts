// One slow or failing connector never slows another: a rule with two actions, one to a broker
// that hangs (SIGSTOP) and one to PostgreSQL; PostgreSQL gets every row while the other holds.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { startPrivateMosquitto, type PrivateMosquitto } from '../support/mosquitto.js'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

describe('isolation between actions', () => {
  let j: TestJunction
  let broker: PrivateMosquitto
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user })
  const table = randomName('isolated')

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (seq integer NOT NULL)`)
    broker = await startPrivateMosquitto({ anonymous: true })
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    broker?.thaw()
    await broker?.destroy()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  it('a hung MQTT broker does not delay PostgreSQL deliveries of the same rule', async () => {
    const mq = await j.api('POST', connectors, { name: 'hung', type: 'mqtt', config: { server: `127.0.0.1:${broker.port}`, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000 } } })
    const pgc = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(mq.status, 201)
    assert.equal(pgc.status, 201)
    const rule = await j.api('POST', rules, {
      name: 'both', sql: 'SELECT payload.seq AS seq FROM "iso/#"',
      actions: [
        { connectorId: mq.body.id, params: { topic: 'out/${seq}', qos: 1 }, options: { requestTtlMs: 60_000 } },
        { connectorId: pgc.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` } },
      ],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    for (const id of [mq.body.id, pgc.body.id]) await eventually(() => j.api('GET', `${connectors}/${id}`), (r) => r.body.status === 'connected', 'connected')
    broker.freeze()
    const client = await device(j)
    for (let i = 0; i < 200; i++) await client.publishAsync('iso/1', JSON.stringify({ seq: i }), { qos: 1 })
    await client.endAsync()
    await eventually(async () => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n), (n) => n === 200, 'all PostgreSQL rows', 20_000)
    const [toMqtt, toPg] = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics.actions
    assert.equal(toPg.success, 200)
    assert.ok(toMqtt.success < 200, `the hung broker's action cannot have delivered everything (${toMqtt.success})`)
    assert.equal(toMqtt.matched, toMqtt.success + toMqtt.failed + toMqtt.dropped + toMqtt.queuing + toMqtt.inflight)
    broker.thaw()
    await eventually(async () => (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics.actions[0], (a) => a.success === 200, 'the MQTT action catches up', 60_000)
  })
})
