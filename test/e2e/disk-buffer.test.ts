// With the disk buffer on, messages queued while the resource is down survive Junction being
// killed (SIGKILL, no goodbye): after a restart every one of them is delivered.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { eventually } from '../support/junction.js'
import { junctionProcessSetup, startJunctionProcess } from '../support/junction-process.js'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { randomName } from './support.js'

describe('disk buffer', () => {
  let server: PrivatePostgres
  const children: ChildProcess[] = []
  const table = randomName('buffered')

  before(async () => {
    server = await startPrivatePostgres()
    await server.sql(`CREATE TABLE ${table} (seq integer NOT NULL)`)
  })
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    await server?.destroy()
  })

  it('queued messages survive SIGKILL and are delivered after the restart', async () => {
    const { env, api } = await junctionProcessSetup()
    const first = await startJunctionProcess(env)
    children.push(first)
    const c = await api('POST', '/connectors', {
      name: 'pg', type: 'postgresql',
      config: { host: '127.0.0.1', port: server.port, database: 'postgres', username: server.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(c.status, 201)
    const rule = await api('POST', '/rules', {
      name: 'seq', sql: 'SELECT payload.seq AS seq FROM "seq/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` }, options: { diskBuffer: true, requestTtlMs: 600_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => api('GET', `/connectors/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    await server.stop()

    const N = 200
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${env.JUNCTION_MQTT_PORT}`, { reconnectPeriod: 0 })
    for (let i = 0; i < N; i++) await device.publishAsync('seq/1', JSON.stringify({ seq: i }), { qos: 1 })
    await device.endAsync()
    const held = await eventually(() => api('GET', `/rules/${rule.body.id}`), (r) => r.body.metrics.actions[0].matched === N, 'all queued')
    assert.equal(held.body.metrics.actions[0].success, 0)

    first.kill('SIGKILL')
    await new Promise((r) => first.once('exit', r))
    await server.start()

    const second = await startJunctionProcess(env)
    children.push(second)
    const rows = await eventually(async () => (await server.sql(`SELECT count(*) || ',' || count(DISTINCT seq) FROM ${table}`)).trim(), (v) => Number(v.split(',')[1]) === N, `${N} distinct rows`, 90_000)
    assert.equal(rows, `${N},${N}`, 'all delivered, none twice')
    second.kill('SIGTERM')
    await new Promise((r) => second.once('exit', r))
  })
})
