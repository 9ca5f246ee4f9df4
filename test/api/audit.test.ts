import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { openDatabase, storeLocation, type StoreLocation } from '../../src/store/database.js'
import { migrateTo, migrateToLatest } from '../../src/store/migrations.js'
import { AuditStore } from '../../src/store/audit-store.js'
import { AuthStore } from '../../src/store/auth-store.js'
import { privateDatabase } from '../support/postgres.js'
import { AUTH, startJunction, tempDataDir, type TestJunction } from '../support/junction.js'

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
const PG_PASSWORD = 'Audit-Secret-Pw-4711'

describe('audit log', () => {
  let j: TestJunction
  let editor: string

  before(async () => {
    j = await startJunction()
    const k = await j.api('POST', '/api/v1/api-keys', { key: 'audit-editor', role: 'editor' })
    editor = basic(k.body.key, k.body.secret)
    assert.ok(!j.log().includes(k.body.secret))
  })
  after(async () => { await j.close() })

  const as = (authorization: string, method: string, url: string, payload?: unknown, remoteAddress = '10.5.0.7') =>
    j.junction.app.inject({ method: method as 'GET', url, headers: { authorization }, remoteAddress, ...(payload === undefined ? {} : { payload: payload as object }) })

  it('records who, from where, what and the diff of each change, with secrets masked', async () => {
    const name = `audit-pg-${process.pid}`
    const created = await as(editor, 'POST', '/api/v1/deployments/default/connectors', {
      name, type: 'postgresql', config: { host: '127.0.0.1', port: 5432, database: 'test', username: 'postgres', password: PG_PASSWORD },
    })
    assert.equal(created.statusCode, 201, created.payload)
    const id = created.json().id
    const updated = await as(editor, 'PUT', `/api/v1/deployments/default/connectors/${id}`, {
      name, version: created.json().version, config: { ...created.json().config, host: 'localhost', password: 'Another-Secret-Pw-99' },
    })
    assert.ok(updated.statusCode < 300, updated.payload)
    assert.equal((await as(editor, 'DELETE', `/api/v1/deployments/default/connectors/${id}?confirm=${id}`)).statusCode, 204)
    // Not changes: a read, a Test, and a refused change.
    await as(editor, 'GET', '/api/v1/deployments/default/connectors')
    assert.equal((await as(editor, 'POST', '/api/v1/users', { username: 'nope', password: 'nope-nope-1', role: 'admin' })).statusCode, 403)

    const r = await j.api('GET', `/api/v1/audit?actor=audit-editor&objectType=connector`)
    assert.equal(r.status, 200)
    const entries = r.body.data
    assert.deepEqual(entries.map((e: any) => e.action), ['delete', 'update', 'create'], 'newest first')
    for (const e of entries) {
      assert.deepEqual(e.actor, { kind: 'api_key', name: 'audit-editor' })
      assert.equal(e.source, '10.5.0.7')
      assert.equal(e.objectId, id)
      assert.equal(e.deploymentId, 'default')
      assert.ok(Date.parse(e.at) > Date.now() - 60_000)
    }
    const [del, upd, cre] = entries
    assert.equal(cre.method, 'POST')
    assert.equal(cre.path, '/api/v1/deployments/default/connectors')
    assert.ok(cre.diff.some((d: any) => d.path === 'config.host' && d.after === '127.0.0.1' && !('before' in d)))
    assert.ok(upd.diff.some((d: any) => d.path === 'config.host' && d.before === '127.0.0.1' && d.after === 'localhost'), JSON.stringify(upd.diff))
    assert.ok(del.diff.some((d: any) => d.path === 'config.host' && d.before === 'localhost' && !('after' in d)))
    const all = JSON.stringify(entries)
    assert.ok(!all.includes(PG_PASSWORD) && !all.includes('Another-Secret-Pw-99'), 'no secret in the audit log')
    const raw = JSON.stringify(await j.junction.store.db.selectFrom('audit_log').selectAll().execute())
    assert.ok(!raw.includes(PG_PASSWORD) && !raw.includes('Another-Secret-Pw-99'), 'no secret in the stored rows')
  })

  it("masks an API key's secret in the diff of its creation; users, keys and device users are objects too", async () => {
    const k = await j.api('POST', '/api/v1/api-keys', { key: 'audit-made', role: 'viewer' })
    await j.api('POST', '/api/v1/deployments/default/mqtt/users', { username: 'audit-dev', password: 'device-password-77' })
    await j.api('PATCH', '/api/v1/deployments/default/mqtt/users/audit-dev', { superuser: true, password: 'device-password-78' })
    const keyEntry = (await j.api('GET', '/api/v1/audit?objectType=api-key&action=create&limit=1')).body.data[0]
    assert.equal(keyEntry.objectId, 'audit-made')
    assert.ok(keyEntry.diff.some((d: any) => d.path === 'secret' && d.after === '******'))
    assert.ok(!JSON.stringify(keyEntry).includes(k.body.secret))
    const dev = (await j.api('GET', '/api/v1/audit?objectType=device-user')).body.data
    assert.deepEqual(dev.map((e: any) => [e.action, e.objectId]), [['update', 'audit-dev'], ['create', 'audit-dev']])
    assert.ok(dev[0].diff.some((d: any) => d.path === 'superuser' && d.before === false && d.after === true))
    assert.ok(dev[0].diff.some((d: any) => d.path === 'password' && d.after === '******'), 'a password change is noted, masked')
    assert.ok(!JSON.stringify(dev).includes('device-password-7'))
  })

  it('pages with limit/after, filters by time, and exports JSON lines oldest first', async () => {
    const first = await j.api('GET', '/api/v1/audit?limit=2')
    assert.equal(first.body.data.length, 2)
    assert.ok(first.body.next)
    const second = await j.api('GET', `/api/v1/audit?limit=2&after=${first.body.next}`)
    assert.ok(second.body.data.length >= 1)
    assert.ok(second.body.data[0].id < first.body.data[1].id, 'the next page continues where the first ended')
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.equal((await j.api('GET', `/api/v1/audit?since=${encodeURIComponent(future)}`)).body.data.length, 0)
    assert.ok((await j.api('GET', `/api/v1/audit?until=${encodeURIComponent(future)}`)).body.data.length > 3)
    assert.equal((await j.api('GET', '/api/v1/audit?limit=0')).status, 400)
    assert.equal((await j.api('GET', '/api/v1/audit?since=yesterday')).status, 400)

    const exp = await j.junction.app.inject({ method: 'GET', url: '/api/v1/audit/export?objectType=connector' })
    assert.equal(exp.statusCode, 401)
    const res = await j.junction.app.inject({ method: 'GET', url: '/api/v1/audit/export?objectType=connector', headers: { authorization: AUTH } })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /application\/x-ndjson/)
    const lines = res.payload.trim().split('\n').map((l: string) => JSON.parse(l))
    assert.deepEqual(lines.map((e: any) => e.action), ['create', 'update', 'delete'], 'oldest first')
    assert.equal((await as(editor, 'GET', '/api/v1/audit')).statusCode, 403, 'only admins read the audit log')
  })
})

async function migrationKeepsTheAdmin(location: StoreLocation): Promise<void> {
  const db = openDatabase(location)
  try {
    await migrateTo(db, '0002_broker_access')
    const now = new Date().toISOString()
    await db.insertInto('api_keys').values({ key: 'old-key', secret_hash: 'scrypt$x', role: 'administrator', description: '', created_at: now }).execute()
    await db.insertInto('users').values({ username: 'admin', password_hash: 'scrypt$y', role: 'administrator', created_at: now, updated_at: now }).execute()
    await migrateToLatest(db)
    const auth = new AuthStore(db)
    assert.equal((await auth.getApiKey('old-key'))?.role, 'admin')
    assert.equal((await auth.getUser('admin'))?.role, 'admin')
    assert.equal(await auth.countWithRole('admin'), 2)
    const audit = new AuditStore(db)
    const entry = { at: now, actor: { kind: 'user', name: 'admin' }, source: '::1', method: 'DELETE', path: '/x', action: 'delete', objectType: 'rule', objectId: 'r1', deploymentId: 'd', status: 204, diff: [{ path: 'name', before: 'a' }] }
    const a = await audit.append(entry)
    const b = await audit.append({ ...entry, objectId: 'r2', actor: { kind: 'api_key', name: 'k' } })
    assert.ok(a.id < b.id)
    assert.deepEqual((await audit.list({ limit: 10 })).map((e) => e.objectId), ['r2', 'r1'])
    assert.deepEqual((await audit.list({ limit: 10, actor: 'k' })).map((e) => e.objectId), ['r2'])
    assert.deepEqual((await audit.list({ limit: 10, after: b.id }))[0], { ...a })
  } finally {
    await db.destroy()
  }
}

describe('store: roles and audit migration', () => {
  it('on SQLite', async () => { await migrationKeepsTheAdmin(storeLocation(tempDataDir(), undefined)) })
  describe('on PostgreSQL', () => {
    const url = privateDatabase()
    it('the same', async () => { await migrationKeepsTheAdmin(storeLocation('', url)) })
  })
})
