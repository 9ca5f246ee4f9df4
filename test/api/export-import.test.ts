// Export and import with a plan, against real Junctions and a real PostgreSQL that checks its
// password (scram): a connector imported into a fresh Junction connects only if its secret arrived.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import { after, before, describe, it } from 'node:test'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const PASSWORD = 'pg-Secret-4711'
const PASSPHRASE = 'correct horse battery staple'
const dep = '/api/v1/deployments/default'

const plan = (j: TestJunction, doc: unknown, headers: Record<string, string> = {}, query = '') => j.api('POST', `/api/v1/import/plan${query}`, doc, headers)
const apply = (j: TestJunction, doc: unknown, headers: Record<string, string> = {}, query = '') => j.api('POST', `/api/v1/import/apply${query}`, doc, headers)
const actions = (p: any, kind?: string) => p.items.filter((i: any) => kind === undefined || i.kind === kind).map((i: any) => `${i.kind}:${i.name}:${i.action}`).sort()

describe('export and import', () => {
  let pg: PrivatePostgres
  let source: TestJunction
  let target: TestJunction
  let connectorId: string
  let ruleId: string

  before(async () => {
    pg = await startPrivatePostgres({ auth: 'scram', password: PASSWORD })
    await pg.sql('CREATE TABLE readings (device text, temp double precision)')
    source = await startJunction()
    target = await startJunction()
    const c = await source.api('POST', `${dep}/connectors`, {
      name: 'warehouse', type: 'postgresql', description: 'telemetry',
      config: { host: pg.host, port: pg.port, database: pg.database, username: pg.user, password: PASSWORD },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    const r = await source.api('POST', `${dep}/rules`, {
      name: 'to-warehouse', sql: 'SELECT clientid, payload.temp as temp FROM "sensors/#"',
      actions: [{ connectorId, params: { sql: 'INSERT INTO readings (device, temp) VALUES (${clientid}, ${temp})' } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
    assert.equal((await source.api('POST', `${dep}/mqtt/users`, { username: 'sensor-1', password: 'device-pw-1' })).status, 201)
    assert.equal((await source.api('PUT', `${dep}/mqtt/acl`, { rules: [{ who: 'all', action: 'publish', topic: 'sensors/#', permission: 'allow' }], default: 'deny' })).status, 200)
  })
  after(async () => {
    await source?.close()
    await target?.close()
    await pg?.stop()
  })

  it('exports as one versioned document with secrets as references, never in clear', async () => {
    const r = await source.api('GET', '/api/v1/export?deployment=default')
    assert.equal(r.status, 200)
    const text = JSON.stringify(r.body)
    assert.ok(!text.includes(PASSWORD), 'no clear password')
    assert.equal(r.body.junction, 1)
    assert.equal(r.body.deployments.length, 1)
    const d = r.body.deployments[0]
    assert.equal(d.id, 'default')
    assert.deepEqual(d.connectors[0].config.password, { $secret: `${connectorId}.password` })
    assert.equal(d.connectors[0].id, connectorId)
    assert.equal(d.rules[0].id, ruleId)
    assert.deepEqual(d.mqttUsers.map((u: any) => u.username), ['sensor-1'])
    assert.deepEqual(d.mqttUsers[0].passwordHash, { $secret: 'mqtt-user/default/sensor-1' })
    assert.equal(d.mqttAcl.default, 'deny')
    assert.ok(!source.log().includes(PASSWORD), 'no clear password in the log')
  })

  it('re-importing into the same instance is all unchanged; a changed field shows in the diff, secrets masked', async () => {
    const doc = (await source.api('GET', '/api/v1/export')).body
    const same = await plan(source, doc)
    assert.equal(same.status, 200, JSON.stringify(same.body))
    assert.equal(same.body.summary.create + same.body.summary.update + same.body.summary.delete, 0, JSON.stringify(same.body))
    const edited = structuredClone(doc)
    const c = edited.deployments.find((d: any) => d.id === 'default').connectors[0]
    c.config.poolSize = 3
    c.config.password = 'another-password'
    const p = await plan(source, edited)
    assert.equal(p.status, 200, JSON.stringify(p.body))
    const item = p.body.items.find((i: any) => i.kind === 'connector')
    assert.equal(item.action, 'update')
    assert.deepEqual(item.changes.find((x: any) => x.path === 'config.poolSize'), { path: 'config.poolSize', from: 8, to: 3 })
    assert.deepEqual(item.changes.find((x: any) => x.path === 'config.password'), { path: 'config.password', from: '******', to: '******' })
    assert.ok(!JSON.stringify(p.body).includes('another-password'))
    // The plan changed nothing.
    assert.equal((await source.api('GET', `${dep}/connectors/${connectorId}`)).body.config.poolSize, 8)
  })

  it('references do not resolve on another instance: 400 naming the path inside the document', async () => {
    const doc = (await source.api('GET', '/api/v1/export?deployment=default')).body
    const r = await plan(target, doc)
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'VALIDATION_FAILED')
    assert.ok(r.body.error.fields.some((f: any) => f.path === 'deployments.0.connectors.0.config.password'), JSON.stringify(r.body))
  })

  it('a wrong or missing passphrase is a clear 400', async () => {
    const doc = (await source.api('GET', '/api/v1/export?deployment=default', undefined, { 'x-junction-passphrase': PASSPHRASE })).body
    const wrong = await plan(target, doc, { 'x-junction-passphrase': 'not the passphrase' })
    assert.equal(wrong.status, 400)
    assert.match(wrong.body.error.message, /passphrase/)
    assert.equal(wrong.body.error.fields[0].path, 'encryption')
    const none = await plan(target, doc)
    assert.equal(none.status, 400)
    assert.match(none.body.error.message, /passphrase/)
  })

  it('passphrase-encrypted export -> fresh Junction: plan shows creates, apply keeps IDs, the connector connects, re-apply is all unchanged', async () => {
    const exported = await source.api('GET', '/api/v1/export?deployment=default', undefined, { 'x-junction-passphrase': PASSPHRASE })
    assert.equal(exported.status, 200)
    const doc = exported.body
    assert.ok(!JSON.stringify(doc).includes(PASSWORD))
    assert.equal(doc.encryption.cipher, 'aes-256-gcm')
    assert.ok(typeof doc.deployments[0].connectors[0].config.password.$encrypted === 'string')
    const h = { 'x-junction-passphrase': PASSPHRASE }

    const p = await plan(target, doc, h)
    assert.equal(p.status, 200, JSON.stringify(p.body))
    assert.deepEqual(actions(p.body), ['connector:warehouse:create', 'deployment:default:unchanged', 'mqttAcl:ACL:update', 'mqttUser:sensor-1:create', 'rule:to-warehouse:create'].sort())
    assert.deepEqual((await target.api('GET', `${dep}/connectors`)).body.data, [], 'the plan changed nothing')

    const a = await apply(target, doc, h)
    assert.equal(a.status, 200, JSON.stringify(a.body))
    const c = await target.api('GET', `${dep}/connectors/${connectorId}`)
    assert.equal(c.status, 200, 'same connector ID')
    assert.equal(c.body.config.password, '******')
    await eventually(async () => (await target.api('GET', `${dep}/connectors/${connectorId}`)).body.status, (s) => s === 'connected', 'imported connector connected (its password arrived)')
    const rule = await target.api('GET', `${dep}/rules/${ruleId}`)
    assert.equal(rule.status, 200, 'same rule ID')
    assert.equal(rule.body.actions[0].connectorId, connectorId)
    const login = await target.junction.deployments.access('default').authenticate({ clientid: 'c1', username: 'sensor-1', password: Buffer.from('device-pw-1'), peerhost: '127.0.0.1' })
    assert.equal(login.ok, true, 'device user imported with its password hash')
    assert.equal((await target.api('GET', `${dep}/mqtt/acl`)).body.default, 'deny')

    const again = await apply(target, doc, h)
    assert.equal(again.status, 200)
    assert.deepEqual(again.body.summary, { create: 0, update: 0, unchanged: again.body.items.length, delete: 0 }, JSON.stringify(again.body))
    assert.ok(!target.log().includes(PASSWORD), 'no clear password in the log')
  })

  it('YAML round trip, and prune deletes only when asked', async () => {
    const r = await target.junction.app.inject({ method: 'GET', url: '/api/v1/export?deployment=default&format=yaml', headers: { authorization: `Basic ${Buffer.from('test-key:test-secret-0123456789').toString('base64')}` } })
    assert.equal(r.statusCode, 200)
    assert.match(r.headers['content-type'] as string, /yaml/)
    assert.match(r.body, /^junction: 1/m)
    const yamlPlan = await target.junction.app.inject({
      method: 'POST', url: '/api/v1/import/plan', payload: r.body,
      headers: { authorization: `Basic ${Buffer.from('test-key:test-secret-0123456789').toString('base64')}`, 'content-type': 'application/yaml' },
    })
    assert.equal(yamlPlan.statusCode, 200, yamlPlan.body)
    assert.equal(JSON.parse(yamlPlan.body).summary.unchanged, JSON.parse(yamlPlan.body).items.length)

    const doc = (await target.api('GET', '/api/v1/export?deployment=default')).body
    doc.deployments[0].rules = []
    const kept = await plan(target, doc)
    assert.equal(kept.body.summary.delete, 0, 'without prune nothing is deleted')
    const pruned = await apply(target, doc, {}, '?prune=true')
    assert.equal(pruned.status, 200, JSON.stringify(pruned.body))
    assert.deepEqual(actions(pruned.body, 'rule'), ['rule:to-warehouse:delete'])
    assert.equal((await target.api('GET', `${dep}/rules/${ruleId}`)).status, 404)
  })

  it('needs authentication; a passphrase in the query string is refused', async () => {
    for (const [method, url] of [['GET', '/api/v1/export'], ['POST', '/api/v1/import/plan'], ['POST', '/api/v1/import/apply'], ['POST', '/api/v1/import/emqx/plan']] as const) {
      const r = await source.junction.app.inject({ method, url, ...(method === 'POST' ? { payload: { junction: 1, deployments: [] } } : {}) })
      assert.equal(r.statusCode, 401, `${method} ${url}`)
    }
    const q = await source.api('GET', '/api/v1/export?passphrase=in-the-url-is-wrong')
    assert.equal(q.status, 400)
  })

  it('document errors answer 400 with the path inside the document', async () => {
    const doc = (await source.api('GET', '/api/v1/export?deployment=default')).body
    doc.deployments[0].connectors[0].config.port = 'five'
    doc.deployments[0].rules[0].sql = 'SELEC nothing'
    const r = await plan(source, doc)
    assert.equal(r.status, 400)
    const paths = r.body.error.fields.map((f: any) => f.path)
    assert.ok(paths.includes('deployments.0.connectors.0.config.port'), JSON.stringify(paths))
    assert.ok(paths.includes('deployments.0.rules.0.sql'), JSON.stringify(paths))
    const limits = (await source.api('GET', '/api/v1/export?deployment=default')).body
    limits.deployments[0].mqtt.maxInflight = 0
    const l = await plan(source, limits)
    assert.equal(l.status, 400)
    assert.deepEqual(l.body.error.fields.map((f: any) => f.path), ['deployments.0.mqtt.maxInflight'])
    const retyped = (await source.api('GET', '/api/v1/export?deployment=default')).body
    retyped.deployments[0].connectors[0].type = 'mysql'
    const t = await plan(source, retyped)
    assert.equal(t.status, 400)
    assert.ok(t.body.error.fields.some((f: any) => f.path === 'deployments.0.connectors.0.type' && /cannot change/.test(f.message)), JSON.stringify(t.body))
    const bad = await plan(source, { junction: 2, deployments: [] })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.fields[0].path, 'junction')
  })
})

describe('import from EMQX 5', () => {
  let pg: PrivatePostgres
  let j: TestJunction
  let hocon: string

  before(async () => {
    pg = await startPrivatePostgres({ auth: 'scram', password: PASSWORD })
    await pg.sql('CREATE TABLE emqx_readings (device text, temp double precision)')
    j = await startJunction()
    hocon = readFileSync(new URL('./fixtures/emqx-cluster.hocon', import.meta.url), 'utf8')
      .replaceAll('PG_HOST', pg.host).replaceAll('PG_PORT', String(pg.port)).replaceAll('PG_PASSWORD', PASSWORD).replaceAll('PG_USER', pg.user).replaceAll('PG_DATABASE', pg.database)
  })
  after(async () => {
    await j?.close()
    await pg?.stop()
  })

  const emqx = (step: 'plan' | 'apply', body: string, type = 'text/plain') => j.junction.app.inject({
    method: 'POST', url: `/api/v1/import/emqx/${step}?deployment=default`, payload: body,
    headers: { authorization: `Basic ${Buffer.from('test-key:test-secret-0123456789').toString('base64')}`, 'content-type': type },
  }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body) }))

  it('maps a PostgreSQL connector + action + rule from cluster.hocon and lists what it cannot map, with the reason', async () => {
    const p = await emqx('plan', hocon)
    assert.equal(p.status, 200, JSON.stringify(p.body))
    assert.deepEqual(actions(p.body).filter((a: string) => !a.startsWith('deployment')), ['connector:warehouse_pg:create', 'rule:readings to postgres:create'], JSON.stringify(p.body))
    const reasons = p.body.unmapped.map((u: any) => `${u.kind} ${u.name}: ${u.reason}`)
    assert.ok(reasons.some((r: string) => r.startsWith('connector mongodb:archive_mongo: Junction has no mongodb connector')), JSON.stringify(reasons))
    assert.ok(reasons.some((r: string) => r.startsWith('action mongodb:archive_all:')), JSON.stringify(reasons))
    assert.ok(reasons.some((r: string) => r.startsWith('action console:')), JSON.stringify(reasons))
    assert.deepEqual((await j.api('GET', `${dep}/connectors`)).body.data, [], 'the plan changed nothing')
  })

  it('applies: the connector connects with the EMQX password, a message reaches PostgreSQL, importing again is unchanged', async () => {
    const a = await emqx('apply', hocon)
    assert.equal(a.status, 200, JSON.stringify(a.body))
    const list = (await j.api('GET', `${dep}/connectors`)).body.data
    assert.equal(list.length, 1)
    const c = await j.api('GET', `${dep}/connectors/${list[0].id}`)
    assert.equal(c.body.type, 'postgresql')
    assert.equal(c.body.config.poolSize, 4)
    await eventually(async () => (await j.api('GET', `${dep}/connectors/${list[0].id}`)).body.status, (s) => s === 'connected', 'EMQX connector connected')
    const rules = (await j.api('GET', `${dep}/rules`)).body.data
    assert.equal(rules.length, 1)
    assert.equal(rules[0].actions[0].params.sql, 'INSERT INTO emqx_readings (device, temp) VALUES (${clientid}, ${temp})')

    const port = (await j.api('GET', dep)).body.mqtt.port
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'emqx-dev-1', reconnectPeriod: 0 })
    await client.publishAsync('emqx/readings/1', JSON.stringify({ temp: 21.5 }), { qos: 1 })
    await client.endAsync()
    await eventually(() => pg.sql('SELECT device, temp FROM emqx_readings'), (out) => out.includes('emqx-dev-1') && out.includes('21.5'), 'row in PostgreSQL')

    const again = await emqx('apply', hocon)
    assert.equal(again.status, 200)
    assert.equal(again.body.summary.create + again.body.summary.update, 0, JSON.stringify(again.body))
  })

  it('takes the JSON form too; HOCON that does not parse is a 400 with the line', async () => {
    const json = JSON.stringify({
      connectors: { pgsql: { warehouse_pg: { server: `${pg.host}:${pg.port}`, database: pg.database, username: pg.user, password: PASSWORD, pool_size: 4, enable: true } } },
      actions: { pgsql: { insert_readings: { connector: 'warehouse_pg', parameters: { sql: 'INSERT INTO emqx_readings (device, temp) VALUES (${clientid}, ${temp})' } } } },
      rule_engine: { rules: { rule_readings: { name: 'readings to postgres', sql: 'SELECT clientid, payload.temp as temp FROM "emqx/readings/#"', actions: ['pgsql:insert_readings'], description: 'from EMQX' } } },
    })
    const p = await emqx('plan', json, 'application/json')
    assert.equal(p.status, 200, JSON.stringify(p.body))
    assert.equal(p.body.items.find((i: any) => i.kind === 'connector').action, 'unchanged')
    const bad = await emqx('plan', 'connectors {\n  pgsql {\n    x = ${oops}\n  }\n}\n')
    assert.equal(bad.status, 400)
    assert.match(bad.body.error.message, /line 3/)
  })
})

describe('import from EMQX 5: every type Junction has', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })

  it('maps kafka_producer, http, mqtt, redis, rabbitmq, mysql and republish to valid Junction objects (plan only)', async () => {
    const tree = {
      connectors: {
        kafka_producer: { k1: { bootstrap_hosts: '127.0.0.1:9092,127.0.0.2:9092', authentication: { mechanism: 'scram_sha_256', username: 'u', password: 'kp' }, enable: true } },
        http: { h1: { url: 'http://127.0.0.1:8080/api', headers: { Authorization: 'Bearer tok', 'X-Site': 'a' }, pool_size: 4 } },
        mqtt: { m1: { server: '127.0.0.1:1883', username: 'bridge', password: 'mp', proto_ver: 'v5' } },
        redis: { r1: { parameters: { redis_type: 'single', server: '127.0.0.1:6379', database: 1, password: 'rp' } } },
        rabbitmq: { q1: { server: '127.0.0.1', port: 5672, username: 'guest', password: 'guest', virtual_host: '/', pool_size: 2 } },
        mysql: { my1: { server: '127.0.0.1', database: 'test', username: 'root', pool_size: 2 } },
        influxdb: { i1: { server: '127.0.0.1:8086' } },
      },
      actions: {
        kafka_producer: { ka: { connector: 'k1', parameters: { topic: 't1', message: { key: '${clientid}', value: '${payload}' } } } },
        http: { ha: { connector: 'h1', parameters: { method: 'post', path: '/in', body: '${payload}' } } },
        mqtt: { ma: { connector: 'm1', parameters: { topic: 'out/${topic}', qos: 1, retain: false, payload: '${payload}' } } },
        redis: { ra: { connector: 'r1', parameters: { command_template: ['SET', '${clientid}', '${payload}'] } } },
        rabbitmq: { qa: { connector: 'q1', parameters: { exchange: 'ex', routing_key: 'rk', payload_template: '${payload}', delivery_mode: 'persistent' } } },
        mysql: { mya: { connector: 'my1', parameters: { sql: 'INSERT INTO t (c) VALUES (${clientid})' } } },
      },
      rule_engine: { rules: { all: { sql: 'SELECT * FROM "t/#"', actions: ['kafka_producer:ka', 'http:ha', 'mqtt:ma', 'redis:ra', 'rabbitmq:qa', 'mysql:mya', { function: 'republish', args: { topic: 'copy/${topic}', qos: 0, payload: '${payload}' } }] } } },
    }
    const r = await j.api('POST', '/api/v1/import/emqx/plan?deployment=default', tree)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.deepEqual(r.body.unmapped.map((u: any) => `${u.kind} ${u.name}: ${u.reason}`), ['connector influxdb:i1: Junction has no influxdb connector'])
    assert.equal(r.body.items.filter((i: any) => i.kind === 'connector' && i.action === 'create').length, 6)
    assert.equal(r.body.summary.create, 7)
    assert.ok(!JSON.stringify(r.body).includes('Bearer tok'), 'secrets not in the plan')
  })
})
