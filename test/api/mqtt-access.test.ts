// Device access over the API: device users, the ACL and the broker settings of a deployment,
// checked through the DeviceAccess the broker will call (real store, real scrypt), and kept across
// a restart on the embedded store and on PostgreSQL (TLS key and passwords never in clear).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { privateDatabase } from '../support/postgres.js'
import { AUTH, startJunction, tempDataDir, type TestJunction } from '../support/junction.js'
import type { Settings } from '../../src/settings.js'

const run = promisify(execFile)
const users = '/api/v1/deployments/default/mqtt/users'
const acl = '/api/v1/deployments/default/mqtt/acl'

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-tls-'))
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
    '-days', '2', '-subj', '/CN=localhost'], { timeout: 30_000 })
  return { cert: await readFile(join(dir, 'c.pem'), 'utf8'), key: await readFile(join(dir, 'k.pem'), 'utf8') }
}

const login = (j: TestJunction, username: string | undefined, password?: string, dep = 'default') =>
  j.junction.deployments.access(dep).authenticate({ clientid: 'c1', username, password: password === undefined ? undefined : Buffer.from(password), peerhost: '127.0.0.1' })

describe('device users', () => {
  let j: TestJunction
  before(async () => { j = await startJunction({ mqttAllowAnonymous: false }) })
  after(async () => { await j.close() })

  it('add, list, get, change password and superuser, delete; the password is never returned', async () => {
    const created = await j.api('POST', users, { username: 'sensor-1', password: 'first-password' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.deepEqual(Object.keys(created.body).sort(), ['createdAt', 'superuser', 'updatedAt', 'username'])
    assert.equal(created.body.superuser, false)
    assert.deepEqual(await login(j, 'sensor-1', 'first-password'), { ok: true, anonymous: false, superuser: false })
    assert.deepEqual(await login(j, 'sensor-1', 'wrong'), { ok: false, reason: 'bad_username_or_password' })

    const dup = await j.api('POST', users, { username: 'sensor-1', password: 'x' })
    assert.equal(dup.status, 409)
    assert.equal(dup.body.error.code, 'USERNAME_TAKEN')

    await j.api('POST', users, { username: 'a/b c', password: 'pw', superuser: true })
    const list = await j.api('GET', users)
    assert.deepEqual(list.body.data.map((u: any) => [u.username, u.superuser]), [['a/b c', true], ['sensor-1', false]])
    const one = await j.api('GET', `${users}/${encodeURIComponent('a/b c')}`)
    assert.equal(one.status, 200)
    assert.equal(one.body.username, 'a/b c')

    const changed = await j.api('PATCH', `${users}/sensor-1`, { password: 'second-password' })
    assert.equal(changed.status, 200)
    assert.deepEqual(await login(j, 'sensor-1', 'first-password'), { ok: false, reason: 'bad_username_or_password' })
    assert.deepEqual(await login(j, 'sensor-1', 'second-password'), { ok: true, anonymous: false, superuser: false })
    assert.equal((await j.api('PATCH', `${users}/sensor-1`, { superuser: true })).body.superuser, true)
    assert.deepEqual(await login(j, 'sensor-1', 'second-password'), { ok: true, anonymous: false, superuser: true })

    assert.equal((await j.api('DELETE', `${users}/sensor-1`)).status, 204)
    assert.deepEqual(await login(j, 'sensor-1', 'second-password'), { ok: false, reason: 'bad_username_or_password' })
    const gone = await j.api('GET', `${users}/sensor-1`)
    assert.equal(gone.status, 404)
    assert.equal(gone.body.error.code, 'DEVICE_USER_NOT_FOUND')
    assert.equal((await j.api('DELETE', `${users}/sensor-1`)).status, 404)
    assert.equal((await j.api('PATCH', `${users}/nobody`, { password: 'x' })).status, 404)

    const row = await j.junction.store.mqttAccess.getUser('default', 'a/b c')
    assert.match(row!.passwordHash, /^scrypt\$16384\$8\$1\$/)
    for (const secret of ['first-password', 'second-password']) assert.ok(!j.log().includes(secret), 'passwords never logged')
  })

  it('bad input: 400 with the field, nothing stored; unknown deployment 404', async () => {
    const cases: Array<[unknown, string]> = [
      [{ username: 'u' }, 'password'],
      [{ username: '', password: 'x' }, 'username'],
      [{ username: 'u', password: '' }, 'password'],
      [{ username: 'u', password: 'x', superuser: 'yes' }, 'superuser'],
      [{ username: 'u', password: 'x', role: 'admin' }, 'role'],
      [{ username: 'tab\there', password: 'x' }, 'username'],
    ]
    for (const [body, path] of cases) {
      const r = await j.api('POST', users, body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.error.code, 'VALIDATION_FAILED')
      assert.equal(r.body.error.fields[0].path, path, JSON.stringify(r.body))
    }
    assert.equal((await j.api('PATCH', `${users}/a%2Fb%20c`, {})).status, 400, 'an empty change')
    assert.equal((await j.api('GET', users)).body.data.some((u: any) => u.username === 'u'), false)
    const missing = await j.api('GET', '/api/v1/deployments/nope/mqtt/users')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error.code, 'DEPLOYMENT_NOT_FOUND')
  })

  it('anonymous clients and unknown usernames follow allowAnonymous, which a PATCH changes at once', async () => {
    assert.deepEqual(await login(j, undefined), { ok: false, reason: 'not_authorized' })
    assert.deepEqual(await login(j, 'ghost', 'x'), { ok: false, reason: 'bad_username_or_password' })
    const on = await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { allowAnonymous: true } })
    assert.equal(on.status, 200)
    assert.equal(on.body.mqtt.allowAnonymous, true)
    assert.equal(j.junction.deployments.runtime('default').limits.allowAnonymous, true)
    assert.deepEqual(await login(j, undefined), { ok: true, anonymous: true, superuser: false })
    assert.deepEqual(await login(j, 'ghost', 'x'), { ok: true, anonymous: true, superuser: false })
    await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { allowAnonymous: false } })
    assert.deepEqual(await login(j, undefined), { ok: false, reason: 'not_authorized' })
  })

  it('login stats count failures per username and client address', async () => {
    const r = await j.api('GET', '/api/v1/deployments/default/mqtt/login-stats')
    assert.equal(r.status, 200)
    assert.ok(r.body.failed >= 4, JSON.stringify(r.body))
    assert.ok(r.body.succeeded >= 3)
    assert.ok(r.body.anonymousRefused >= 2)
    assert.ok(r.body.failedByUsername.some((u: any) => u.username === 'sensor-1' && u.failures >= 3))
    assert.equal(r.body.failedByPeerhost[0].peerhost, '127.0.0.1')
    const metrics = await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: AUTH } })
    assert.match(metrics.body, new RegExp(`junction_mqtt_logins_total\\{deployment="default",result="failure"\\} ${r.body.failed}\\n`))
    assert.match(metrics.body, /junction_mqtt_logins_total\{deployment="default",result="anonymous_refused"\} \d+/)
  })
})

describe('ACL', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j.close() })

  it('is "no rules, allow" until saved; PUT replaces it and connected clients see it at their next check', async () => {
    const first = await j.api('GET', acl)
    assert.deepEqual(first.body, { rules: [], default: 'allow', updatedAt: null })
    const perms = j.junction.deployments.access('default').permissions({ clientid: 'dev-1', username: 'alice', superuser: false })
    assert.equal(perms.canPublish('devices/dev-2/temp'), true)

    const doc = {
      rules: [
        { who: 'all', action: 'subscribe', topic: 'eq #', permission: 'deny' },
        { who: { username: 'alice' }, action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
        { who: { clientid: 'dev-9' }, action: 'publish', topic: 'alerts/+', permission: 'allow' },
      ],
      default: 'deny',
    }
    const put = await j.api('PUT', acl, doc)
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.deepEqual(put.body.rules, doc.rules)
    assert.ok(put.body.updatedAt)
    assert.deepEqual((await j.api('GET', acl)).body.rules, doc.rules)

    assert.equal(perms.canPublish('devices/dev-2/temp'), false, 'the connected client is checked against the new ACL')
    assert.equal(perms.canPublish('devices/dev-1/temp'), true)
    assert.equal(perms.canSubscribe('#'), false)
    const other = j.junction.deployments.access('default').permissions({ clientid: 'dev-9', username: undefined, superuser: false })
    assert.equal(other.canPublish('alerts/fire'), true)
    assert.equal(other.canPublish('devices/dev-9/x'), false)
    const root = j.junction.deployments.access('default').permissions({ clientid: 'x', username: 'root', superuser: true })
    assert.equal(root.canSubscribe('#'), true)
  })

  it('bad filters and shapes: 400 with the rule\'s field path and a hint; nothing changes', async () => {
    const before = (await j.api('GET', acl)).body
    const bad = await j.api('PUT', acl, {
      rules: [
        { who: 'all', action: 'all', topic: 'ok/#', permission: 'allow' },
        { who: 'all', action: 'all', topic: 'a/#/b', permission: 'allow' },
        { who: 'all', action: 'all', topic: 'x/${password}', permission: 'allow' },
      ],
      default: 'deny',
    })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED')
    assert.deepEqual(bad.body.error.fields.map((f: any) => f.path), ['rules.1.topic', 'rules.2.topic'])
    assert.match(bad.body.error.fields[0].hint, /a\/#/)
    assert.match(bad.body.error.fields[1].hint, /\$\{username\}/)

    const shapes: Array<[unknown, string]> = [
      [{ rules: [{ who: 'everyone', action: 'all', topic: 't', permission: 'allow' }], default: 'deny' }, 'rules.0.who'],
      [{ rules: [{ who: 'all', action: 'read', topic: 't', permission: 'allow' }], default: 'deny' }, 'rules.0.action'],
      [{ rules: [{ who: 'all', action: 'all', topic: '', permission: 'allow' }], default: 'deny' }, 'rules.0.topic'],
      [{ rules: [{ who: 'all', action: 'all', topic: 't', permission: 'maybe' }], default: 'deny' }, 'rules.0.permission'],
      [{ rules: [] }, 'default'],
      [{ rules: [], default: 'deny', extra: 1 }, 'extra'],
    ]
    for (const [body, path] of shapes) {
      const r = await j.api('PUT', acl, body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.error.fields[0].path, path, JSON.stringify(r.body.error))
      assert.ok(r.body.error.fields[0].hint)
    }
    assert.deepEqual((await j.api('GET', acl)).body, before)
  })
})

describe('broker settings (mqtt on the deployment)', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j.close() })

  it('GET shows every setting plus where the broker listens; PATCH changes only what it names', async () => {
    const d = (await j.api('GET', '/api/v1/deployments/default')).body
    assert.equal(d.mqtt.maxPacketSize, 1048576)
    assert.deepEqual(d.mqtt.listeners, { tls: { enabled: true, port: null }, ws: { enabled: true, port: null, path: '/mqtt' }, wss: { enabled: true, port: null, path: '/mqtt' } })
    assert.deepEqual(d.mqtt.tls, { certificate: null, key: null })
    assert.equal(d.mqtt.host, '127.0.0.1')
    assert.ok(d.mqtt.port > 0)
    assert.equal(d.mqttPort, null)

    const r = await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { maxPacketSize: 4096, maxConnections: 10, maxMessageRate: 2.5, listeners: { ws: { path: '/ws' }, tls: { enabled: false } } } })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.mqtt.maxPacketSize, 4096)
    assert.equal(r.body.mqtt.maxConnections, 10)
    assert.equal(r.body.mqtt.maxMessageRate, 2.5)
    assert.equal(r.body.mqtt.maxInflight, 32, 'untouched')
    assert.deepEqual(r.body.mqtt.listeners.ws, { enabled: true, port: null, path: '/ws' })
    assert.deepEqual(r.body.mqtt.listeners.tls, { enabled: false, port: null })
    assert.equal(r.body.mqtt.port, d.mqtt.port, 'the broker did not move')
    const limits = j.junction.deployments.runtime('default').limits
    assert.equal(limits.maxPacketSize, 4096)
    assert.equal(limits.maxConnections, 10)
    await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { maxInflight: 5, maxConnections: null } })
    assert.equal(j.junction.deployments.runtime('default').limits.maxInflight, 5)
    assert.equal(j.junction.deployments.runtime('default').limits.maxConnections, null)
  })

  it('ranges and shapes: 400 with the field path, nothing changed', async () => {
    const before = (await j.api('GET', '/api/v1/deployments/default')).body.mqtt
    const cases: Array<[unknown, string]> = [
      [{ maxPacketSize: 15 }, 'mqtt.maxPacketSize'],
      [{ maxPacketSize: 268435456 }, 'mqtt.maxPacketSize'],
      [{ maxInflight: 0 }, 'mqtt.maxInflight'],
      [{ serverKeepAlive: 70000 }, 'mqtt.serverKeepAlive'],
      [{ maxMessageRate: 0 }, 'mqtt.maxMessageRate'],
      [{ allowAnonymous: 'yes' }, 'mqtt.allowAnonymous'],
      [{ listeners: { ws: { path: 'no-slash' } } }, 'mqtt.listeners.ws.path'],
      [{ listeners: { tls: { port: 70000 } } }, 'mqtt.listeners.tls.port'],
      [{ listeners: { quic: {} } }, 'mqtt.listeners.quic'],
      [{ listeners: { ws: { port: 9001 }, wss: { port: 9001 } } }, 'mqtt.listeners.wss.port'],
      [{ maxPacketSze: 100 }, 'mqtt.maxPacketSze'],
    ]
    for (const [mqtt, path] of cases) {
      const r = await j.api('PATCH', '/api/v1/deployments/default', { mqtt })
      assert.equal(r.status, 400, JSON.stringify(mqtt))
      assert.equal(r.body.error.fields[0].path, path, JSON.stringify(r.body.error))
      assert.ok(r.body.error.fields[0].hint)
    }
    assert.deepEqual((await j.api('GET', '/api/v1/deployments/default')).body.mqtt, before)
  })

  it('TLS certificate and key: checked together, the key masked and kept by "******", never logged', async () => {
    const a = await selfSigned()
    const b = await selfSigned()
    const url = '/api/v1/deployments/default'
    const mismatch = await j.api('PATCH', url, { mqtt: { tls: { certificate: a.cert, key: b.key } } })
    assert.equal(mismatch.status, 400)
    assert.equal(mismatch.body.error.fields[0].path, 'mqtt.tls.key')
    assert.match(mismatch.body.error.fields[0].message, /does not belong/)
    const junk = await j.api('PATCH', url, { mqtt: { tls: { certificate: 'hello', key: 'world' } } })
    assert.deepEqual(junk.body.error.fields.map((f: any) => f.path), ['mqtt.tls.certificate', 'mqtt.tls.key'])
    const half = await j.api('PATCH', url, { mqtt: { tls: { certificate: a.cert } } })
    assert.equal(half.body.error.fields[0].path, 'mqtt.tls.key')
    const nothingKept = await j.api('PATCH', url, { mqtt: { tls: { certificate: a.cert, key: '******' } } })
    assert.equal(nothingKept.status, 400)

    const ok = await j.api('PATCH', url, { mqtt: { tls: { certificate: a.cert, key: a.key } } })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(ok.body.mqtt.tls.certificate, a.cert)
    assert.equal(ok.body.mqtt.tls.key, '******')
    assert.equal(j.junction.deployments.runtime('default').settings.tls.key, a.key, 'the runtime gets the key in clear')
    const kept = await j.api('PATCH', url, { mqtt: { tls: { key: '******' }, maxInflight: 7 } })
    assert.equal(kept.status, 200)
    assert.equal((await j.junction.store.deployments.get('default'))!.mqttSettings.tls.key, a.key)
    const list = await j.api('GET', '/api/v1/deployments')
    assert.equal(list.body.data[0].mqtt.tls.key, '******')
    assert.ok(!j.log().includes(a.key.split('\n')[1]!), 'the key never reaches the log')
    const removed = await j.api('PATCH', url, { mqtt: { tls: { certificate: null, key: null } } })
    assert.deepEqual(removed.body.mqtt.tls, { certificate: null, key: null })
  })

  it('create takes mqtt too; a stopped deployment keeps its settings with host and port null', async () => {
    const created = await j.api('POST', '/api/v1/deployments', { name: 'with-settings', mqtt: { maxQueuedMessages: 5, allowAnonymous: true } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.body.mqtt.maxQueuedMessages, 5)
    assert.equal(created.body.mqtt.allowAnonymous, true)
    assert.equal(j.junction.deployments.runtime(created.body.id).limits.maxQueuedMessages, 5)
    const stopped = await j.api('POST', `/api/v1/deployments/${created.body.id}/stop`)
    assert.equal(stopped.body.mqtt.host, null)
    assert.equal(stopped.body.mqtt.port, null)
    assert.equal(stopped.body.mqtt.maxQueuedMessages, 5)
    const bad = await j.api('POST', '/api/v1/deployments', { name: 'bad-settings', mqtt: { maxInflight: -1 } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.fields[0].path, 'mqtt.maxInflight')
    assert.ok(!(await j.api('GET', '/api/v1/deployments')).body.data.some((d: any) => d.name === 'bad-settings'))
  })

  it('where the broker listens now (addresses) comes beside the settings, which it does not change', async () => {
    const d = (await j.api('GET', '/api/v1/deployments/default')).body
    assert.ok(d.mqtt.addresses.length >= 1)
    assert.equal(d.mqtt.addresses[0].transport, 'tcp')
    assert.equal(d.mqtt.addresses[0].port, d.mqtt.port)
    assert.deepEqual(Object.keys(d.mqtt.listeners).sort(), ['tls', 'ws', 'wss'], 'the listener settings keep their shape')
  })

  it('the OpenAPI document has the new routes and the mqtt settings with descriptions', async () => {
    const doc = (await j.api('GET', '/api/v1/openapi.json')).body
    for (const p of ['/api/v1/deployments/{dep}/mqtt/users', '/api/v1/deployments/{dep}/mqtt/users/{username}', '/api/v1/deployments/{dep}/mqtt/acl', '/api/v1/deployments/{dep}/mqtt/login-stats']) {
      assert.ok(doc.paths[p], p)
    }
    assert.deepEqual(Object.keys(doc.paths['/api/v1/deployments/{dep}/mqtt/users/{username}']).sort(), ['delete', 'get', 'patch'])
    const schemas = JSON.stringify(doc)
    assert.match(schemas, /Largest MQTT packet accepted/)
    assert.match(schemas, /\$\{username\} and \$\{clientid\}/)
  })
})

describe('JUNCTION_MQTT_ALLOW_ANONYMOUS', () => {
  it('sets the default deployment\'s allowAnonymous at every start; unset keeps the stored value', async () => {
    const dataDir = tempDataDir()
    let j = await startJunction({ dataDir, mqttAllowAnonymous: undefined })
    try {
      assert.equal((await j.api('GET', '/api/v1/deployments/default')).body.mqtt.allowAnonymous, false, 'refused on a fresh install')
      assert.deepEqual(await login(j, undefined), { ok: false, reason: 'not_authorized' })
    } finally { await j.close() }
    j = await startJunction({ dataDir, mqttAllowAnonymous: true })
    try {
      assert.equal((await j.api('GET', '/api/v1/deployments/default')).body.mqtt.allowAnonymous, true)
      assert.deepEqual(await login(j, undefined), { ok: true, anonymous: true, superuser: false })
    } finally { await j.close() }
    j = await startJunction({ dataDir, mqttAllowAnonymous: undefined })
    try {
      assert.equal((await j.api('GET', '/api/v1/deployments/default')).body.mqtt.allowAnonymous, true, 'kept')
    } finally { await j.close() }
  })
})

async function restartKeepsAccess(overrides: Partial<Settings>): Promise<{ key: string }> {
  const tls = await selfSigned()
  let j = await startJunction(overrides)
  try {
    assert.equal((await j.api('POST', users, { username: 'kept', password: 'kept-password', superuser: true })).status, 201)
    const rules = [{ who: { clientid: 'c1' }, action: 'publish', topic: 'c/${clientid}', permission: 'allow' }]
    assert.equal((await j.api('PUT', acl, { rules, default: 'deny' })).status, 200)
    const p = await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { maxPacketSize: 2048, tls: { certificate: tls.cert, key: tls.key } } })
    assert.equal(p.status, 200, JSON.stringify(p.body))
  } finally {
    await j.close()
  }
  j = await startJunction({ ...overrides, dataDir: j.settings.dataDir })
  try {
    assert.deepEqual(await login(j, 'kept', 'kept-password'), { ok: true, anonymous: false, superuser: true })
    assert.equal((await j.api('GET', acl)).body.default, 'deny')
    const perms = j.junction.deployments.access('default').permissions({ clientid: 'c1', username: undefined, superuser: false })
    assert.equal(perms.canPublish('c/c1'), true, 'the ACL is back in the DeviceAccess')
    assert.equal(perms.canPublish('c/c2'), false)
    const d = (await j.api('GET', '/api/v1/deployments/default')).body
    assert.equal(d.mqtt.maxPacketSize, 2048)
    assert.equal(d.mqtt.tls.key, '******')
    assert.equal(j.junction.deployments.runtime('default').settings.tls.key, tls.key, 'the key decrypts after a restart')
    assert.equal(j.junction.deployments.runtime('default').limits.maxPacketSize, 2048)
  } finally {
    await j.close()
  }
  return { key: tls.key }
}

describe('restart keeps device users, ACL and settings', () => {
  it('on the embedded store', async () => {
    await restartKeepsAccess({ dataDir: tempDataDir() })
  })

  describe('on PostgreSQL', () => {
    const url = privateDatabase()

    it('the TLS key is sealed and passwords are scrypt hashes in the tables', async () => {
      const { key } = await restartKeepsAccess({ databaseUrl: url, secretKey: 'a passphrase for the test' })
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        const settings = JSON.parse((await c.query("SELECT mqtt_settings FROM deployments WHERE id = 'default'")).rows[0].mqtt_settings)
        assert.match(settings.tls.key, /^enc:v1:/)
        assert.ok(!JSON.stringify(settings).includes(key.split('\n')[1]!))
        assert.equal(settings.maxPacketSize, 2048)
        const user = (await c.query('SELECT password_hash, superuser FROM mqtt_users')).rows[0]
        assert.match(user.password_hash, /^scrypt\$/)
        assert.equal(user.superuser, 1)
        const aclRow = (await c.query('SELECT acl FROM mqtt_acls')).rows[0]
        assert.equal(JSON.parse(aclRow.acl).default, 'deny')
      } finally {
        await c.end()
      }
    })
  })
})
