// Editing a connector swaps its live connection without losing messages: a rule keeps writing
// to PostgreSQL while the connector is edited twice mid-stream.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'

describe('edit while streaming', () => {
  let j: TestJunction
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user })
  const table = randomName('edited')

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (seq integer NOT NULL)`)
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  it('every message arrives while the connection is replaced', async () => {
    const config = { host: shared.host, port: shared.port, database: shared.database, username: shared.user }
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config })
    const rule = await j.api('POST', '/api/v1/deployments/default/rules', {
      name: 'seq', sql: 'SELECT payload.seq AS seq FROM "edit/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` }, options: { batchSize: 20, batchTimeMs: 5 } }],
    })
    assert.equal(rule.status, 201)
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const client = await device(j)
    const N = 3000
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        await client.publishAsync('edit/1', JSON.stringify({ seq: i }), { qos: 1 })
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5))
      }
    })()
    for (const poolSize of [3, 5]) {
      await new Promise((r) => setTimeout(r, 150))
      const edited = await j.api('PUT', `${connectors}/${c.body.id}`, { config: { ...config, poolSize } })
      assert.equal(edited.status, 200)
      assert.equal(edited.body.status, 'connected')
    }
    await publishing
    await client.endAsync()
    const a = await eventually(async () => (await j.api('GET', `/api/v1/deployments/default/rules/${rule.body.id}`)).body.metrics.actions[0], (x) => x.success + x.failed + x.dropped === N, 'all settled', 60_000)
    assert.deepEqual([a.success, a.failed, a.dropped], [N, 0, 0])
    const r = (await db.query(`SELECT count(DISTINCT seq) AS d FROM ${table}`)).rows[0]
    assert.equal(Number(r.d), N, 'no message lost')
  })
})
