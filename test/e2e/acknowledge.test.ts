// End-to-end acknowledgement (`options.acknowledge: "on-delivery"`): a device's QoS 1 publish is
// acknowledged only once the PostgreSQL action has committed it (the row exists, or it is in the
// disk buffer). Junction killed with SIGKILL mid-burst loses no acknowledged message; while the
// database is down no PUBACK leaves; when the TTL runs out an MQTT 5 device is told 0x80 and an
// MQTT 3.1.1 device gets no PUBACK (it sends the message again on its next connection).
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import pg from 'pg'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { junctionProcessSetup, startJunctionProcess } from '../support/junction-process.js'
import { sharedPostgres, startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { randomName } from './support.js'

/** Resolves with what `p` settled to, or 'pending' if it has not within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'pending'>((r) => { timer = setTimeout(() => r('pending'), ms) })
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('end-to-end acknowledgement survives kill -9', () => {
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, user: shared.user, database: shared.database })
  const children: ChildProcess[] = []
  const tables: string[] = []
  before(() => db.connect())
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`)
    await db.end()
  })

  for (const diskBuffer of [false, true]) {
    it(`every acknowledged message is in PostgreSQL after SIGKILL mid-burst (diskBuffer ${diskBuffer})`, async () => {
      const table = randomName('e2eack')
      tables.push(table)
      await db.query(`CREATE TABLE ${table} (seq integer NOT NULL)`)
      const { env, mqttPort, api } = await junctionProcessSetup()
      const first = await startJunctionProcess(env)
      children.push(first)
      const c = await api('POST', '/connectors', { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
      assert.equal(c.status, 201, JSON.stringify(c.body))
      const rule = await api('POST', '/rules', {
        name: 'seq', sql: 'SELECT payload.seq AS seq FROM "seq/#"',
        actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` }, options: { acknowledge: 'on-delivery', diskBuffer, requestTtlMs: 600_000 } }],
      })
      assert.equal(rule.status, 201, JSON.stringify(rule.body))
      assert.equal(rule.body.actions[0].options.acknowledge, 'on-delivery')
      await eventually(() => api('GET', `/connectors/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

      // A burst without waiting for each PUBACK; Junction dies once some have come back.
      const N = 20_000
      const acked = new Set<number>()
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, protocolVersion: 4 })
      device.on('error', () => {})
      let killed = false
      const enoughAcked = new Promise<void>((resolve) => {
        for (let i = 0; i < N; i++) {
          device.publish('seq/1', JSON.stringify({ seq: i }), { qos: 1 }, (err) => {
            if (err || killed) return
            acked.add(i)
            if (acked.size === 1000) resolve()
          })
        }
      })
      const got = await within(enoughAcked, 60_000)
      assert.notEqual(got, 'pending', 'some PUBACKs arrive')
      first.kill('SIGKILL')
      killed = true
      await new Promise((r) => first.once('exit', r))
      device.end(true)
      const ackedAtKill = new Set(acked)
      assert.ok(ackedAtKill.size >= 1000 && ackedAtKill.size < N, `killed mid-burst: ${ackedAtKill.size} of ${N} acknowledged`)

      const second = await startJunctionProcess(env)
      children.push(second)
      // Without a disk buffer each acknowledged row was committed before its PUBACK; with one,
      // the restart delivers what the buffer held.
      const missing = async () => {
        const rows = await db.query<{ seq: number }>(`SELECT DISTINCT seq FROM ${table}`)
        const present = new Set(rows.rows.map((r) => r.seq))
        return [...ackedAtKill].filter((s) => !present.has(s)).length
      }
      await eventually(missing, (n) => n === 0, 'every acknowledged message in PostgreSQL', 90_000)
      second.kill('SIGTERM')
      await new Promise((r) => second.once('exit', r))
    })
  }
})

describe('end-to-end acknowledgement waits for the row', () => {
  let server: PrivatePostgres
  let j: TestJunction
  let connectorId: string
  let mqttPort: number
  const table = randomName('e2eack_wait')
  const clients: MqttClient[] = []
  const rules = '/api/v1/deployments/default/rules'

  before(async () => {
    server = await startPrivatePostgres()
    await server.sql(`CREATE TABLE ${table} (seq integer NOT NULL, topic text NOT NULL)`)
    j = await startJunction()
    mqttPort = (await j.api('GET', '/api/v1/deployments/default')).body.mqtt.port
    const c = await j.api('POST', '/api/v1/deployments/default/connectors', {
      name: 'pg', type: 'postgresql',
      config: { host: '127.0.0.1', port: server.port, database: 'postgres', username: server.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    await eventually(() => j.api('GET', `/api/v1/deployments/default/connectors/${connectorId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await j?.close()
    await server?.destroy()
  })

  const insert = () => ({ sql: `INSERT INTO ${table} (seq, topic) VALUES (\${seq}, \${topic})` })
  const connect = async (protocolVersion: 4 | 5) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, protocolVersion })
    c.on('error', () => {})
    clients.push(c)
    return c
  }
  const rowCount = async (topic: string) => Number((await server.sql(`SELECT count(*) FROM ${table} WHERE topic = '${topic}'`)).trim())

  it('an unknown acknowledge value is a 400 naming the field', async () => {
    const r = await j.api('POST', rules, {
      name: 'bad', sql: 'SELECT * FROM "bad/#"', actions: [{ connectorId, params: insert(), options: { acknowledge: 'on-commit' } }],
    })
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.ok(r.body.error.fields.some((f: { path: string }) => f.path === 'actions.0.options.acknowledge'), JSON.stringify(r.body))
  })

  it('no PUBACK while PostgreSQL is down; it comes once the row exists (on-arrival acknowledges at once)', async () => {
    for (const [name, acknowledge] of [['held', 'on-delivery'], ['free', 'on-arrival']] as const) {
      const r = await j.api('POST', rules, {
        name, sql: `SELECT payload.seq AS seq, topic FROM "${name}/#"`,
        actions: [{ connectorId, params: insert(), options: { acknowledge, requestTtlMs: 120_000 } }],
      })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const device = await connect(5)
    await device.publishAsync('held/1', JSON.stringify({ seq: 1 }), { qos: 1 })
    assert.equal(await rowCount('held/1'), 1, 'with the database up, the row exists when the PUBACK arrives')

    await server.stop()
    const held = device.publishAsync('held/2', JSON.stringify({ seq: 2 }), { qos: 1 })
    const free = await within(device.publishAsync('free/2', JSON.stringify({ seq: 2 }), { qos: 1 }), 10_000)
    assert.ok(typeof free === 'object' && 'value' in free, 'on-arrival: acknowledged while the database is down')
    assert.equal(await within(held, 2_000), 'pending', 'on-delivery: no PUBACK while the database is down')
    // The broker keeps serving the connection meanwhile.
    const ping = await within(device.publishAsync('other/topic', 'x', { qos: 1 }), 5_000)
    assert.ok(typeof ping === 'object' && 'value' in ping, 'other publishes are acknowledged while one waits')

    await server.start()
    const outcome = await within(held, 60_000)
    assert.ok(typeof outcome === 'object' && 'value' in outcome, `acknowledged after the database returned: ${JSON.stringify(outcome)}`)
    assert.equal(await rowCount('held/2'), 1, 'the row exists when the PUBACK arrives')
  })

  it('TTL runs out: MQTT 5 gets PUBACK 0x80, MQTT 3.1.1 gets none', async () => {
    const r = await j.api('POST', rules, {
      name: 'ttl', sql: 'SELECT payload.seq AS seq, topic FROM "ttl/#"',
      actions: [{ connectorId, params: insert(), options: { acknowledge: 'on-delivery', requestTtlMs: 500 } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    await eventually(() => j.api('GET', `/api/v1/deployments/default/connectors/${connectorId}`), (v) => v.body.status === 'connected', 'connected')
    await server.stop()
    const v5 = await connect(5)
    const v4 = await connect(4)
    const old = v4.publishAsync('ttl/v4', JSON.stringify({ seq: 4 }), { qos: 1 })
    const failed = await within(v5.publishAsync('ttl/v5', JSON.stringify({ seq: 5 }), { qos: 1 }), 30_000)
    assert.ok(typeof failed === 'object' && 'error' in failed, `MQTT 5: the publish is refused: ${JSON.stringify(failed)}`)
    assert.equal((failed.error as { code?: number }).code, 0x80)
    assert.equal(await within(old, 1_000), 'pending', 'MQTT 3.1.1: no PUBACK for a message that was not stored')
    await server.start()
  })
})
