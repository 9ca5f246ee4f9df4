// Kafka through the API, against the project's real brokers: Test (SASL wrong password, then
// right), create, live status through a broker outage, details with producer defaults, and a
// rule's topic checked on save against a broker that does not create topics.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { sharedKafka, startPrivateKafka, type PrivateKafka } from '../support/kafka.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const base = '/api/v1/deployments/default/connectors'

describe('Kafka connector through the API', () => {
  let j: TestJunction
  let broker: PrivateKafka
  const kafka = sharedKafka()

  before(async () => {
    ;[j, broker] = await Promise.all([startJunction(), startPrivateKafka({ autoCreateTopics: false })])
  })
  after(async () => {
    await j?.close()
    await broker?.destroy()
  })

  it('Test: wrong SASL password -> AUTHENTICATION_FAILED at authenticate; right one -> ok through metadata', async () => {
    const config = (password: string) => ({ bootstrapServers: kafka.saslBootstrap, authentication: { mechanism: 'scram-sha-256', username: kafka.user, password } })
    const bad = await j.api('POST', `${base}/test`, { type: 'kafka', config: config('wrong-password') })
    assert.equal(bad.status, 200)
    assert.equal(bad.body.ok, false)
    assert.equal(bad.body.error.code, 'AUTHENTICATION_FAILED')
    assert.deepEqual(bad.body.steps.map((s: any) => [s.name, s.ok]).at(-1), ['authenticate', false])
    assert.ok(!JSON.stringify(bad.body).includes('wrong-password'))
    const good = await j.api('POST', `${base}/test`, { type: 'kafka', config: config(kafka.password) })
    assert.equal(good.body.ok, true, JSON.stringify(good.body))
    assert.deepEqual(good.body.steps.map((s: any) => s.name), ['resolve', 'connect', 'authenticate', 'metadata'])
  })

  it('Test: unreachable bootstrap server -> CONNECTION_REFUSED at connect', async () => {
    const r = await j.api('POST', `${base}/test`, { type: 'kafka', config: { bootstrapServers: '127.0.0.1:1' } })
    assert.equal(r.body.error.code, 'CONNECTION_REFUSED')
    assert.equal(r.body.steps.at(-1).name, 'connect')
  })

  it('a created connector follows its broker: connected -> gone -> disconnected -> back -> connected', async () => {
    const created = await j.api('POST', base, {
      name: 'events', type: 'kafka',
      config: { bootstrapServers: broker.bootstrap, connectTimeoutMs: 1000, requestTimeoutMs: 2000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 3000 } },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const url = `${base}/${created.body.id}`
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected')
    await broker.stop()
    const down = await eventually(() => j.api('GET', url), (r) => r.body.status === 'disconnected', 'disconnected', 60_000)
    assert.ok(down.body.statusCode, JSON.stringify(down.body))
    assert.ok(down.body.statusReason)
    await broker.start()
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected again', 60_000)
  })

  it('details show producer defaults and the SASL password masked', async () => {
    const created = await j.api('POST', base, {
      name: 'secured', type: 'kafka',
      config: { bootstrapServers: kafka.saslBootstrap, authentication: { mechanism: 'plain', username: kafka.user, password: kafka.password } },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const d = (await j.api('GET', `${base}/${created.body.id}`)).body
    assert.equal(d.config.authentication.password, '******')
    assert.equal(d.config.clientId, 'junction')
    assert.equal(d.config.producer.acks, 'all')
    assert.equal(d.config.tls.enable, false)
    await eventually(() => j.api('GET', `${base}/${created.body.id}`), (r) => r.body.status === 'connected', 'connected')
    assert.ok(!j.log().includes(kafka.password), 'the SASL password is not in the log')
  })

  it("a rule's fixed topic is checked on save: missing -> 400 TOPIC_NOT_FOUND on actions.0.params.topic; created -> 201; a templated topic is not checked", async () => {
    const created = await j.api('POST', base, { name: 'checked', type: 'kafka', config: { bootstrapServers: broker.bootstrap } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await eventually(() => j.api('GET', `${base}/${created.body.id}`), (r) => r.body.status === 'connected', 'connected', 60_000)
    const topic = `checked-${Date.now()}`
    const rule = (t: string) => ({ name: `to-${t.replace(/[^a-z0-9-]/gi, '')}`.slice(0, 60), sql: 'SELECT * FROM "k/#"', actions: [{ connectorId: created.body.id, params: { topic: t } }] })
    const rules = '/api/v1/deployments/default/rules'
    const missing = await j.api('POST', rules, rule(topic))
    assert.equal(missing.status, 400, JSON.stringify(missing.body))
    assert.deepEqual(missing.body.error.checks, [{ path: 'actions.0.params.topic', code: 'TOPIC_NOT_FOUND' }])
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    } finally {
      await admin.disconnect()
    }
    const saved = await j.api('POST', rules, rule(topic))
    assert.equal(saved.status, 201, JSON.stringify(saved.body))
    const templated = await j.api('POST', rules, rule('dev-${clientid}'))
    assert.equal(templated.status, 201, JSON.stringify(templated.body))
  })
})
