// Fallback actions: what an action finally fails (a permanent error) or drops as expired goes to
// its fallback, here the republish built-in, so nothing is lost silently. Results are read back
// from PostgreSQL and from a subscriber on the embedded broker.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { freePort } from '../support/connector-battery.js'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

const metricsOf = async (j: TestJunction, ruleId: string) => (await j.api('GET', `${rules}/${ruleId}`)).body.metrics
const addsUp = (a: any) => a.matched === a.success + a.failed + a.dropped + a.queuing + a.inflight

describe('fallback actions', () => {
  let j: TestJunction
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
  const table = randomName('fallback')

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (clientid text NOT NULL, seq integer NOT NULL, temp numeric NOT NULL)`)
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  it('rows the table refuses (NOT NULL) are republished to failed/<clientid>; good rows are inserted', async () => {
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'temps', sql: 'SELECT clientid, payload.seq AS seq, payload.temp AS temp FROM "fb/#"',
      actions: [{
        connectorId: c.body.id,
        params: { sql: `INSERT INTO ${table} (clientid, seq, temp) VALUES (\${clientid}, \${seq}, \${temp})` },
        fallback: { builtin: 'republish', params: { topic: 'failed/${clientid}', payload: '${.}', qos: 1 } },
      }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

    const watcher = await device(j, 'fb-watcher')
    const failed: Array<{ topic: string; body: any }> = []
    watcher.on('message', (topic, p) => failed.push({ topic, body: JSON.parse(p.toString()) }))
    await watcher.subscribeAsync('failed/#', { qos: 1 })

    const N = 30
    const isBad = (i: number) => i % 3 === 1
    const bad = Array.from({ length: N }, (_, i) => i).filter(isBad)
    const good = Array.from({ length: N }, (_, i) => i).filter((i) => !isBad(i))
    const sensor = await device(j, 'fb-sensor')
    for (let i = 0; i < N; i++) {
      await sensor.publishAsync('fb/1', JSON.stringify(isBad(i) ? { seq: i } : { seq: i, temp: 20 + i }), { qos: 1 })
    }
    await sensor.endAsync()

    const m = await eventually(() => metricsOf(j, rule.body.id), (x) => x.actions[0].success + x.actions[0].failed === N && x.actions[0].fallback.success === bad.length, 'all settled and fallbacks republished')
    await eventually(async () => failed.length, (n) => n >= bad.length, `${bad.length} messages on failed/#`)
    await new Promise((r) => setTimeout(r, 200)) // anything extra would show now
    await watcher.endAsync()

    const rows = (await db.query(`SELECT clientid, seq, temp FROM ${table} ORDER BY seq`)).rows
    assert.deepEqual(rows.map((r) => [r.clientid, r.seq, Number(r.temp)]), good.map((i) => ['fb-sensor', i, 20 + i]), 'good rows inserted, each once')

    assert.equal(failed.length, bad.length, 'each bad message republished once')
    assert.ok(failed.every((f) => f.topic === 'failed/fb-sensor'), JSON.stringify(failed.map((f) => f.topic)))
    assert.deepEqual(failed.map((f) => f.body.seq).sort((x, y) => x - y), bad)
    assert.ok(failed.every((f) => f.body.clientid === 'fb-sensor' && (f.body.temp === undefined || f.body.temp === null)), 'the fallback gets the rule output')

    assert.deepEqual([m.rule.matched, m.rule.passed, m.rule.failed], [N, N, 0])
    const a = m.actions[0]
    assert.deepEqual([a.matched, a.success, a.failed, a.dropped, a.queuing, a.inflight], [N, good.length, bad.length, 0, 0, 0], JSON.stringify(a))
    assert.ok(addsUp(a))
    assert.match(String(a.lastError), /null|not-null|NOT NULL/i)
    const f = a.fallback
    assert.deepEqual([f.matched, f.success, f.failed, f.dropped, f.queuing, f.inflight], [bad.length, bad.length, 0, 0, 0, 0], JSON.stringify(f))
    assert.ok(addsUp(f))
  })

  it('messages that expire while the connector is down are republished to the fallback topic', async () => {
    // Nothing listens on this port: the connector is created, never connects, and the action
    // holds its messages until their request TTL (500 ms) is over.
    const deadPort = await freePort()
    const c = await j.api('POST', connectors, {
      name: 'nowhere', type: 'postgresql',
      config: { host: '127.0.0.1', port: deadPort, database: 'postgres', username: 'postgres', connectTimeoutMs: 500, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 1000 } },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'expiring', sql: 'SELECT clientid, payload.seq AS seq FROM "exp/#"',
      actions: [{
        connectorId: c.body.id,
        params: { sql: `INSERT INTO ${table} (clientid, seq, temp) VALUES (\${clientid}, \${seq}, 0)` },
        options: { requestTtlMs: 500 },
        fallback: { builtin: 'republish', params: { topic: 'expired/${clientid}', payload: '${.}', qos: 1 } },
      }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))

    const watcher = await device(j, 'exp-watcher')
    const got: Array<{ topic: string; body: any }> = []
    watcher.on('message', (topic, p) => got.push({ topic, body: JSON.parse(p.toString()) }))
    await watcher.subscribeAsync('expired/#', { qos: 1 })

    const N = 10
    const sensor = await device(j, 'exp-sensor')
    for (let i = 0; i < N; i++) await sensor.publishAsync('exp/1', JSON.stringify({ seq: i }), { qos: 1 })
    await sensor.endAsync()

    const m = await eventually(() => metricsOf(j, rule.body.id), (x) => x.actions[0].dropped === N && x.actions[0].fallback.success === N, 'all expired and republished', 30_000)
    await eventually(async () => got.length, (n) => n >= N, `${N} messages on expired/#`)
    await new Promise((r) => setTimeout(r, 200))
    await watcher.endAsync()

    const a = m.actions[0]
    assert.deepEqual([a.matched, a.success, a.failed, a.dropped, a.queuing, a.inflight], [N, 0, 0, N, 0, 0], JSON.stringify(a))
    assert.deepEqual(a.droppedByReason, { queue_full: 0, expired: N, stopped: 0 })
    assert.ok(addsUp(a))
    const f = a.fallback
    assert.deepEqual([f.matched, f.success, f.failed, f.dropped], [N, N, 0, 0], JSON.stringify(f))

    assert.equal(got.length, N, 'each expired message republished once')
    assert.ok(got.every((g) => g.topic === 'expired/exp-sensor'))
    assert.deepEqual(got.map((g) => g.body.seq).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i))
    assert.notEqual((await j.api('GET', `${connectors}/${c.body.id}`)).body.status, 'connected', 'the connector never connected')
    assert.equal(Number((await db.query(`SELECT count(*) AS n FROM ${table} WHERE clientid = 'exp-sensor'`)).rows[0].n), 0)
  })
})
