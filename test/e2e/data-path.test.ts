// Devices publish to the embedded broker with a real MQTT client; rules deliver through
// connectors; results are read back from the real resources.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import pg from 'pg'
import { sharedKafka } from '../support/kafka.js'
import { sharedPostgres, startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { AUTH, eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

function pgClient(port = sharedPostgres().port, database = sharedPostgres().database, user = sharedPostgres().user) {
  return new pg.Client({ host: '127.0.0.1', port, database, user })
}

async function count(client: pg.Client, table: string): Promise<number> {
  return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
}

describe('MQTT -> rule -> PostgreSQL', () => {
  let j: TestJunction
  const db = pgClient()
  const table = randomName('readings')

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (clientid text NOT NULL, temp numeric, topic text, raw jsonb, note text)`)
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  it('rows appear with the expected values; metrics add up; injection stored verbatim', async () => {
    const shared = sharedPostgres()
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201)
    const rule = await j.api('POST', rules, {
      name: 'hot readings',
      sql: 'SELECT clientid, payload.temp AS temp, topic, payload AS raw, payload.note AS note FROM "sensors/#" WHERE payload.temp > 20',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (clientid, temp, topic, raw, note) VALUES (\${clientid}, \${temp}, \${topic}, \${raw}, \${note})` } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

    const client = await device(j, 'dev-1')
    const injection = "x'); DROP TABLE " + table + '; --'
    for (let i = 0; i < 50; i++) {
      const temp = i % 2 === 0 ? 25 + i : 10
      await client.publishAsync(`sensors/${i % 3}/temp`, JSON.stringify({ temp, note: i === 0 ? injection : undefined }), { qos: 1 })
    }
    await client.endAsync()

    await eventually(() => count(db, table), (n) => n === 25, '25 rows')
    const first = (await db.query(`SELECT * FROM ${table} WHERE temp = 25`)).rows[0]
    assert.deepEqual([first.clientid, Number(first.temp), first.topic, first.raw.temp, first.note], ['dev-1', 25, 'sensors/0/temp', 25, injection])
    assert.equal((await db.query(`SELECT count(*) AS n FROM ${table} WHERE note IS NULL`)).rows[0].n, '24', 'a missing field is NULL, not "undefined"')

    const metrics = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics
    assert.deepEqual([metrics.rule.matched, metrics.rule.passed, metrics.rule.noResult, metrics.rule.failed], [50, 25, 25, 0])
    const a = metrics.actions[0]
    assert.equal(a.success, 25)
    assert.equal(a.matched, a.success + a.failed + a.dropped + a.queuing + a.inflight)
    const conn = (await j.api('GET', `${connectors}/${c.body.id}`)).body
    assert.equal(conn.metrics.success, 25)
    assert.equal(conn.ruleCount, 1)
    assert.equal(conn.metrics.series.success.length, 60, 'details carry a minute of per-second rates for charts')
    await new Promise((r) => setTimeout(r, 1100)) // the current second joins the series once complete
    const later = (await j.api('GET', `${connectors}/${c.body.id}`)).body
    assert.equal(later.metrics.series.success.reduce((a: number, b: number) => a + b, 0), 25)
    assert.equal((await j.api('GET', connectors)).body.data[0].metrics.series, undefined, 'lists stay small')

    const text = (await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: AUTH } })).body
    assert.match(text, new RegExp(`junction_action_success_total\\{deployment="default",rule="${rule.body.id}",action="0",target="${c.body.id}"\\} 25`))
    assert.match(text, new RegExp(`junction_rule_matched_total\\{deployment="default",rule="${rule.body.id}"\\} 50`))
  })
})

describe('MQTT -> rule -> Kafka, MQTT bridge and republish', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })

  it('records appear in Kafka with key and value from templates', async () => {
    const kafka = sharedKafka()
    const topic = randomName('junction-e2e')
    const c = await j.api('POST', connectors, { name: 'kafka', type: 'kafka', config: { bootstrapServers: kafka.bootstrap } })
    assert.equal(c.status, 201)
    const rule = await j.api('POST', rules, {
      name: 'to-kafka', sql: 'SELECT clientid, payload.seq AS seq FROM "k/#"',
      actions: [{ connectorId: c.body.id, params: { topic, key: '${clientid}', value: '${.}' } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const client = await device(j, 'kdev')
    for (let i = 0; i < 20; i++) await client.publishAsync('k/1', JSON.stringify({ seq: i }), { qos: 1 })
    await client.endAsync()
    assert.ok(await j.junction.deployments.runtime('default').rules.drained(rule.body.id))

    const consumer = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: randomName('g') })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: Array<{ key: string; value: any }> = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push({ key: String(message.key), value: JSON.parse(String(message.value)) }) } })
    try {
      await eventually(async () => got.length, (n) => n >= 20, '20 records')
    } finally {
      await consumer.disconnect()
    }
    assert.equal(got.length, 20)
    assert.deepEqual(got.map((r) => r.value.seq).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))
    assert.ok(got.every((r) => r.key === 'kdev' && r.value.clientid === 'kdev'))
  })

  it('messages reach the machine Mosquitto through the MQTT connector', async () => {
    const prefix = randomName('bridge')
    const c = await j.api('POST', connectors, { name: 'mosquitto', type: 'mqtt', config: { server: '127.0.0.1:1883' } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'bridge', sql: 'SELECT topic, payload FROM "b/#"',
      actions: [{ connectorId: c.body.id, params: { topic: `${prefix}/\${topic}`, payload: '${payload}', qos: 1 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { reconnectPeriod: 0 })
    const got: Array<[string, string]> = []
    sub.on('message', (t, p) => got.push([t, p.toString()]))
    await sub.subscribeAsync(`${prefix}/#`, { qos: 1 })
    const client = await device(j)
    for (let i = 0; i < 10; i++) await client.publishAsync(`b/${i}`, `m${i}`, { qos: 1 })
    await client.endAsync()
    try {
      await eventually(async () => got.length, (n) => n >= 10, '10 bridged messages')
    } finally {
      await sub.endAsync()
    }
    assert.deepEqual(got.sort(), Array.from({ length: 10 }, (_, i) => [`${prefix}/b/${i}`, `m${i}`] as [string, string]).sort())
  })

  it('the republish built-in publishes into the same deployment', async () => {
    const rule = await j.api('POST', rules, {
      name: 'alerts', sql: "SELECT clientid, payload.level AS level FROM \"alarms/#\" WHERE payload.level = 'high'",
      actions: [{ builtin: 'republish', params: { topic: 'alerts/${clientid}', payload: '${.}', qos: 1 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    const watcher = await device(j, 'watcher')
    const got: Array<[string, any]> = []
    watcher.on('message', (t, p) => got.push([t, JSON.parse(p.toString())]))
    await watcher.subscribeAsync('alerts/#', { qos: 1 })
    const sensor = await device(j, 'boiler-7')
    await sensor.publishAsync('alarms/1', '{"level":"low"}', { qos: 1 })
    await sensor.publishAsync('alarms/1', '{"level":"high"}', { qos: 1 })
    await eventually(async () => got.length, (n) => n >= 1, 'republished alert')
    await new Promise((r) => setTimeout(r, 200))
    await Promise.all([sensor.endAsync(), watcher.endAsync()])
    assert.deepEqual(got, [['alerts/boiler-7', { clientid: 'boiler-7', level: 'high' }]])
  })
})

describe('outage: PostgreSQL stopped mid-stream', () => {
  let j: TestJunction
  let server: PrivatePostgres
  const table = randomName('outage')

  before(async () => {
    server = await startPrivatePostgres()
    await server.sql(`CREATE TABLE ${table} (seq integer NOT NULL)`)
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await server?.destroy()
  })

  it('every message arrives exactly once after the server comes back; metrics agree', async () => {
    const c = await j.api('POST', connectors, {
      name: 'pg', type: 'postgresql',
      config: { host: '127.0.0.1', port: server.port, database: 'postgres', username: server.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    const rule = await j.api('POST', rules, {
      name: 'seq', sql: 'SELECT payload.seq AS seq FROM "seq/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` }, options: { requestTtlMs: 120_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const client = await device(j)
    const N = 300
    for (let i = 0; i < 100; i++) await client.publishAsync('seq/1', JSON.stringify({ seq: i }), { qos: 1 })
    await server.stop()
    for (let i = 100; i < N; i++) await client.publishAsync('seq/1', JSON.stringify({ seq: i }), { qos: 1 })
    const during = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics.actions[0]
    assert.equal(during.matched, N)
    assert.ok(during.queuing + during.inflight > 0, 'messages wait while the server is down')
    await server.start()
    await client.endAsync()
    await eventually(async () => (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics.actions[0], (a) => a.success + a.failed + a.dropped === N, 'all settled', 90_000)
    const a = (await j.api('GET', `${rules}/${rule.body.id}`)).body.metrics.actions[0]
    assert.deepEqual([a.success, a.failed, a.dropped, a.queuing, a.inflight], [N, 0, 0, 0, 0])
    const rows = (await server.sql(`SELECT count(*) || ',' || count(DISTINCT seq) FROM ${table}`)).trim()
    assert.equal(rows, `${N},${N}`, 'each message exactly once')
  })
})
