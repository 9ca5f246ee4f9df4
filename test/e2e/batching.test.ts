// Batching without a fixed wait, through the real data path: a device publishes to the embedded
// broker, a rule's PostgreSQL action (batch time set to its maximum, 60 s) writes the rows. Were
// a partial batch held for its batch time, nothing would arrive within the test's bounds.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

describe('batching: no batch wait when nothing is in flight (PostgreSQL)', () => {
  let j: TestJunction
  const shared = sharedPostgres()
  const db = new pg.Client({ host: '127.0.0.1', port: shared.port, database: shared.database, user: shared.user })
  const table = randomName('batching')
  let ruleId = ''

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (seq integer NOT NULL, clientid text)`)
    j = await startJunction()
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201)
    const rule = await j.api('POST', rules, {
      name: 'batched', sql: 'SELECT payload.seq AS seq, clientid FROM "batching/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq, clientid) VALUES (\${seq}, \${clientid})` }, options: { batchSize: 500, batchTimeMs: 60_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    ruleId = rule.body.id
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await j?.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  const rows = async () => (await db.query(`SELECT count(*) AS n, count(DISTINCT seq) AS d FROM ${table}`)).rows[0] as { n: string; d: string }

  it('a lone message is written at once, not after the 60 s batch time', async () => {
    const client = await device(j, 'dev-lone')
    await client.publishAsync('batching/lone', JSON.stringify({ seq: -1 }), { qos: 1 })
    await client.endAsync()
    await eventually(rows, (r) => r.n === '1', 'the row', 20_000)
  })

  it('a burst is written completely, each message once, its last partial batch not held for the batch time', async () => {
    const client = await device(j, 'dev-burst')
    await Promise.all(Array.from({ length: 3_000 }, (_, seq) => client.publishAsync('batching/burst', JSON.stringify({ seq }), { qos: 1 })))
    await client.endAsync()
    await eventually(rows, (r) => r.n === '3001', '3,001 rows', 20_000)
    assert.equal((await rows()).d, '3001', 'no duplicates')
    const a = (await j.api('GET', `${rules}/${ruleId}`)).body.metrics.actions[0]
    assert.deepEqual([a.success, a.failed, a.dropped, a.queuing, a.inflight], [3001, 0, 0, 0, 0])
    assert.equal(a.matched, a.success + a.failed + a.dropped + a.queuing + a.inflight)
  })
})
