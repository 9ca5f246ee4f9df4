// External broker mode survives kill -9: with `acknowledge: on-delivery`, QoS 1 messages that
// Junction received but had not committed to PostgreSQL (the table locked) are not acknowledged
// to the external broker; Junction killed with SIGKILL and started again resumes its session and
// the broker delivers them again: every message ends up in PostgreSQL.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import pg from 'pg'
import { eventually } from '../support/junction.js'
import { junctionProcessSetup, startJunctionProcess } from '../support/junction-process.js'
import { startPrivateMosquitto, type PrivateMosquitto } from '../support/mosquitto.js'
import { sharedPostgres } from '../support/postgres.js'
import { randomName } from './support.js'

const N = 20

describe('external broker: kill -9 with unacknowledged QoS 1 messages', () => {
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, user: shared.user, database: shared.database })
  const locker = new pg.Client({ host: shared.host, port: shared.port, user: shared.user, database: shared.database })
  const children: ChildProcess[] = []
  const table = randomName('extkill')
  let broker: PrivateMosquitto
  before(async () => {
    await db.connect()
    await locker.connect()
    await db.query(`CREATE TABLE ${table} (id text NOT NULL)`)
    broker = await startPrivateMosquitto()
  })
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    await locker.query('ROLLBACK').catch(() => undefined)
    await locker.end()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
    await broker?.destroy()
  })

  it('the broker redelivers what Junction had not acknowledged, after a restart', async () => {
    const { env, api } = await junctionProcessSetup()
    const first = await startJunctionProcess({ ...env, JUNCTION_NODE_NAME: 'killed' })
    children.push(first)
    const patched = await api('PATCH', '', { broker: { mode: 'external', servers: [`127.0.0.1:${broker.port}`] } })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    const c = await api('POST', '/connectors', { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await api('POST', '/rules', {
      name: 'kept', sql: 'SELECT payload.id AS id FROM "kill/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (id) VALUES (\${id})` }, options: { acknowledge: 'on-delivery' } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => api('GET', ''), (r) => r.body.broker.subscriptions?.includes('$share/junction/kill/#'), 'subscribed')
    await eventually(() => api('GET', `/connectors/${c.body.id}`), (r) => r.body.status === 'connected', 'connector connected')

    // Inserts now wait for the lock: nothing is committed, so nothing is acknowledged.
    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 })
    const ids = Array.from({ length: N }, (_, i) => `k-${i}`)
    for (const id of ids) await device.publishAsync(`kill/${id}`, JSON.stringify({ id }), { qos: 1 })
    await device.endAsync()
    await eventually(() => api('GET', `/rules/${rule.body.id}`), (r) => r.body.metrics.rule.matched >= 1, 'the first message taken (its acknowledgement held)')

    first.kill('SIGKILL')
    await new Promise((r) => first.once('exit', r))
    await locker.query('ROLLBACK')

    const second = await startJunctionProcess({ ...env, JUNCTION_NODE_NAME: 'killed' })
    children.push(second)
    const rows = await eventually(async () => (await db.query<{ id: string }>(`SELECT id FROM ${table}`)).rows, (r) => ids.every((id) => r.some((x) => x.id === id)), 'every message in PostgreSQL', 60_000)
    // At least once: the insert that waited for the lock may have committed after the kill too.
    assert.ok(rows.length <= N + 1, `at most the held message twice (${rows.length} rows)`)
    second.kill('SIGTERM')
  })
})
