// Outages of the resource behind a rule action, mid-stream: the action holds what it cannot
// deliver (not_connected -> wait for the connector; retryable -> retry within the request TTL)
// and delivers every message once the resource is back. Delivery is at-least-once, so the
// resources are checked for every distinct message (duplicates are reported, not asserted),
// while the action's metrics must count each message exactly once.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import mqtt, { type MqttClient } from 'mqtt'
import { startPrivateKafka, type PrivateKafka } from '../support/kafka.js'
import { startPrivateMosquitto, type PrivateMosquitto } from '../support/mosquitto.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

const actionOf = async (j: TestJunction, ruleId: string) => (await j.api('GET', `${rules}/${ruleId}`)).body.metrics.actions[0]
const settled = (a: any) => a.success + a.failed + a.dropped

describe('outage: Kafka broker stopped mid-stream', () => {
  let j: TestJunction
  let broker: PrivateKafka

  before(async () => {
    ;[j, broker] = await Promise.all([startJunction(), startPrivateKafka()])
  })
  after(async () => {
    await j?.close()
    await broker?.destroy()
  })

  it('every message reaches the topic after the broker comes back; success counts each once', async () => {
    const topic = randomName('outage-kafka')
    const c = await j.api('POST', connectors, {
      name: 'kafka', type: 'kafka',
      config: { bootstrapServers: broker.bootstrap, connectTimeoutMs: 1000, requestTimeoutMs: 2000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 3000 } },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'seq', sql: 'SELECT payload.seq AS seq FROM "kseq/#"',
      actions: [{ connectorId: c.body.id, params: { topic, value: '${.}' }, options: { requestTtlMs: 120_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

    const N = 300
    const client = await device(j)
    for (let i = 0; i < 100; i++) await client.publishAsync('kseq/1', JSON.stringify({ seq: i }), { qos: 1 })
    await broker.stop()
    for (let i = 100; i < N; i++) await client.publishAsync('kseq/1', JSON.stringify({ seq: i }), { qos: 1 })
    await client.endAsync()
    const during = await actionOf(j, rule.body.id)
    assert.equal(during.matched, N)
    assert.ok(during.queuing + during.inflight > 0, `messages wait while the broker is down: ${JSON.stringify(during)}`)
    assert.equal(during.failed + during.dropped, 0, 'nothing given up while the broker is down')

    await broker.start()
    await eventually(() => actionOf(j, rule.body.id), (a) => settled(a) === N, 'all settled', 90_000)
    const a = await actionOf(j, rule.body.id)
    assert.deepEqual([a.matched, a.success, a.failed, a.dropped, a.queuing, a.inflight], [N, N, 0, 0, 0, 0], JSON.stringify(a))
    assert.ok(a.retried > 0, 'the outage made the action retry')

    // Read the whole topic back: the high watermarks say how many records it holds.
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    const stored = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
    assert.ok(stored >= N, `the topic holds at least ${N} records (holds ${stored})`)
    const consumer = kafka.consumer({ groupId: randomName('g') })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const seqs: number[] = []
    await consumer.run({ eachMessage: async ({ message }) => { seqs.push(JSON.parse(String(message.value)).seq) } })
    try {
      await eventually(async () => seqs.length, (n) => n >= stored, `${stored} records read back`, 60_000)
    } finally {
      await consumer.disconnect()
    }
    const distinct = new Set(seqs)
    assert.equal(distinct.size, N, 'every message is in the topic')
    assert.deepEqual([...distinct].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i))
    const twice = [...new Set(seqs.filter((s, i) => seqs.indexOf(s) !== i))].sort((x, y) => x - y)
    console.log(`kafka outage: ${seqs.length} records for ${N} messages (${seqs.length - N} duplicate(s), at-least-once${twice.length > 0 ? `: seq ${twice.join(',')}` : ''}); action retried ${a.retried}`)
  })
})

describe('outage: MQTT bridge target (Mosquitto) stopped mid-stream', () => {
  let j: TestJunction
  let broker: PrivateMosquitto
  let persistence: string
  let sub: MqttClient | undefined

  before(async () => {
    // Why persistence: a subscriber cannot be guaranteed to be back on the restarted broker before
    // the connector reconnects and flushes its queue (both race after the restart), and a
    // Mosquitto without persistence forgets every session. With `persistence true` Mosquitto
    // saves its sessions on SIGTERM and restores them at start, so the subscriber's persistent
    // session (clean: false, fixed client ID, QoS 1 subscription) exists again before any client
    // can connect: what the bridge publishes after the restart is queued for the subscriber
    // whether it has reconnected yet or not. The check is then exact and independent of timing.
    persistence = await mkdtemp(join(tmpdir(), 'junction-mosquitto-db-'))
    ;[j, broker] = await Promise.all([
      startJunction(),
      startPrivateMosquitto({ anonymous: true, config: ['persistence true', `persistence_location ${persistence}/`] }),
    ])
  })
  after(async () => {
    await sub?.endAsync(true).catch(() => {})
    await j?.close()
    await broker?.destroy()
    await rm(persistence, { recursive: true, force: true })
  })

  it('every message reaches the subscriber after the broker comes back; success counts each once', async () => {
    const c = await j.api('POST', connectors, {
      name: 'bridge', type: 'mqtt',
      config: { server: `127.0.0.1:${broker.port}`, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'bridge', sql: 'SELECT topic, payload FROM "m/#"',
      actions: [{ connectorId: c.body.id, params: { topic: 'out/${topic}', payload: '${payload}', qos: 1 }, options: { requestTtlMs: 120_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

    const got: Array<{ topic: string; seq: number }> = []
    let sessionResumed = false
    sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: randomName('watcher'), clean: false, protocolVersion: 4, reconnectPeriod: 200 })
    sub.on('message', (t, p) => got.push({ topic: t, seq: JSON.parse(p.toString()).seq }))
    sub.on('connect', (ack) => { if (ack.sessionPresent) sessionResumed = true })
    await sub.subscribeAsync('out/#', { qos: 1 })

    const N = 150
    const client = await device(j)
    for (let i = 0; i < 50; i++) await client.publishAsync(`m/${i % 5}`, JSON.stringify({ seq: i }), { qos: 1 })
    // The first 50 are with the subscriber before the outage, so none is left for the saved session.
    await eventually(async () => new Set(got.map((g) => g.seq)).size, (n) => n === 50, 'first 50 bridged')
    await eventually(() => actionOf(j, rule.body.id), (a) => a.success === 50, 'first 50 acknowledged')
    await broker.stop()
    for (let i = 50; i < N; i++) await client.publishAsync(`m/${i % 5}`, JSON.stringify({ seq: i }), { qos: 1 })
    await client.endAsync()
    const during = await actionOf(j, rule.body.id)
    assert.equal(during.matched, N)
    assert.ok(during.queuing + during.inflight > 0, `messages wait while the broker is down: ${JSON.stringify(during)}`)
    assert.equal(during.success, 50, 'nothing is delivered while the broker is down')

    await broker.start()
    await eventually(() => actionOf(j, rule.body.id), (a) => settled(a) === N, 'all settled', 60_000)
    const a = await actionOf(j, rule.body.id)
    assert.deepEqual([a.matched, a.success, a.failed, a.dropped, a.queuing, a.inflight], [N, N, 0, 0, 0, 0], JSON.stringify(a))

    await eventually(async () => new Set(got.map((g) => g.seq)).size, (n) => n === N, `${N} distinct messages at the subscriber`, 30_000)
    assert.ok(sessionResumed, 'the subscriber got its saved session back after the restart')
    assert.ok(got.every((g) => g.topic === `out/m/${g.seq % 5}`), 'topic templated from the source topic')
    assert.deepEqual([...new Set(got.map((g) => g.seq))].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i))
    const seqs = got.map((g) => g.seq)
    const twice = [...new Set(seqs.filter((s, i) => seqs.indexOf(s) !== i))].sort((x, y) => x - y)
    console.log(`mqtt bridge outage: ${got.length} messages received for ${N} (${got.length - N} duplicate(s), at-least-once${twice.length > 0 ? `: seq ${twice.join(',')}` : ''}); action retried ${a.retried}`)
  })
})
