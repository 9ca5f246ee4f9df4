// The product page's whole flow over HTTP, against real PostgreSQL servers: Test (wrong password,
// then right), create, list, details, edit (test, then save), plan restriction, delete guard.
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const PASSWORD = 'pg-Secret-4711'
const base = '/api/v1/deployments/default/connectors'

describe('connector flow (PostgreSQL)', () => {
  let j: TestJunction
  let pg: PrivatePostgres
  let id: string
  const config = () => ({ host: '127.0.0.1', port: pg.port, database: 'postgres', username: pg.user, password: PASSWORD, resource: { healthCheckIntervalMs: 1000 } })

  before(async () => {
    pg = await startPrivatePostgres({ auth: 'scram', password: PASSWORD })
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await pg?.destroy()
  })

  it('lists connector types with schemas, defaults and secret fields marked', async () => {
    const r = await j.api('GET', '/api/v1/connector-types')
    assert.equal(r.status, 200)
    const pgType = r.body.data.find((t: any) => t.type === 'postgresql')
    assert.ok(pgType, 'postgresql type listed')
    assert.equal(pgType.configSchema.properties.password.writeOnly, true)
    assert.equal(pgType.configSchema.properties.port.default, 5432)
    assert.ok(r.body.data.some((t: any) => t.type === 'kafka'))
  })

  it('Test with a wrong password fails at authenticate with a precise code', async () => {
    const r = await j.api('POST', `${base}/test`, { type: 'postgresql', config: { ...config(), password: 'wrong' } })
    assert.equal(r.status, 200)
    assert.equal(r.body.ok, false)
    assert.equal(r.body.error.code, 'AUTHENTICATION_FAILED')
    assert.ok(r.body.error.hint.length > 0)
    assert.equal(r.body.steps.at(-1).name, 'authenticate')
    assert.equal(r.body.steps.at(-1).ok, false)
  })

  it('Test with the right password succeeds with latency and steps', async () => {
    const r = await j.api('POST', `${base}/test`, { type: 'postgresql', config: config() })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.ok, true, JSON.stringify(r.body))
    assert.ok(r.body.latencyMs > 0)
    assert.ok(r.body.steps.every((s: any) => s.ok))
  })

  it('creates the connector (201), which starts connecting at once', async () => {
    const r = await j.api('POST', base, { name: 'warehouse', type: 'postgresql', description: 'telemetry store', config: config() })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    id = r.body.id
    assert.match(id, /^c-[a-z0-9]{8}$/)
    assert.ok(['connecting', 'connected'].includes(r.body.status))
    assert.equal(r.body.config.password, '******')
  })

  it('refuses a second connector with the same name (409)', async () => {
    const r = await j.api('POST', base, { name: 'warehouse', type: 'postgresql', config: config() })
    assert.equal(r.status, 409)
    assert.equal(r.body.error.code, 'NAME_TAKEN')
  })

  it('lists it with live status connected and ruleCount 0', async () => {
    const list = await eventually(() => j.api('GET', base), (r) => r.body.data[0]?.status === 'connected', 'connected')
    assert.equal(list.body.data.length, 1)
    const c = list.body.data[0]
    assert.deepEqual([c.id, c.name, c.type, c.ruleCount, c.statusReason], [id, 'warehouse', 'postgresql', 0, null])
    assert.ok(c.createdAt && c.lastConnectedAt)
    assert.equal(c.config, undefined, 'the list carries no config')
  })

  it('details show every default, the password masked, and no rules', async () => {
    const r = await j.api('GET', `${base}/${id}`)
    assert.equal(r.status, 200)
    assert.equal(r.body.config.password, '******')
    assert.equal(r.body.config.poolSize, 8)
    assert.equal(r.body.config.connectTimeoutMs, 5000)
    assert.deepEqual(r.body.config.tls, { enable: false, verify: true })
    assert.equal(r.body.config.resource.healthCheckIntervalMs, 1000)
    assert.deepEqual(r.body.rules, [])
    assert.equal(r.body.version, 1)
  })

  it('stores the password encrypted at rest and never logs it', async () => {
    const row = await j.junction.store.db.selectFrom('connectors').select('config').where('id', '=', id).executeTakeFirstOrThrow()
    assert.ok(!row.config.includes(PASSWORD), 'password in clear in the store')
    assert.match(JSON.parse(row.config).password, /^enc:v1:/)
    const key = readFileSync(join(j.settings.dataDir, 'secret.key'))
    assert.ok(key.length > 32)
    assert.equal(statSync(join(j.settings.dataDir, 'secret.key')).mode & 0o777, 0o600)
    assert.ok(!j.log().includes(PASSWORD), 'password in the log')
    assert.ok(j.log().includes(id), 'the log does mention the connector')
  })

  it('tests an edit before saving: masked password resolves to the stored one', async () => {
    const details = (await j.api('GET', `${base}/${id}`)).body
    const ok = await j.api('POST', `${base}/${id}/test`, { config: { ...details.config, poolSize: 4 } })
    assert.equal(ok.body.ok, true, JSON.stringify(ok))
    const bad = await j.api('POST', `${base}/${id}/test`, { config: { ...details.config, password: 'nope' } })
    assert.equal(bad.body.error.code, 'AUTHENTICATION_FAILED')
    const saved = await j.api('POST', `${base}/${id}/test`)
    assert.equal(saved.body.ok, true)
  })

  it('saves the edit: new version, stored secret kept, connection swapped and connected', async () => {
    const details = (await j.api('GET', `${base}/${id}`)).body
    const r = await j.api('PUT', `${base}/${id}`, { name: 'warehouse-2', config: { ...details.config, poolSize: 4 }, version: details.version })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.version, 2)
    assert.equal(r.body.name, 'warehouse-2')
    assert.equal(r.body.config.poolSize, 4)
    assert.equal(r.body.status, 'connected', 'the new connection is up when PUT answers')
    const probe = await j.api('POST', `${base}/${id}/test`)
    assert.equal(probe.body.ok, true, 'the stored password survived the masked edit')
  })

  it('refuses a stale version (409) and an edit with a bad field (400 with its path)', async () => {
    const stale = await j.api('PUT', `${base}/${id}`, { description: 'x', version: 1 })
    assert.equal(stale.status, 409)
    assert.equal(stale.body.error.code, 'VERSION_CONFLICT')
    const details = (await j.api('GET', `${base}/${id}`)).body
    const bad = await j.api('PUT', `${base}/${id}`, { config: { ...details.config, port: 'five' } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.body.error.fields.map((f: any) => f.path), ['config.port'])
    assert.equal((await j.api('GET', `${base}/${id}`)).body.version, 2, 'nothing saved')
  })

  it('on a serverless deployment, editing is refused with 403', async () => {
    assert.equal((await j.api('PATCH', '/api/v1/deployments/default', { plan: 'serverless' })).status, 200)
    const r = await j.api('PUT', `${base}/${id}`, { description: 'new' })
    assert.equal(r.status, 403)
    assert.equal(r.body.error.code, 'EDIT_NOT_ALLOWED_ON_PLAN')
    assert.match(r.body.error.message, /dedicated or premium/)
    assert.equal((await j.api('PATCH', '/api/v1/deployments/default', { plan: 'premium' })).status, 200)
    assert.equal((await j.api('PUT', `${base}/${id}`, { description: 'new' })).status, 200)
  })

  it('delete needs the ID typed as confirmation', async () => {
    const none = await j.api('DELETE', `${base}/${id}`)
    assert.equal(none.status, 400)
    assert.equal(none.body.error.code, 'CONFIRMATION_REQUIRED')
    const wrong = await j.api('DELETE', `${base}/${id}?confirm=c-wrong`)
    assert.equal(wrong.status, 400)
    assert.equal((await j.api('GET', `${base}/${id}`)).status, 200, 'still there')
  })

  it('delete is refused while a rule uses the connector, listing the rules; ruleCount counts them', async () => {
    const now = new Date().toISOString()
    await j.junction.store.rules.insert({
      id: 'r-test0001', deploymentId: 'default', name: 'temps to warehouse', sql: 'SELECT * FROM "t/#"', description: '', enabled: true,
      actions: [{ connectorId: id, params: { sql: 'INSERT INTO t VALUES (${payload})' } }, { connectorId: id, params: { sql: 'x' } }], createdAt: now, updatedAt: now,
    })
    const list = await j.api('GET', base)
    assert.equal(list.body.data[0].ruleCount, 1)
    const r = await j.api('DELETE', `${base}/${id}?confirm=${id}`)
    assert.equal(r.status, 409)
    assert.equal(r.body.error.code, 'CONNECTOR_IN_USE')
    assert.deepEqual(r.body.error.rules, [{ id: 'r-test0001', name: 'temps to warehouse' }])
    assert.deepEqual((await j.api('GET', `${base}/${id}`)).body.rules, [{ id: 'r-test0001', name: 'temps to warehouse' }])
    await j.junction.store.rules.delete('r-test0001')
  })

  it('deletes with the right confirmation (204); then it is gone', async () => {
    const r = await j.api('DELETE', `${base}/${id}?confirm=${id}`)
    assert.equal(r.status, 204)
    assert.equal((await j.api('GET', `${base}/${id}`)).status, 404)
    assert.deepEqual((await j.api('GET', base)).body.data, [])
  })
})

describe('connector status follows an outage (PostgreSQL)', () => {
  let j: TestJunction
  let pg: PrivatePostgres

  before(async () => {
    pg = await startPrivatePostgres()
    j = await startJunction()
  })
  after(async () => {
    await j?.close()
    await pg?.destroy()
  })

  it('connected -> server stopped -> disconnected with a reason -> server back -> connected', async () => {
    const created = await j.api('POST', base, {
      name: 'outage', type: 'postgresql',
      config: { host: '127.0.0.1', port: pg.port, database: 'postgres', username: pg.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const url = `${base}/${created.body.id}`
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected')
    await pg.stop()
    const down = await eventually(() => j.api('GET', url), (r) => r.body.status === 'disconnected', 'disconnected')
    assert.ok(down.body.statusReason.length > 0)
    assert.ok(down.body.statusCode)
    await pg.start()
    const up = await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected again')
    assert.equal(up.body.statusReason, null)
  })
})
