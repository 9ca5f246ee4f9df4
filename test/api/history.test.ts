import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { MqttClient } from 'mqtt'
import { openDatabase, storeLocation, type StoreLocation } from '../../src/store/database.js'
import { migrateTo, migrateToLatest } from '../../src/store/migrations.js'
import { HistoryStore } from '../../src/store/history-store.js'
import { AuditService } from '../../src/control/audit-service.js'
import { privateDatabase, startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { eventually, startJunction, tempDataDir, type TestJunction } from '../support/junction.js'
import { device } from '../e2e/support.js'

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
const RIGHT_PW = 'History-Right-Pw-5150'
const WRONG_PW = 'History-Wrong-Pw-8086'

describe('change history of a connector, and revert with its real secret', () => {
  let j: TestJunction
  let pg: PrivatePostgres
  const keys: Record<'viewer' | 'editor', string> = { viewer: '', editor: '' }
  const base = '/api/v1/deployments/default/connectors'

  before(async () => {
    pg = await startPrivatePostgres({ auth: 'scram', password: RIGHT_PW })
    j = await startJunction()
    for (const role of ['viewer', 'editor'] as const) {
      const k = await j.api('POST', '/api/v1/api-keys', { key: `history-${role}`, role })
      keys[role] = basic(k.body.key, k.body.secret)
    }
  })
  after(async () => {
    await j?.close()
    await pg?.destroy()
  })

  const as = (authorization: string, method: string, url: string, payload?: unknown) =>
    j.junction.app.inject({ method: method as 'GET', url, headers: { authorization }, remoteAddress: '10.9.8.7', ...(payload === undefined ? {} : { payload: payload as object }) })

  it('records each version with who, when, from where and a masked diff; a revert puts the real password back', async () => {
    const created = await as(keys.editor, 'POST', base, {
      name: 'history-pg', type: 'postgresql',
      config: { host: pg.host, port: pg.port, database: 'postgres', username: pg.user, password: RIGHT_PW },
    })
    assert.equal(created.statusCode, 201, created.payload)
    const id = created.json().id
    const url = `${base}/${id}`
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected with the right password')

    const wrong = await as(keys.editor, 'PUT', url, { version: 1, config: { ...created.json().config, password: WRONG_PW, connectTimeoutMs: 3000 } })
    assert.equal(wrong.statusCode, 200, wrong.payload)
    assert.equal(wrong.json().version, 2)
    const down = await eventually(() => j.api('GET', url), (r) => r.body.status === 'disconnected', 'refused with the wrong password')
    assert.match(`${down.body.statusCode} ${down.body.statusReason}`, /AUTH|password/i)

    const history = await as(keys.viewer, 'GET', `${url}/history`)
    assert.equal(history.statusCode, 200, history.payload)
    const [v2, v1] = history.json().data
    assert.deepEqual([v2.version, v1.version], [2, 1], 'newest first')
    assert.deepEqual([v2.action, v1.action], ['update', 'create'])
    for (const v of [v1, v2]) {
      assert.deepEqual(v.actor, { kind: 'api_key', name: 'history-editor' })
      assert.equal(v.source, '10.9.8.7')
      assert.ok(Date.parse(v.at) > Date.now() - 120_000)
    }
    assert.equal(v1.diff, null, 'the first version has nothing to compare with')
    assert.deepEqual(v2.diff.find((d: any) => d.path === 'config.password'), { path: 'config.password', before: '******', after: '******' }, 'a changed secret is noted, masked')
    assert.ok(v2.diff.some((d: any) => d.path === 'config.connectTimeoutMs' && d.after === 3000), JSON.stringify(v2.diff))

    const one = await as(keys.viewer, 'GET', `${url}/history/1`)
    assert.equal(one.statusCode, 200, one.payload)
    assert.equal(one.json().config.name, 'history-pg')
    assert.equal(one.json().config.config.password, '******')
    assert.equal(one.json().config.config.host, pg.host)

    // Nothing in clear: not in answers, not in the stored history, not in the log.
    const stored = JSON.stringify(await j.junction.store.db.selectFrom('change_history').selectAll().execute())
    assert.ok(stored.includes('enc:v1:'), 'the history keeps the secrets sealed')
    for (const text of [history.payload, one.payload, stored, j.log()]) {
      assert.ok(!text.includes(RIGHT_PW) && !text.includes(WRONG_PW), 'no password in clear')
    }

    assert.equal((await as(keys.viewer, 'POST', `${url}/revert`, { version: 1 })).statusCode, 403, 'a viewer may not revert')
    const reverted = await as(keys.editor, 'POST', `${url}/revert`, { version: 1 })
    assert.equal(reverted.statusCode, 200, reverted.payload)
    assert.equal(reverted.json().version, 3)
    assert.equal(reverted.json().config.password, '******')
    assert.equal(reverted.json().config.connectTimeoutMs, created.json().config.connectTimeoutMs)
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected again with the reverted real password')

    const v3 = (await j.api('GET', `${url}/history?limit=1`)).body
    assert.equal(v3.data.length, 1)
    assert.equal(v3.next, '3')
    assert.equal(v3.data[0].action, 'revert')
    assert.equal(v3.data[0].revertedFrom, 1)
    assert.deepEqual(v3.data[0].diff.find((d: any) => d.path === 'config.password'), { path: 'config.password', before: '******', after: '******' })
    const rest = (await j.api('GET', `${url}/history?limit=1&after=3`)).body
    assert.deepEqual(rest.data.map((v: any) => v.version), [2])
    assert.equal(rest.next, '2')

    const audit = (await j.api('GET', '/api/v1/audit?action=revert&objectType=connector')).body.data[0]
    assert.equal(audit.objectId, id)
    assert.equal(audit.actor.name, 'history-editor')
    assert.ok(audit.diff.some((d: any) => d.path === 'version' && d.before === 2 && d.after === 3))

    const again = await as(keys.editor, 'POST', `${url}/revert`, { version: 1 })
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().error.code, 'NOTHING_TO_REVERT')
    const missing = await as(keys.editor, 'POST', `${url}/revert`, { version: 99 })
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.json().error.code, 'VERSION_NOT_FOUND')
    assert.equal((await j.api('GET', `${url}/history/99`)).body.error.code, 'VERSION_NOT_FOUND')
    assert.equal((await j.api('GET', `${url}/history/0`)).status, 400)
    assert.equal((await j.api('GET', `${base}/cnope0/history`)).body.error.code, 'CONNECTOR_NOT_FOUND')
    assert.equal((await j.api('GET', `${url}/history`)).body.data.length, 3, 'a refused revert records no version')

    assert.equal((await j.api('DELETE', `${url}?confirm=${id}`)).status, 204)
    const left = await j.junction.store.db.selectFrom('change_history').selectAll().where('object_id', '=', id).execute()
    assert.equal(left.length, 0, 'history goes with the object')
  })

  it('a revert is an edit: refused on a serverless deployment with the same error as PUT', async () => {
    const dep = await j.api('POST', '/api/v1/deployments', { name: 'history-serverless', plan: 'serverless' })
    assert.equal(dep.status, 201, JSON.stringify(dep.body))
    const depBase = `/api/v1/deployments/${dep.body.id}/connectors`
    await eventually(() => j.api('GET', `/api/v1/deployments/${dep.body.id}`), (r) => r.body.status === 'running', 'running')
    const c = await j.api('POST', depBase, { name: 'sl', type: 'postgresql', config: { host: pg.host, port: pg.port, database: 'postgres', username: pg.user, password: RIGHT_PW } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const put = await j.api('PUT', `${depBase}/${c.body.id}`, { description: 'x' })
    const revert = await j.api('POST', `${depBase}/${c.body.id}/revert`, { version: 1 })
    assert.equal(put.status, 403)
    assert.equal(revert.status, 403)
    assert.equal(revert.body.error.code, put.body.error.code)
    assert.equal(revert.body.error.code, 'EDIT_NOT_ALLOWED_ON_PLAN')
    assert.equal((await j.api('GET', `${depBase}/${c.body.id}/history`)).body.data.length, 1)
    assert.equal((await j.api('DELETE', `${depBase}/${c.body.id}?confirm=${c.body.id}`)).status, 204)
    assert.equal((await j.api('DELETE', `/api/v1/deployments/${dep.body.id}`)).status, 204)
  })
})

/** A rule whose SQL changes what it republishes; a revert changes it back, seen on a real subscriber. */
async function ruleRevertChangesWhatItDoes(j: TestJunction): Promise<void> {
  const rules = '/api/v1/deployments/default/rules'
  const sub: MqttClient = await device(j)
  const pub: MqttClient = await device(j)
  try {
    const received: string[] = []
    sub.on('message', (_t, p) => received.push(p.toString()))
    await sub.subscribeAsync('history/out', { qos: 1 })
    const created = await j.api('POST', rules, {
      name: 'history-rule', sql: 'SELECT payload.x AS v FROM "history/in"',
      actions: [{ builtin: 'republish', params: { topic: 'history/out', qos: 1, payload: 'v=${v}' } }],
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const url = `${rules}/${created.body.id}`
    const roundTrip = async (x: number, expected: string) => {
      await pub.publishAsync('history/in', JSON.stringify({ x }), { qos: 1 })
      await eventually(async () => received, (r) => r.includes(expected), `republished ${expected}`)
    }
    await roundTrip(1, 'v=1')
    const changed = await j.api('PUT', url, { sql: "SELECT 'changed' AS v FROM \"history/in\"" })
    assert.equal(changed.status, 200, JSON.stringify(changed.body))
    await roundTrip(2, 'v=changed')

    const history = (await j.api('GET', `${url}/history`)).body.data
    assert.deepEqual(history.map((v: any) => [v.version, v.action]), [[2, 'update'], [1, 'create']])
    assert.deepEqual(history[0].diff, [{ path: 'sql', before: 'SELECT payload.x AS v FROM "history/in"', after: "SELECT 'changed' AS v FROM \"history/in\"" }])
    const v1 = (await j.api('GET', `${url}/history/1`)).body
    assert.equal(v1.config.sql, 'SELECT payload.x AS v FROM "history/in"')
    assert.equal(v1.config.actions[0].builtin, 'republish')

    const reverted = await j.api('POST', `${url}/revert`, { version: 1 })
    assert.equal(reverted.status, 200, JSON.stringify(reverted.body))
    assert.equal(reverted.body.sql, 'SELECT payload.x AS v FROM "history/in"')
    received.length = 0
    await roundTrip(3, 'v=3')
    assert.ok(!received.includes('v=changed'), 'the reverted SQL runs, not the edited one')
    const after = (await j.api('GET', `${url}/history`)).body.data[0]
    assert.deepEqual([after.version, after.action, after.revertedFrom], [3, 'revert', 1])
    assert.equal((await j.api('POST', `${url}/revert`, { version: 3 })).body.error.code, 'NOTHING_TO_REVERT')

    assert.equal((await j.api('POST', `${url}/disable`)).status, 200)
    assert.deepEqual((await j.api('GET', `${url}/history?limit=1`)).body.data[0].diff, [{ path: 'enabled', before: true, after: false }])
    assert.equal((await j.api('DELETE', url)).status, 204)
    assert.equal((await j.junction.store.db.selectFrom('change_history').selectAll().where('object_id', '=', created.body.id).execute()).length, 0)
  } finally {
    await sub.endAsync()
    await pub.endAsync()
  }
}

describe('change history of a rule', () => {
  it('on the SQLite store: a revert changes what the rule does, seen through a real MQTT message', async () => {
    const j = await startJunction()
    try { await ruleRevertChangesWhatItDoes(j) } finally { await j.close() }
  })
  describe('on the PostgreSQL store', () => {
    const url = privateDatabase()
    it('the same', async () => {
      const j = await startJunction({ databaseUrl: url })
      try { await ruleRevertChangesWhatItDoes(j) } finally { await j.close() }
    })
  })
})

describe('history cap and audit retention', () => {
  it(`keeps at most JUNCTION_HISTORY_MAX_VERSIONS versions per object, the oldest dropped`, async () => {
    const j = await startJunction({ historyMaxVersions: 3 })
    try {
      const rules = '/api/v1/deployments/default/rules'
      const r = await j.api('POST', rules, { name: 'capped', sql: 'SELECT * FROM "cap/#"', actions: [] })
      for (let i = 1; i <= 4; i++) assert.equal((await j.api('PUT', `${rules}/${r.body.id}`, { description: `edit ${i}` })).status, 200)
      const kept = (await j.api('GET', `${rules}/${r.body.id}/history`)).body.data
      assert.deepEqual(kept.map((v: any) => v.version), [5, 4, 3])
      assert.equal((await j.api('POST', `${rules}/${r.body.id}/revert`, { version: 1 })).body.error.code, 'VERSION_NOT_FOUND')
      assert.equal((await j.api('POST', `${rules}/${r.body.id}/revert`, { version: 3 })).status, 200)
      assert.deepEqual((await j.api('GET', `${rules}/${r.body.id}/history`)).body.data.map((v: any) => v.version), [6, 5, 4])
    } finally { await j.close() }
  })

  it('deletes audit entries older than JUNCTION_AUDIT_RETENTION_DAYS at start; 0 keeps them all', async () => {
    const dataDir = tempDataDir()
    const day = 86_400_000
    const entry = (daysAgo: number, objectId: string) => ({
      at: new Date(Date.now() - daysAgo * day).toISOString(), actor: { kind: 'user', name: 'admin' }, source: '::1', method: 'DELETE',
      path: '/x', action: 'delete', objectType: 'rule', objectId, deploymentId: 'default', status: 204, diff: null,
    })
    const ids = async (j: TestJunction) => (await j.api('GET', '/api/v1/audit?objectType=rule&action=delete')).body.data.map((e: any) => e.objectId)
    let j = await startJunction({ dataDir, auditRetentionDays: 0 })
    await j.junction.store.audit.append(entry(400, 'ancient'))
    await j.junction.store.audit.append(entry(45, 'older'))
    await j.junction.store.audit.append(entry(1, 'recent'))
    await j.close()
    j = await startJunction({ dataDir, auditRetentionDays: 0 })
    assert.deepEqual(await ids(j), ['recent', 'older', 'ancient'], '0 keeps everything')
    await j.close()
    j = await startJunction({ dataDir })
    assert.deepEqual(await ids(j), ['recent', 'older'], 'the default, 90 days')
    await j.close()
    j = await startJunction({ dataDir, auditRetentionDays: 30 })
    assert.deepEqual(await ids(j), ['recent'])
    // What the hourly pass runs, an hour (here: 30 days) later.
    assert.equal(await new AuditService(j.junction.store.audit, 30).prune(Date.now() + 30 * day), 1)
    assert.deepEqual(await ids(j), [])
    assert.equal(await new AuditService(j.junction.store.audit, 0).prune(Date.now() + 1000 * day), 0, '0 never deletes')
    await j.close()
  })
})

async function historyStoreWorks(location: StoreLocation): Promise<void> {
  const db = openDatabase(location)
  try {
    await migrateTo(db, '0003_roles_audit')
    const now = new Date().toISOString()
    await db.insertInto('deployments').values({ id: 'd1', name: 'd1', plan: 'dedicated', desired_state: 'running', mqtt_port: null, created_at: now, updated_at: now }).execute()
    await db.insertInto('connectors').values({
      id: 'c1', deployment_id: 'd1', name: 'old', type: 'postgresql', description: '', config: JSON.stringify({ host: 'h', password: 'enc:v1:sealed' }),
      enabled: 1, version: 4, created_at: now, updated_at: now,
    }).execute()
    await db.insertInto('rules').values({ id: 'r1', deployment_id: 'd1', name: 'r', sql: 'SELECT * FROM "t"', description: '', enabled: 0, actions: '[]', created_at: now, updated_at: now }).execute()
    await migrateToLatest(db)
    const history = new HistoryStore(db)
    const c = await history.latest('connector', 'c1')
    assert.equal(c?.version, 4, "a connector's history starts at its version")
    assert.equal(c?.action, 'baseline')
    assert.deepEqual(c?.snapshot, { name: 'old', description: '', enabled: true, config: { host: 'h', password: 'enc:v1:sealed' } }, 'secrets stay sealed')
    const r = await history.latest('rule', 'r1')
    assert.deepEqual([r?.version, r?.snapshot.enabled, r?.actor.kind], [1, false, 'system'])
    const e = { objectType: 'rule' as const, objectId: 'r1', deploymentId: 'd1', at: now, actor: { kind: 'user', name: 'u' }, source: '::1', action: 'update', revertedFrom: null, snapshot: { sql: 'x' }, diff: [{ path: 'sql', after: 'x' }] }
    // Concurrent appends each get their own number.
    const made = await Promise.all([history.append(e, 3), history.append(e, 3), history.append(e, 3)])
    assert.deepEqual(made.map((m) => m.version).sort(), [2, 3, 4])
    assert.deepEqual((await history.list('rule', 'r1', { limit: 10 })).map((v) => v.version), [4, 3, 2], 'capped at 3')
    assert.deepEqual((await history.list('rule', 'r1', { limit: 10, before: 4 })).map((v) => v.version), [3, 2])
    await history.deleteDeployment('d1')
    assert.equal(await history.latest('connector', 'c1'), undefined)
  } finally {
    await db.destroy()
  }
}

describe('store: change history migration', () => {
  it('on SQLite', async () => { await historyStoreWorks(storeLocation(tempDataDir(), undefined)) })
  describe('on PostgreSQL', () => {
    const url = privateDatabase()
    it('the same', async () => { await historyStoreWorks(storeLocation('', url)) })
  })
})
