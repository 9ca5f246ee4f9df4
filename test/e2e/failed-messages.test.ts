// Failed messages kept per action (option keepFailed), against the real PostgreSQL and real MQTT
// clients: rows a CHECK constraint refuses are kept with the error's code, a replay after the fix
// delivers each exactly once (read back from PostgreSQL), discard, the bound, a restart of
// Junction, and drops (expired, queue_full, stopped) kept with their reason.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { freePort } from '../support/connector-battery.js'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, tempDataDir, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'
const failedOf = (ruleId: string, index = 0) => `${rules}/${ruleId}/actions/${index}/failed-messages`
const shared = sharedPostgres()
const pgConfig = { host: shared.host, port: shared.port, database: shared.database, username: shared.user }

async function publish(j: TestJunction, topic: string, payloads: object[]): Promise<void> {
  const d = await device(j)
  for (const p of payloads) await d.publishAsync(topic, JSON.stringify(p), { qos: 1 })
  await d.endAsync()
}

const actionMetrics = async (j: TestJunction, ruleId: string) => (await j.api('GET', `${rules}/${ruleId}`)).body.metrics.actions[0]

/** A rule inserting (seq, v) into `table`, whose CHECK (v > 0) refuses negative values. */
async function checkedRule(j: TestJunction, connectorId: string, table: string, topic: string, options: Record<string, unknown>) {
  const rule = await j.api('POST', rules, {
    name: randomName('kept'), sql: `SELECT payload.seq AS seq, payload.v AS v FROM "${topic}/#"`,
    actions: [{ connectorId, params: { sql: `INSERT INTO ${table} (seq, v) VALUES (\${seq}, \${v})` }, options: { keepFailed: true, ...options } }],
  })
  assert.equal(rule.status, 201, JSON.stringify(rule.body))
  return rule.body.id as string
}

describe('failed messages (keepFailed)', () => {
  let j: TestJunction
  let connectorId: string
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
  const tables: string[] = []
  const newTable = async () => {
    const t = randomName('failed_kept')
    tables.push(t)
    await db.query(`CREATE TABLE ${t} (seq integer NOT NULL, v integer CONSTRAINT ${t}_v_positive CHECK (v > 0))`)
    return t
  }

  before(async () => {
    await db.connect()
    j = await startJunction()
    const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: pgConfig })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    await eventually(() => j.api('GET', `${connectors}/${connectorId}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(async () => {
    await j?.close()
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`)
    await db.end()
  })

  it('keeps refused rows with the error; a replay after the fix delivers each exactly once and empties the store', async () => {
    const table = await newTable()
    const ruleId = await checkedRule(j, connectorId, table, 'kept1', {})
    const N = 20
    const bad = (i: number) => i % 2 === 1
    await publish(j, 'kept1/a', Array.from({ length: N }, (_, i) => ({ seq: i, v: bad(i) ? -1 : 1 })))
    const m = await eventually(() => actionMetrics(j, ruleId), (a) => a.success + a.failed === N, 'all settled')
    assert.deepEqual([m.success, m.failed], [N / 2, N / 2])
    assert.deepEqual(m.failedMessages, { stored: N / 2, bytes: m.failedMessages.bytes, evicted: 0, maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 })

    const list = await j.api('GET', failedOf(ruleId))
    assert.equal(list.status, 200, JSON.stringify(list.body))
    assert.equal(list.body.enabled, true)
    assert.equal(list.body.stored, N / 2)
    assert.equal(list.body.next, null)
    assert.equal(list.body.data.length, N / 2)
    for (const f of list.body.data) {
      assert.equal(f.reason, 'failed')
      assert.equal(f.code, 'CONSTRAINT_VIOLATION')
      assert.match(f.error, /check constraint/i)
      assert.equal(f.attempts, 1)
      assert.ok(!Number.isNaN(Date.parse(f.at)))
      assert.match(f.excerpt, /"v":-1/)
    }
    const one = await j.api('GET', `${failedOf(ruleId)}/${list.body.data[0].id}`)
    assert.equal(one.status, 200)
    // Batches in flight together settle in any order, so the oldest kept is one of the refused, not necessarily seq 1.
    assert.deepEqual(one.body.message, { seq: one.body.message.seq, v: -1 })
    assert.ok(bad(one.body.message.seq), JSON.stringify(one.body.message))

    const page = await j.api('GET', `${failedOf(ruleId)}?limit=4`)
    assert.equal(page.body.data.length, 4)
    const page2 = await j.api('GET', `${failedOf(ruleId)}?limit=4&after=${page.body.next}`)
    assert.deepEqual(page2.body.data.map((f: any) => f.id), list.body.data.slice(4, 8).map((f: any) => f.id))

    // Replayed before the fix: it fails again and comes back with one more attempt.
    const first = list.body.data[0]
    const again = await j.api('POST', `${failedOf(ruleId)}/replay`, { ids: [first.id, '999999'] })
    assert.equal(again.status, 200, JSON.stringify(again.body))
    assert.deepEqual(again.body, { replayed: 1, notFound: ['999999'] })
    const back = await eventually(() => j.api('GET', failedOf(ruleId)), (r) => r.body.stored === N / 2 && r.body.data.at(-1).id !== list.body.data.at(-1).id, 'failed again')
    const returned = back.body.data.at(-1)
    assert.equal(returned.attempts, 2)
    assert.ok(Number(returned.id) > Number(first.id), 'a new ID')
    assert.equal((await j.api('GET', `${failedOf(ruleId)}/${first.id}`)).status, 404)

    await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_v_positive`)
    const all = await j.api('POST', `${failedOf(ruleId)}/replay`, {})
    assert.deepEqual(all.body, { replayed: N / 2, notFound: [] })
    await eventually(() => actionMetrics(j, ruleId), (a) => a.success === N && a.queuing + a.inflight === 0, 'replayed delivered')
    await new Promise((r) => setTimeout(r, 200))
    const rows = (await db.query(`SELECT seq, count(*)::int AS n FROM ${table} GROUP BY seq ORDER BY seq`)).rows
    assert.deepEqual(rows.map((r) => [r.seq, r.n]), Array.from({ length: N }, (_, i) => [i, 1]), 'every message once')
    const empty = await j.api('GET', failedOf(ruleId))
    assert.deepEqual([empty.body.stored, empty.body.data], [0, []])
    assert.equal((await actionMetrics(j, ruleId)).failedMessages.stored, 0)
  })

  it('discards some, one, or all; answers 404 for what is not there and 400 for bad input', async () => {
    const table = await newTable()
    const ruleId = await checkedRule(j, connectorId, table, 'kept2', {})
    await publish(j, 'kept2/a', Array.from({ length: 6 }, (_, i) => ({ seq: i, v: -1 })))
    const list = await eventually(() => j.api('GET', failedOf(ruleId)), (r) => r.body.stored === 6, '6 kept')
    const ids = list.body.data.map((f: any) => f.id)

    const some = await j.api('POST', `${failedOf(ruleId)}/discard`, { ids: [ids[0], ids[1], '424242'] })
    assert.deepEqual(some.body, { discarded: 2, notFound: ['424242'] })
    const del = await j.api('DELETE', `${failedOf(ruleId)}/${ids[2]}`)
    assert.equal(del.status, 204)
    assert.equal((await j.api('DELETE', `${failedOf(ruleId)}/${ids[2]}`)).body.error.code, 'FAILED_MESSAGE_NOT_FOUND')
    assert.deepEqual((await j.api('GET', failedOf(ruleId))).body.data.map((f: any) => f.id), ids.slice(3))

    assert.equal((await j.api('GET', failedOf(ruleId, 1))).body.error.code, 'ACTION_NOT_FOUND')
    assert.equal((await j.api('GET', failedOf('r-nosuchrule'))).body.error.code, 'RULE_NOT_FOUND')
    const badIds = await j.api('POST', `${failedOf(ruleId)}/discard`, { ids: ['abc'] })
    assert.equal(badIds.status, 400)
    assert.equal(badIds.body.error.code, 'VALIDATION_FAILED')
    assert.equal((await j.api('GET', `${failedOf(ruleId)}?limit=-1`)).status, 400)
    assert.equal((await j.api('POST', `${failedOf(ruleId)}/replay`, { ids: [], extra: 1 })).status, 400)

    const rest = await j.api('POST', `${failedOf(ruleId)}/discard`, {})
    assert.deepEqual(rest.body, { discarded: 3, notFound: [] })
    assert.equal((await j.api('GET', failedOf(ruleId))).body.stored, 0)
  })

  it('holds its bound: the oldest go first, counted, in the API and in Prometheus', async () => {
    const table = await newTable()
    const ruleId = await checkedRule(j, connectorId, table, 'kept3', { keepFailedMaxMessages: 5 })
    await publish(j, 'kept3/a', Array.from({ length: 12 }, (_, i) => ({ seq: i, v: -1 })))
    await eventually(() => actionMetrics(j, ruleId), (a) => a.failed === 12, 'all failed')
    const list = await j.api('GET', failedOf(ruleId))
    assert.deepEqual([list.body.stored, list.body.evicted, list.body.maxMessages], [5, 7, 5])
    const kept = await Promise.all(list.body.data.map(async (f: any) => (await j.api('GET', `${failedOf(ruleId)}/${f.id}`)).body.message.seq))
    assert.deepEqual(kept, [7, 8, 9, 10, 11], 'the newest stay')
    const res = await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Basic ${Buffer.from('test-key:test-secret-0123456789').toString('base64')}` } })
    assert.match(res.body, new RegExp(`junction_action_failed_stored\\{deployment="default",rule="${ruleId}",action="0",target="${connectorId}"\\} 5`))
    assert.match(res.body, new RegExp(`junction_action_failed_evicted_total\\{deployment="default",rule="${ruleId}",action="0",target="${connectorId}"\\} 7`))
  })

  it('keeps messages that expire or are pushed out of the queue while the connector is down, with their reason', async () => {
    const down = await j.api('POST', connectors, {
      name: randomName('down'), type: 'postgresql',
      config: { host: '127.0.0.1', port: await freePort(), database: 'postgres', username: 'postgres', connectTimeoutMs: 500, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 1000 } },
    })
    assert.equal(down.status, 201, JSON.stringify(down.body))
    const table = await newTable()
    const expiring = await checkedRule(j, down.body.id, table, 'kept4', { requestTtlMs: 300 })
    const full = await checkedRule(j, down.body.id, table, 'kept5', { requestTtlMs: 600_000, maxBufferBytes: 1024 })
    await publish(j, 'kept4/a', Array.from({ length: 5 }, (_, i) => ({ seq: i, v: 1 })))
    await publish(j, 'kept5/a', Array.from({ length: 40 }, (_, i) => ({ seq: i, v: 1, pad: 'x'.repeat(100) })))

    const expired = await eventually(() => j.api('GET', failedOf(expiring)), (r) => r.body.stored === 5, '5 kept as expired')
    assert.ok(expired.body.data.every((f: any) => f.reason === 'expired' && f.code === null), JSON.stringify(expired.body.data))
    const pushed = await eventually(() => j.api('GET', failedOf(full)), (r) => r.body.stored > 0, 'queue_full kept')
    assert.ok(pushed.body.data.every((f: any) => f.reason === 'queue_full'), JSON.stringify(pushed.body.data))
    const m = await actionMetrics(j, full)
    assert.equal(pushed.body.stored, m.droppedByReason.queue_full, 'every drop kept')
    assert.deepEqual((await j.api('GET', `${failedOf(full)}/${pushed.body.data[0].id}`)).body.message.seq, 0, 'the oldest went first')

    // Deleting the rule deletes its store. (Only the one whose queue is empty: a deleted rule's
    // worker keeps what it holds until delivered or expired.)
    const storeDir = join(j.settings.dataDir, 'buffers', 'default', `${expiring}_0.failed`)
    assert.ok(existsSync(storeDir), storeDir)
    assert.equal((await j.api('DELETE', `${rules}/${expiring}`)).status, 204)
    assert.equal((await j.api('GET', failedOf(expiring))).body.error.code, 'RULE_NOT_FOUND')
    assert.equal(existsSync(storeDir), false, 'the store is gone with its rule')
  })

  it('refuses keepFailed on a fallback with the field path', async () => {
    const r = await j.api('POST', rules, {
      name: 'fb', sql: 'SELECT * FROM "x/#"',
      actions: [{ connectorId, params: { sql: 'SELECT 1' }, fallback: { builtin: 'republish', params: { topic: 'f' }, options: { keepFailed: true } } }],
    })
    assert.equal(r.status, 400)
    assert.ok(r.body.error.fields.some((f: any) => f.path === 'actions.0.fallback.options.keepFailed'), JSON.stringify(r.body))
  })
})

describe('failed messages across a restart and a deployment stop', () => {
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
  const table = randomName('failed_restart')
  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (seq integer NOT NULL, v integer CONSTRAINT ${table}_v_positive CHECK (v > 0))`)
  })
  after(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
  })

  it('the store survives a restart of Junction; queued messages of a stopped deployment are kept as stopped', async () => {
    const dataDir = tempDataDir()
    let j = await startJunction({ dataDir })
    let ruleId: string
    let downRule: string
    try {
      const c = await j.api('POST', connectors, { name: 'pg', type: 'postgresql', config: pgConfig })
      await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
      ruleId = await checkedRule(j, c.body.id, table, 'keptr', {})
      await publish(j, 'keptr/a', Array.from({ length: 8 }, (_, i) => ({ seq: i, v: -1 })))
      await eventually(() => j.api('GET', failedOf(ruleId)), (r) => r.body.stored === 8, '8 kept')

      const down = await j.api('POST', connectors, {
        name: 'down', type: 'postgresql',
        config: { host: '127.0.0.1', port: await freePort(), database: 'postgres', username: 'postgres', connectTimeoutMs: 500, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 1000 } },
      })
      downRule = await checkedRule(j, down.body.id, table, 'keptq', { requestTtlMs: 600_000 })
      await publish(j, 'keptq/a', Array.from({ length: 3 }, (_, i) => ({ seq: 100 + i, v: 1 })))
      await eventually(() => actionMetrics(j, downRule), (a) => a.queuing === 3, 'queued')
      const stopped = await j.api('POST', '/api/v1/deployments/default/stop')
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body))
      const kept = await j.api('GET', failedOf(downRule))
      assert.deepEqual(kept.body.data.map((f: any) => f.reason), ['stopped', 'stopped', 'stopped'], 'listed while the deployment is stopped')
      const refused = await j.api('POST', `${failedOf(downRule)}/replay`, {})
      assert.equal(refused.status, 409)
      assert.equal(refused.body.error.code, 'RULE_NOT_RUNNING')
      assert.equal((await j.api('POST', '/api/v1/deployments/default/start')).status, 200)
    } finally {
      await j.close()
    }

    j = await startJunction({ dataDir })
    try {
      const list = await j.api('GET', failedOf(ruleId))
      assert.equal(list.body.stored, 8, JSON.stringify(list.body))
      assert.ok(list.body.data.every((f: any) => f.code === 'CONSTRAINT_VIOLATION'))
      assert.equal((await j.api('GET', failedOf(downRule))).body.stored, 3)
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_v_positive`)
      await eventually(() => j.api('GET', `${rules}/${ruleId}`), (r) => r.body.metrics !== null, 'rule running again')
      const replay = await j.api('POST', `${failedOf(ruleId)}/replay`, {})
      assert.deepEqual(replay.body, { replayed: 8, notFound: [] })
      const rows = await eventually(async () => (await db.query(`SELECT seq FROM ${table} ORDER BY seq`)).rows.map((r) => r.seq), (s) => s.length >= 8, '8 rows')
      assert.deepEqual(rows, [0, 1, 2, 3, 4, 5, 6, 7])
      assert.equal((await j.api('GET', failedOf(ruleId))).body.stored, 0)
    } finally {
      await j.close()
    }
  })
})
