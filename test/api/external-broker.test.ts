// External broker mode (docs/external-broker.md) against a private Mosquitto with users and a
// persistent store: rules fed from it into PostgreSQL exactly once, wrong credentials, the broker
// restarting, messages kept for Junction while it was away, two deployments splitting one shared
// subscription, republish back to the broker, device-facing settings refused, secrets masked.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import pg from 'pg'
import { sharedPostgres } from '../support/postgres.js'
import { startPrivateMosquitto, type PrivateMosquitto } from '../support/mosquitto.js'
import { AUTH, eventually, startJunction, type TestJunction } from '../support/junction.js'

const JUNCTION_PASSWORD = 'ext-Broker-Pass-42'
const DEVICE_PASSWORD = 'device-pass-7'

describe('external broker mode', () => {
  let j: TestJunction
  let broker: PrivateMosquitto
  let db: pg.Client
  let device: MqttClient
  const table = `ext_${randomBytes(4).toString('hex')}`
  const shared = sharedPostgres()

  const externalBroker = (extra: Record<string, unknown> = {}) => ({
    mode: 'external', servers: [`127.0.0.1:${broker.port}`], username: 'junction', password: JUNCTION_PASSWORD, ...extra,
  })
  const createDeployment = async (name: string, brokerSettings: Record<string, unknown>) => {
    const r = await j.api('POST', '/api/v1/deployments', { name, broker: brokerSettings })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    return r.body.id as string
  }
  const getDeployment = async (id: string) => (await j.api('GET', `/api/v1/deployments/${id}`)).body
  /** A PostgreSQL connector and a rule from `filter` inserting (id, dep) rows, in deployment `dep`. */
  const ruleToPostgres = async (dep: string, filter: string, options: Record<string, unknown> = {}) => {
    const c = await j.api('POST', `/api/v1/deployments/${dep}/connectors`, {
      name: `pg-${dep}`, type: 'postgresql',
      config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user, resource: { healthCheckIntervalMs: 1000 } },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const r = await j.api('POST', `/api/v1/deployments/${dep}/rules`, {
      name: `to pg ${filter}`,
      sql: `SELECT payload.id AS id FROM "${filter}"`,
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (id, dep, topic) VALUES (\${id}, '${dep}', '${filter}')` }, options }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    await eventually(() => j.api('GET', `/api/v1/deployments/${dep}/connectors/${c.body.id}`), (x) => x.body.status === 'connected', 'connector connected')
    return { connectorId: c.body.id as string, ruleId: r.body.id as string }
  }
  const subscribed = (dep: string, topic: string) =>
    eventually(() => getDeployment(dep), (d) => d.broker.status === 'connected' && d.broker.subscriptions.includes(topic), `${dep} subscribed to ${topic}`)
  const publish = async (prefix: string, ids: string[]) => {
    for (const id of ids) await device.publishAsync(`${prefix}/${id}`, JSON.stringify({ id }), { qos: 1 })
  }
  const rows = async (filter: string) => (await db.query<{ id: string; dep: string }>(`SELECT id, dep FROM ${table} WHERE topic = $1`, [filter])).rows
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

  before(async () => {
    broker = await startPrivateMosquitto({ users: { junction: JUNCTION_PASSWORD, device: DEVICE_PASSWORD }, persistence: true })
    j = await startJunction({ nodeName: 'node-a' })
    db = new pg.Client({ host: shared.host, port: shared.port, user: shared.user, database: shared.database })
    await db.connect()
    await db.query(`CREATE TABLE ${table} (id text, dep text, topic text)`)
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username: 'device', password: DEVICE_PASSWORD, reconnectPeriod: 500, clientId: `device-${table}` })
  })
  after(async () => {
    await device?.endAsync()
    await j?.close()
    await db?.query(`DROP TABLE IF EXISTS ${table}`)
    await db?.end()
    await broker?.destroy()
  })

  let dep = ''

  it('attaches with the settings given, the password masked and never logged', async () => {
    dep = await createDeployment('ext-a', externalBroker())
    const d = await eventually(() => getDeployment(dep), (x) => x.broker.status === 'connected', 'connected')
    assert.equal(d.status, 'running')
    assert.deepEqual([d.broker.mode, d.broker.password, d.broker.sharedGroup, d.broker.qos, d.broker.protocolVersion], ['external', '******', 'junction', 1, 5])
    assert.equal(d.broker.clientId, `junction-node-a-${dep}`)
    assert.equal(d.broker.server, `127.0.0.1:${broker.port}`)
    assert.deepEqual([d.mqtt.host, d.mqtt.port, d.mqtt.addresses], [null, null, []], 'no listener of its own')
    assert.ok(!j.log().includes(JUNCTION_PASSWORD), 'the password is not logged')
    assert.ok(!JSON.stringify(await j.api('GET', '/api/v1/deployments')).includes(JUNCTION_PASSWORD))
  })

  it('subscribes to the FROM topics of its rules, and unsubscribes when a rule goes', async () => {
    const r = await j.api('POST', `/api/v1/deployments/${dep}/rules`, { name: 'temporary', sql: 'SELECT * FROM "tmp/+/x"', actions: [] })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    await subscribed(dep, '$share/junction/tmp/+/x')
    assert.equal((await j.api('DELETE', `/api/v1/deployments/${dep}/rules/${r.body.id}`)).status, 204)
    await eventually(() => getDeployment(dep), (d) => !d.broker.subscriptions.includes('$share/junction/tmp/+/x'), 'unsubscribed')
  })

  it('a rule to PostgreSQL receives N QoS 1 messages published to the external broker exactly once', async () => {
    await ruleToPostgres(dep, 'flow/#')
    await subscribed(dep, '$share/junction/flow/#')
    const sent = ids('flow', 300)
    await publish('flow', sent)
    const got = await eventually(() => rows('flow/#'), (r) => r.length >= sent.length, 'every row')
    await new Promise((r) => setTimeout(r, 300))
    const final = await rows('flow/#')
    assert.equal(final.length, sent.length, 'no duplicates')
    assert.deepEqual(new Set(final.map((r) => r.id)), new Set(sent))
    assert.ok(got.every((r) => r.dep === dep))
    const metrics = await j.junction.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: AUTH } })
    assert.match(metrics.body, new RegExp(`junction_external_broker_connected\\{deployment="${dep}"\\} 1`))
    const received = Number(new RegExp(`junction_external_broker_messages_received_total\\{deployment="${dep}"\\} (\\d+)`).exec(metrics.body)?.[1])
    assert.ok(received >= sent.length, `received counted (${received})`)
  })

  it('device-facing settings are refused with EXTERNAL_BROKER_MODE and a hint', async () => {
    const user = await j.api('POST', `/api/v1/deployments/${dep}/mqtt/users`, { username: 'u1', password: 'password-1' })
    assert.equal(user.status, 409)
    assert.equal(user.body.error.code, 'EXTERNAL_BROKER_MODE')
    assert.match(user.body.error.hint, /external broker/)
    const acl = await j.api('PUT', `/api/v1/deployments/${dep}/mqtt/acl`, { rules: [], default: 'deny' })
    assert.equal(acl.body.error.code, 'EXTERNAL_BROKER_MODE')
    const port = await j.api('PATCH', `/api/v1/deployments/${dep}`, { mqttPort: 18830 })
    assert.equal(port.status, 409)
    assert.equal(port.body.error.code, 'EXTERNAL_BROKER_MODE')
    const created = await j.api('POST', '/api/v1/deployments', { name: 'ext-with-mqtt', broker: externalBroker(), mqtt: { allowAnonymous: true } })
    assert.equal(created.body.error.code, 'EXTERNAL_BROKER_MODE')
    const noServers = await j.api('POST', '/api/v1/deployments', { name: 'ext-no-servers', broker: { mode: 'external' } })
    assert.equal(noServers.status, 400)
    assert.equal(noServers.body.error.fields[0].path, 'broker.servers')
  })

  it('wrong credentials: disconnected with AUTHENTICATION_FAILED', async () => {
    const bad = await createDeployment('ext-bad', externalBroker({ password: 'wrong-password' }))
    const d = await eventually(() => getDeployment(bad), (x) => x.broker.status === 'disconnected' && x.broker.statusCode !== null, 'refused')
    assert.equal(d.broker.statusCode, 'AUTHENTICATION_FAILED', JSON.stringify(d.broker))
    assert.match(d.broker.statusReason, /junction/)
    // An edit that sends the masked password back keeps the stored (wrong) one.
    const kept = await j.api('PATCH', `/api/v1/deployments/${bad}`, { broker: { ...externalBroker(), password: '******' } })
    assert.equal(kept.status, 200, JSON.stringify(kept.body))
    await eventually(() => getDeployment(bad), (x) => x.broker.statusCode === 'AUTHENTICATION_FAILED', 'still refused')
    const fixed = await j.api('PATCH', `/api/v1/deployments/${bad}`, { broker: externalBroker() })
    assert.equal(fixed.status, 200)
    await eventually(() => getDeployment(bad), (x) => x.broker.status === 'connected', 'connected with the right password')
    assert.equal((await j.api('POST', `/api/v1/deployments/${bad}/stop`)).status, 200)
    assert.equal((await getDeployment(bad)).broker.status, 'stopped')
  })

  it('republish publishes to the external broker', async () => {
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username: 'device', password: DEVICE_PASSWORD, reconnectPeriod: 0 })
    try {
      await watcher.subscribeAsync('echo/#', { qos: 1 })
      const r = await j.api('POST', `/api/v1/deployments/${dep}/rules`, {
        name: 'echo', sql: 'SELECT payload.id AS id FROM "ask/#"', actions: [{ builtin: 'republish', params: { topic: 'echo/${id}', qos: 1, payload: '${id}' } }],
      })
      assert.equal(r.status, 201, JSON.stringify(r.body))
      await subscribed(dep, '$share/junction/ask/#')
      const got = new Promise<[string, string]>((resolve) => watcher.once('message', (t, p) => resolve([t, p.toString()])))
      await device.publishAsync('ask/1', JSON.stringify({ id: 'r1' }), { qos: 1 })
      assert.deepEqual(await got, ['echo/r1', 'r1'])
    } finally {
      await watcher.endAsync()
    }
  })

  it('broker restart: disconnected, then connected again; messages published after it arrive', async () => {
    await broker.stop()
    const down = await eventually(() => getDeployment(dep), (x) => x.broker.status !== 'connected', 'not connected')
    assert.ok(['disconnected', 'reconnecting'].includes(down.broker.status))
    await broker.start()
    await eventually(() => getDeployment(dep), (x) => x.broker.status === 'connected', 'connected again', 45_000)
    await subscribed(dep, '$share/junction/flow/#')
    await eventually(async () => device.connected, (c) => c, 'device reconnected')
    const sent = ids('after-restart', 20)
    await publish('flow', sent)
    await eventually(() => rows('flow/#'), (r) => sent.every((id) => r.some((x) => x.id === id)), 'messages after the restart')
  })

  it('QoS 1 messages published while the deployment was stopped arrive after it starts (persistent session)', async () => {
    assert.equal((await j.api('POST', `/api/v1/deployments/${dep}/stop`)).status, 200)
    const sent = ids('while-away', 50)
    await publish('flow', sent)
    assert.equal((await j.api('POST', `/api/v1/deployments/${dep}/start`)).status, 200)
    const got = await eventually(() => rows('flow/#'), (r) => sent.every((id) => r.some((x) => x.id === id)), 'the kept messages')
    await new Promise((r) => setTimeout(r, 300))
    const mine = (await rows('flow/#')).filter((r) => r.id.startsWith('while-away-'))
    assert.equal(mine.length, sent.length, `each once (${got.length} rows)`)
  })

  it('two deployments in one shared group split the messages, none duplicated', async () => {
    const other = await createDeployment('ext-b', externalBroker())
    await ruleToPostgres(other, 'flow/#')
    await subscribed(other, '$share/junction/flow/#')
    const sent = ids('split', 200)
    await publish('flow', sent)
    await eventually(() => rows('flow/#'), (r) => sent.every((id) => r.some((x) => x.id === id)), 'every split message')
    await new Promise((r) => setTimeout(r, 300))
    const mine = (await rows('flow/#')).filter((r) => r.id.startsWith('split-'))
    assert.equal(mine.length, sent.length, 'none twice')
    const byDep = new Map<string, number>()
    for (const r of mine) byDep.set(r.dep, (byDep.get(r.dep) ?? 0) + 1)
    assert.ok((byDep.get(dep) ?? 0) > 0 && (byDep.get(other) ?? 0) > 0, `both took some: ${JSON.stringify([...byDep])}`)
  })

  it('MQTT 3.1.1 with plain subscriptions: every message once', async () => {
    const v4 = await createDeployment('ext-v4', externalBroker({ protocolVersion: 4, sharedGroup: null }))
    await ruleToPostgres(v4, 'v4/#')
    await subscribed(v4, 'v4/#')
    const sent = ids('v4', 50)
    await publish('v4', sent)
    await eventually(() => rows('v4/#'), (r) => r.length >= sent.length, 'every row')
    await new Promise((r) => setTimeout(r, 300))
    const final = await rows('v4/#')
    assert.equal(final.length, sent.length, 'no duplicates')
    assert.deepEqual(new Set(final.map((r) => r.id)), new Set(sent))
  })

  it('TLS: connects with the broker\'s CA, and says TLS_FAILED without it', async () => {
    const secure = await startPrivateMosquitto({ tls: true })
    try {
      const trusted = await createDeployment('ext-tls', { mode: 'external', servers: [`127.0.0.1:${secure.port}`], tls: { enable: true, caCert: secure.certPem } })
      await eventually(() => getDeployment(trusted), (d) => d.broker.status === 'connected', 'connected over TLS')
      const untrusted = await createDeployment('ext-tls-untrusted', { mode: 'external', servers: [`mqtts://127.0.0.1:${secure.port}`] })
      const d = await eventually(() => getDeployment(untrusted), (x) => x.broker.statusCode !== null, 'refused')
      assert.equal(d.broker.statusCode, 'TLS_FAILED', JSON.stringify(d.broker))
      for (const id of [trusted, untrusted]) await j.api('POST', `/api/v1/deployments/${id}/stop`)
    } finally {
      await secure.destroy()
    }
  })

  it('back to embedded: the deployment listens again and device users are accepted', async () => {
    const id = await createDeployment('ext-then-embedded', externalBroker())
    await eventually(() => getDeployment(id), (d) => d.broker.status === 'connected', 'connected')
    const r = await j.api('PATCH', `/api/v1/deployments/${id}`, { broker: { mode: 'embedded' } })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.deepEqual(r.body.broker, { mode: 'embedded' })
    assert.equal(r.body.status, 'running')
    assert.ok(r.body.mqtt.port > 0, 'its own broker listens')
    const user = await j.api('POST', `/api/v1/deployments/${id}/mqtt/users`, { username: 'u1', password: 'password-1' })
    assert.equal(user.status, 201, JSON.stringify(user.body))
    await j.api('POST', `/api/v1/deployments/${id}/stop`)
  })

  it('export and import carry the external broker: references on this instance, encrypted to another one', async () => {
    const exported = await j.api('GET', `/api/v1/export?deployment=${dep}`)
    assert.equal(exported.status, 200, JSON.stringify(exported.body))
    const d = exported.body.deployments[0]
    assert.deepEqual([d.broker.mode, d.broker.servers, d.broker.password], ['external', [`127.0.0.1:${broker.port}`], { $secret: `broker/${dep}.password` }])
    assert.equal(d.mqtt, undefined, "an external deployment's embedded-broker settings are not exported")
    const again = await j.api('POST', '/api/v1/import/plan', exported.body)
    assert.equal(again.status, 200, JSON.stringify(again.body))
    assert.equal(again.body.items.find((i: { kind: string }) => i.kind === 'deployment').action, 'unchanged', JSON.stringify(again.body.items[0]))

    const passphrase = 'move-it-elsewhere-1'
    const sealed = await j.api('GET', `/api/v1/export?deployment=${dep}`, undefined, { 'x-junction-passphrase': passphrase })
    assert.ok(sealed.body.deployments[0].broker.password.$encrypted, 'the password travels encrypted')
    const other = await startJunction({ nodeName: 'node-b' })
    try {
      const applied = await other.api('POST', '/api/v1/import/apply', sealed.body, { 'x-junction-passphrase': passphrase })
      assert.equal(applied.status, 200, JSON.stringify(applied.body))
      const there = await eventually(() => other.api('GET', `/api/v1/deployments/${dep}`), (r) => r.body.broker?.status === 'connected', 'the imported deployment connected (the password decrypted)')
      assert.equal(there.body.broker.clientId, `junction-node-b-${dep}`)
      assert.equal(there.body.broker.password, '******')
    } finally {
      await other.close()
    }
  })
})
