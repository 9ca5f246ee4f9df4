// Actions checked when a rule is saved, and the Test action, through the API against the real
// PostgreSQL (and the shared Kafka): a statement the server refuses or one that writes nothing is
// a 400 naming the field; a connector that is down only warns; a Test action reports what the
// resource answered, and a rolled-back one leaves no row.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from '../support/connector-battery.js'
import { sharedPostgres } from '../support/postgres.js'
import { sharedKafka } from '../support/kafka.js'
import { adminSql, sharedMariadb } from '../support/mariadb.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

describe('actions checked on save, and Test action (PostgreSQL)', () => {
  let j: TestJunction
  let pgId: string
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
  const table = randomName('checked')
  const insert = `INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})`
  const rowCount = async () => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (clientid text NOT NULL, temp numeric NOT NULL)`)
    j = await startJunction()
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    pgId = c.body.id
    await eventually(() => j.api('GET', `${connectors}/${pgId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  const rule = (actions: unknown[], sql = 'SELECT clientid, payload.temp AS temp FROM "chk/#"') => ({ name: randomName('r'), sql, actions })

  it('a missing table or column is a 400 with the field path, the server\'s message and a hint; nothing is saved', async () => {
    const before = (await j.api('GET', rules)).body.data.length
    const r = await j.api('POST', rules, rule([
      { connectorId: pgId, params: { sql: insert } },
      { connectorId: pgId, params: { sql: 'INSERT INTO no_such_table_chk (a) VALUES (${clientid})' } },
      { connectorId: pgId, params: { sql: `INSERT INTO ${table} (clientid, nope) VALUES (\${clientid}, \${temp})` } },
    ]))
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.equal(r.body.error.code, 'ACTION_CHECK_FAILED')
    const fields = r.body.error.fields
    assert.deepEqual(fields.map((f: any) => f.path), ['actions.1.params.sql', 'actions.2.params.sql'])
    assert.match(fields[0].message, /relation "no_such_table_chk" does not exist/)
    assert.match(fields[1].message, /column "nope" of relation .* does not exist/)
    assert.ok(fields.every((f: any) => typeof f.hint === 'string' && f.hint.length > 0), JSON.stringify(fields))
    assert.deepEqual(r.body.error.checks, [{ path: 'actions.1.params.sql', code: 'INVALID_STATEMENT' }, { path: 'actions.2.params.sql', code: 'INVALID_STATEMENT' }])
    assert.equal((await j.api('GET', rules)).body.data.length, before, 'no rule saved')
  })

  it('a fallback is checked too, under its own path', async () => {
    const r = await j.api('POST', rules, rule([{ connectorId: pgId, params: { sql: insert }, fallback: { connectorId: pgId, params: { sql: 'INSERT INTO no_such_fallback_chk (a) VALUES (${clientid})' } } }]))
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.deepEqual(r.body.error.fields.map((f: any) => f.path), ['actions.0.fallback.params.sql'])
  })

  it('a SELECT that reads a table is refused (STATEMENT_WRITES_NOTHING); a SELECT calling a function for its effect is not', async () => {
    const r = await j.api('POST', rules, rule([{ connectorId: pgId, params: { sql: `SELECT * FROM ${table} WHERE clientid = \${clientid}` } }]))
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.deepEqual(r.body.error.checks, [{ path: 'actions.0.params.sql', code: 'STATEMENT_WRITES_NOTHING' }])
    assert.match(r.body.error.fields[0].message, new RegExp(`only reads \\("${table}"\\)`))
    assert.match(r.body.error.hint, /INSERT/)

    for (const sql of [
      `SELECT pg_notify('${table}', \${clientid})`,
      `WITH ins AS (INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp}) RETURNING clientid) SELECT clientid FROM ins`,
      `UPDATE ${table} SET temp = \${temp} WHERE clientid = \${clientid}`,
    ]) {
      const passes = await j.api('POST', rules, rule([{ connectorId: pgId, params: { sql } }]))
      assert.equal(passes.status, 201, `${sql}: ${JSON.stringify(passes.body)}`)
      assert.deepEqual(passes.body.warnings, [])
      await j.api('DELETE', `${rules}/${passes.body.id}`)
    }
  })

  it('a good rule is 201 with no warnings and works; an update to a bad statement is 400 and keeps the rule as it was', async () => {
    const r = await j.api('POST', rules, rule([{ connectorId: pgId, params: { sql: insert } }]))
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.deepEqual(r.body.warnings, [])
    const sensor = await device(j, 'chk-sensor')
    await sensor.publishAsync('chk/1', JSON.stringify({ temp: 21.5 }), { qos: 1 })
    await sensor.endAsync()
    await eventually(rowCount, (n) => n === 1, 'one row')
    assert.deepEqual((await db.query(`SELECT clientid, temp FROM ${table}`)).rows.map((x) => [x.clientid, Number(x.temp)]), [['chk-sensor', 21.5]])

    const bad = await j.api('PUT', `${rules}/${r.body.id}`, { actions: [{ connectorId: pgId, params: { sql: `INSERT INTO ${table} (nope) VALUES (\${clientid})` } }] })
    assert.equal(bad.status, 400, JSON.stringify(bad.body))
    assert.equal(bad.body.error.fields[0].path, 'actions.0.params.sql')
    const kept = await j.api('GET', `${rules}/${r.body.id}`)
    assert.equal(kept.body.actions[0].params.sql, insert)
    const renamed = await j.api('PUT', `${rules}/${r.body.id}`, { name: 'renamed' })
    assert.equal(renamed.status, 200)
    assert.deepEqual(renamed.body.warnings, [])
    await j.api('DELETE', `${rules}/${r.body.id}`)
    await db.query(`DELETE FROM ${table}`)
  })

  it('a connector that is down: the rule is saved, with a warning that its action was not checked', async () => {
    const port = await freePort() // nothing listens there
    const c = await j.api('POST', connectors, { name: randomName('down'), type: 'postgresql', config: { host: '127.0.0.1', port, database: 'x', username: 'x', connectTimeoutMs: 500 } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (x) => x.body.status === 'disconnected', 'disconnected')
    const r = await j.api('POST', rules, rule([{ connectorId: pgId, params: { sql: insert } }, { connectorId: c.body.id, params: { sql: 'INSERT INTO anything (a) VALUES (${clientid})' } }]))
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.equal(r.body.warnings.length, 1, JSON.stringify(r.body.warnings))
    assert.equal(r.body.warnings[0].path, 'actions.1')
    assert.equal(r.body.warnings[0].code, 'CONNECTION_REFUSED')
    assert.match(r.body.warnings[0].message, /Not checked/)
    await j.api('DELETE', `${rules}/${r.body.id}`)

    const t = await j.api('POST', `${rules}/test-action`, { action: { connectorId: c.body.id, params: { sql: 'INSERT INTO anything (a) VALUES (${clientid})' } }, output: { clientid: 'x' } })
    assert.equal(t.status, 200, JSON.stringify(t.body))
    assert.equal(t.body.ok, false)
    assert.equal(t.body.error.kind, 'not_connected')
    await j.api('DELETE', `${connectors}/${c.body.id}?confirm=${c.body.id}`)
  })

  it('Test action: ok writes the row; a refused row answers the code; rollback answers ok and leaves no row', async () => {
    const action = { connectorId: pgId, params: { sql: insert } }
    const ok = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'ta-1', temp: 1.5 } })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(ok.body.ok, true)
    assert.equal(ok.body.rolledBack, false)
    assert.ok(typeof ok.body.durationMs === 'number' && ok.body.durationMs >= 0)
    assert.deepEqual((await db.query(`SELECT clientid, temp FROM ${table} WHERE clientid = 'ta-1'`)).rows.map((x) => Number(x.temp)), [1.5])

    const refused = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'ta-2' } })
    assert.equal(refused.status, 200, JSON.stringify(refused.body))
    assert.equal(refused.body.ok, false)
    assert.deepEqual([refused.body.error.code, refused.body.error.kind], ['CONSTRAINT_VIOLATION', 'permanent'])
    assert.match(refused.body.error.message, /null value in column "temp"/)

    const rolled = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'ta-3', temp: 3 }, rollback: true })
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body))
    assert.deepEqual([rolled.body.ok, rolled.body.rolledBack], [true, true])
    const rolledBad = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'ta-4' }, rollback: true })
    assert.deepEqual([rolledBad.body.ok, rolledBad.body.rolledBack, rolledBad.body.error?.code], [false, false, 'CONSTRAINT_VIOLATION'])
    assert.equal((await db.query(`SELECT count(*) AS n FROM ${table} WHERE clientid IN ('ta-3', 'ta-4')`)).rows[0].n, '0', 'rolled back: no row')
    // The pooled connection is usable afterwards (no transaction left open on it).
    const again = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'ta-5', temp: 5 } })
    assert.equal(again.body.ok, true)
    assert.equal(await rowCount(), 2)
    await db.query(`DELETE FROM ${table}`)
  })

  it('the OpenAPI document describes the Test action route and the warnings of a rule', async () => {
    const doc = (await j.api('GET', '/api/v1/openapi.json')).body
    const route = doc.paths['/api/v1/deployments/{dep}/rules/test-action']?.post
    assert.ok(route, 'test-action documented')
    const body = route.requestBody.content['application/json'].schema
    assert.deepEqual(Object.keys(body.properties).sort(), ['action', 'output', 'rollback'])
    assert.deepEqual(Object.keys(route.responses['200'].content['application/json'].schema.properties).sort(), ['durationMs', 'error', 'ok', 'rolledBack'])
    assert.ok(JSON.stringify(doc).includes('"warnings"'), 'Rule carries warnings')
  })

  it('Test action input errors: a bad action or output is 400 with its path; rollback on republish is 400 on `rollback`', async () => {
    const noConnector = await j.api('POST', `${rules}/test-action`, { action: { connectorId: 'c_nope', params: {} }, output: {} })
    assert.equal(noConnector.status, 400)
    assert.equal(noConnector.body.error.fields[0].path, 'action.connectorId')
    const badParams = await j.api('POST', `${rules}/test-action`, { action: { connectorId: pgId, params: {} }, output: {} })
    assert.equal(badParams.status, 400)
    assert.match(badParams.body.error.fields[0].path, /^action\.params/)
    const republish = await j.api('POST', `${rules}/test-action`, { action: { builtin: 'republish', params: { topic: 'ta/out' } }, output: { a: 1 }, rollback: true })
    assert.equal(republish.status, 400, JSON.stringify(republish.body))
    assert.equal(republish.body.error.fields[0].path, 'rollback')
    const sent = await j.api('POST', `${rules}/test-action`, { action: { builtin: 'republish', params: { topic: 'ta/out' } }, output: { a: 1 } })
    assert.equal(sent.status, 200, JSON.stringify(sent.body))
    assert.equal(sent.body.ok, true)
  })
})

describe('actions checked on save, and Test action (Kafka)', () => {
  let j: TestJunction
  let kafkaId: string
  const kafka = sharedKafka()
  const topic = `junction-check.${Math.random().toString(36).slice(2, 10)}`

  before(async () => {
    const admin = new Kafka({ brokers: [kafka.bootstrap], clientId: 'junction-test-check', logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    } finally {
      await admin.disconnect()
    }
    j = await startJunction()
    const c = await j.api('POST', connectors, { name: 'kafka', type: 'kafka', config: { bootstrapServers: kafka.bootstrap } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    kafkaId = c.body.id
    await eventually(() => j.api('GET', `${connectors}/${kafkaId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await j?.close()
  })

  const rule = (params: Record<string, unknown>) => ({ name: randomName('k'), sql: 'SELECT * FROM "k/#"', actions: [{ connectorId: kafkaId, params }] })

  it('an existing topic is 201 with no warning; a templated one is not checked', async () => {
    for (const t of [topic, 'junction-check.${clientid}']) {
      const r = await j.api('POST', rules, rule({ topic: t }))
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.deepEqual(r.body.warnings, [], t)
      await j.api('DELETE', `${rules}/${r.body.id}`)
    }
  })

  it('a missing topic on brokers that auto-create topics (the shared broker does) is saved with a warning on its field, and the check creates nothing', async () => {
    const missing = `junction-check-missing.${Math.random().toString(36).slice(2, 10)}`
    const r = await j.api('POST', rules, rule({ topic: missing }))
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.equal(r.body.warnings.length, 1, JSON.stringify(r.body.warnings))
    assert.equal(r.body.warnings[0].path, 'actions.0.params.topic')
    assert.match(r.body.warnings[0].message, /does not exist yet: the brokers create it on the first write/)
    await j.api('DELETE', `${rules}/${r.body.id}`)
    const admin = new Kafka({ brokers: [kafka.bootstrap], clientId: 'junction-test-check', logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      assert.ok(!(await admin.listTopics()).includes(missing), 'the check did not create the topic')
    } finally {
      await admin.disconnect()
    }
  })

  it('the check works the same without the worker thread (producer.workerThread false)', async () => {
    const c = await j.api('POST', connectors, { name: randomName('kafka_main'), type: 'kafka', config: { bootstrapServers: kafka.bootstrap, producer: { workerThread: false } } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const missing = `junction-check-missing.${Math.random().toString(36).slice(2, 10)}`
    for (const [t, warnings] of [[topic, 0], [missing, 1]] as const) {
      const r = await j.api('POST', rules, { name: randomName('k'), sql: 'SELECT * FROM "k/#"', actions: [{ connectorId: c.body.id, params: { topic: t } }] })
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.equal(r.body.warnings.length, warnings, JSON.stringify(r.body.warnings))
      await j.api('DELETE', `${rules}/${r.body.id}`)
    }
    await j.api('DELETE', `${connectors}/${c.body.id}?confirm=${c.body.id}`)
  })

  it('an invalid fixed topic name is a 400 on the topic field', async () => {
    const r = await j.api('POST', rules, rule({ topic: 'bad topic!' }))
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.equal(r.body.error.code, 'ACTION_CHECK_FAILED')
    assert.deepEqual(r.body.error.checks, [{ path: 'actions.0.params.topic', code: 'INVALID_PARAMS' }])
  })

  it('Test action writes one record; rollback is refused with a 400 on `rollback`', async () => {
    const action = { connectorId: kafkaId, params: { topic, key: '${id}' } }
    const ok = await j.api('POST', `${rules}/test-action`, { action, output: { id: 'k-1', v: 1 } })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(ok.body.ok, true, JSON.stringify(ok.body))
    const admin = new Kafka({ brokers: [kafka.bootstrap], clientId: 'junction-test-check', logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchTopicOffsets(topic)
      assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 1, 'one record written')
    } finally {
      await admin.disconnect()
    }
    const rolled = await j.api('POST', `${rules}/test-action`, { action, output: { id: 'k-2' }, rollback: true })
    assert.equal(rolled.status, 400, JSON.stringify(rolled.body))
    assert.equal(rolled.body.error.fields[0].path, 'rollback')
  })
})

describe('actions checked on save, and Test action (MySQL / MariaDB)', () => {
  let j: TestJunction
  let myId: string
  const shared = sharedMariadb()
  const table = randomName('checked')
  const insert = `INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})`
  const rows = async (clientid: string) => (await adminSql<Array<{ temp: string }>>(shared, `SELECT temp FROM ${table} WHERE clientid = ?`, [clientid])).map((r) => Number(r.temp))

  before(async () => {
    await adminSql(shared, `CREATE TABLE ${table} (clientid varchar(64) NOT NULL, temp decimal(8,2) NOT NULL) ENGINE=InnoDB`)
    j = await startJunction()
    const c = await j.api('POST', connectors, { name: 'my', type: 'mysql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user, ...(shared.password ? { password: shared.password } : {}) } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    myId = c.body.id
    await eventually(() => j.api('GET', `${connectors}/${myId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await j?.close()
    await adminSql(shared, `DROP TABLE IF EXISTS ${table}`)
  })

  const rule = (sql: string) => ({ name: randomName('m'), sql: 'SELECT clientid, payload.temp AS temp FROM "m/#"', actions: [{ connectorId: myId, params: { sql } }] })

  it('a missing table, or a SELECT FROM, is a 400 on actions.0.params.sql; a good statement is 201', async () => {
    const missing = await j.api('POST', rules, rule('INSERT INTO no_such_table_chk (a) VALUES (${clientid})'))
    assert.equal(missing.status, 400, JSON.stringify(missing.body))
    assert.deepEqual(missing.body.error.checks, [{ path: 'actions.0.params.sql', code: 'INVALID_STATEMENT' }])
    assert.match(missing.body.error.fields[0].message, /doesn't exist/)
    const select = await j.api('POST', rules, rule(`SELECT * FROM ${table} WHERE clientid = \${clientid}`))
    assert.equal(select.status, 400, JSON.stringify(select.body))
    assert.deepEqual(select.body.error.checks, [{ path: 'actions.0.params.sql', code: 'STATEMENT_WRITES_NOTHING' }])
    const good = await j.api('POST', rules, rule(insert))
    assert.equal(good.status, 201, JSON.stringify(good.body))
    assert.deepEqual(good.body.warnings, [])
    await j.api('DELETE', `${rules}/${good.body.id}`)
  })

  it('Test action: ok writes the row; rollback answers ok and leaves no row; a refused row answers its code', async () => {
    const action = { connectorId: myId, params: { sql: insert } }
    const ok = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'm-1', temp: 1.5 } })
    assert.deepEqual([ok.status, ok.body.ok], [200, true], JSON.stringify(ok.body))
    assert.deepEqual(await rows('m-1'), [1.5])
    const rolled = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'm-2', temp: 2 }, rollback: true })
    assert.deepEqual([rolled.status, rolled.body.ok, rolled.body.rolledBack], [200, true, true], JSON.stringify(rolled.body))
    assert.deepEqual(await rows('m-2'), [], 'rolled back: no row')
    const refused = await j.api('POST', `${rules}/test-action`, { action, output: { clientid: 'm-3' }, rollback: true })
    assert.equal(refused.body.ok, false, JSON.stringify(refused.body))
    assert.equal(refused.body.error.kind, 'permanent')
    assert.deepEqual(await rows('m-3'), [])
  })
})
