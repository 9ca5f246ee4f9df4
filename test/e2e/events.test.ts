// The `$events/...` sources fire from what real MQTT clients do on the embedded broker: each rule
// below republishes its output to ev/<event>, where an observer client reads it.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const rules = '/api/v1/deployments/default/rules'

/** Rule SQL per event; the WHERE clauses keep the rules off the observer's own traffic (no loops). */
const RULES: Record<string, string> = {
  connack: `SELECT clientid, username, reason_code, keepalive, proto_ver, clean_start FROM "$events/client_connack" WHERE clientid = 'ev-dev'`,
  authn: `SELECT clientid, username, reason_code, is_anonymous, is_superuser FROM "$events/client_check_authn_complete" WHERE clientid = 'ev-dev'`,
  authz: `SELECT clientid, action, topic, result, authz_source FROM "$events/client_check_authz_complete" WHERE clientid = 'ev-dev' OR clientid = 'ev-sys'`,
  delivered: `SELECT from_clientid, from_username, clientid, username, topic, qos, payload FROM "$events/message_delivered" WHERE topic = 'ev-t/1'`,
  acked: `SELECT from_clientid, clientid, topic, qos, payload FROM "$events/message_acked" WHERE topic = 'ev-t/1'`,
  dropped: `SELECT clientid, reason, topic, payload FROM "$events/message_dropped" WHERE topic =~ 'nobody/#'`,
  ping: `SELECT clientid, keepalive FROM "$events/client/ping" WHERE clientid = 'ev-dev'`,
}

describe('event sources fired by real clients', () => {
  let j: TestJunction
  let url: string
  const clients: MqttClient[] = []
  const seen = new Map<string, Array<Record<string, unknown>>>()
  const connect = async (clientId: string, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, ...opts })
    clients.push(c)
    return c
  }

  before(async () => {
    j = await startJunction()
    url = `mqtt://127.0.0.1:${(await j.api('GET', '/api/v1/deployments/default')).body.mqtt.port}`
    for (const [name, sql] of Object.entries(RULES)) {
      const r = await j.api('POST', rules, { name: `ev-${name}`, sql, actions: [{ builtin: 'republish', params: { topic: `ev/${name}`, payload: '${.}', qos: 0 } }] })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const observer = await connect('observer')
    observer.on('message', (topic, payload) => {
      const name = topic.slice('ev/'.length)
      seen.set(name, [...(seen.get(name) ?? []), JSON.parse(payload.toString())])
    })
    await observer.subscribeAsync('ev/#', { qos: 0 })
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync()))
    await j?.close()
  })

  const events = (name: string, pred: (e: Record<string, unknown>) => boolean = () => true) =>
    eventually(async () => (seen.get(name) ?? []).filter(pred), (list) => list.length > 0, `an ${name} event`, 10_000)

  it('connack, authentication, authorization of subscribe and publish, delivery, ack, drop and ping', async () => {
    // A persistent session (aedes keeps what it sends there; clean sessions: the test after).
    const dev = await connect('ev-dev', { username: 'alice', keepalive: 1, clean: false })
    await dev.subscribeAsync('ev-t/1', { qos: 1 })
    const pub = await connect('ev-pub', { username: 'bob' })
    const received = new Promise<void>((resolve) => dev.once('message', () => resolve()))
    await pub.publishAsync('ev-t/1', '{"n":1}', { qos: 1 })
    await received
    await dev.publishAsync('nobody/here', 'lost', { qos: 1 })

    const [connack] = await events('connack')
    assert.deepEqual(connack, { clientid: 'ev-dev', username: 'alice', reason_code: 'success', keepalive: 1, proto_ver: 4, clean_start: false })
    const [authn] = await events('authn')
    assert.deepEqual(authn, { clientid: 'ev-dev', username: 'alice', reason_code: 'success', is_anonymous: true, is_superuser: false })
    const [sub] = await events('authz', (e) => e.action === 'subscribe')
    assert.deepEqual(sub, { clientid: 'ev-dev', action: 'subscribe', topic: 'ev-t/1', result: 'allow', authz_source: 'built_in_database' })
    const [publish] = await events('authz', (e) => e.action === 'publish')
    assert.equal(publish!.topic, 'nobody/here')
    const [delivered] = await events('delivered')
    assert.deepEqual(delivered, { from_clientid: 'ev-pub', from_username: 'bob', clientid: 'ev-dev', username: 'alice', topic: 'ev-t/1', qos: 1, payload: '{"n":1}' })
    const [acked] = await events('acked')
    assert.deepEqual(acked, { from_clientid: 'ev-pub', clientid: 'ev-dev', topic: 'ev-t/1', qos: 1, payload: '{"n":1}' })
    const [dropped] = await events('dropped')
    assert.deepEqual(dropped, { clientid: 'ev-dev', reason: 'no_subscribers', topic: 'nobody/here', payload: 'lost' })
    // mqtt.js pings after a keepalive (1 s) without traffic.
    const [ping] = await events('ping')
    assert.deepEqual(ping, { clientid: 'ev-dev', keepalive: 1 })
  })

  it('message_acked also for a clean session (aedes keeps no copy of what it sends there)', async () => {
    const r = await j.api('POST', rules, {
      name: 'ev-acked-clean', sql: `SELECT from_clientid, clientid, topic, qos, payload FROM "$events/message_acked" WHERE topic = 'ev-clean/1'`,
      actions: [{ builtin: 'republish', params: { topic: 'ev/acked-clean', payload: '${.}', qos: 0 } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    const sub = await connect('ev-clean-sub', { clean: true })
    await sub.subscribeAsync('ev-clean/1', { qos: 1 })
    const pub = await connect('ev-clean-pub')
    for (const n of [1, 2, 3]) await pub.publishAsync('ev-clean/1', `{"n":${n}}`, { qos: 1 })
    const acks = await eventually(async () => seen.get('acked-clean') ?? [], (l) => l.length >= 3, 'three acks', 10_000)
    assert.deepEqual(acks.map((e) => e.payload).sort(), ['{"n":1}', '{"n":2}', '{"n":3}'])
    for (const e of acks) assert.deepEqual({ ...e, payload: undefined }, { from_clientid: 'ev-clean-pub', clientid: 'ev-clean-sub', topic: 'ev-clean/1', qos: 1, payload: undefined })
    // A QoS 0 subscriber sends no acknowledgement: nothing more shows up.
    const zero = await connect('ev-clean-zero')
    await zero.subscribeAsync('ev-clean/1', { qos: 0 })
    await pub.publishAsync('ev-clean/1', '{"n":4}', { qos: 1 })
    await eventually(async () => seen.get('acked-clean') ?? [], (l) => l.some((e) => e.payload === '{"n":4}'), 'the qos 1 subscriber\'s ack', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual((seen.get('acked-clean') ?? []).filter((e) => e.payload === '{"n":4}').map((e) => e.clientid), ['ev-clean-sub'])
  })

  it('delivery_dropped (qos0_msg) for a persistent session\'s QoS 0 subscription while it is offline, and only then', async () => {
    const r = await j.api('POST', rules, {
      name: 'ev-delivery-dropped', sql: `SELECT reason, clientid, username, from_clientid, topic, qos, payload FROM "$events/delivery_dropped" WHERE clientid = 'ev-offline'`,
      actions: [{ builtin: 'republish', params: { topic: 'ev/delivery-dropped', payload: '${.}', qos: 0 } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    const dropped = () => (seen.get('delivery-dropped') ?? []).map((e) => e.payload)
    const offline = await connect('ev-offline', { clean: false, username: 'carol' })
    await offline.subscribeAsync('ev-off/q0/#', { qos: 0 })
    await offline.subscribeAsync('ev-off/q1/#', { qos: 1 })
    const pub = await connect('ev-offline-pub')
    await pub.publishAsync('ev-off/q0/a', 'online', { qos: 1 })
    await offline.endAsync()
    // The broker learns of the disconnect on the other connection: publish until it has.
    const [event] = await eventually(async () => {
      await pub.publishAsync('ev-off/q0/a', 'lost', { qos: 1 })
      return seen.get('delivery-dropped') ?? []
    }, (l) => l.length > 0, 'the drop', 10_000)
    assert.deepEqual(event, { reason: 'qos0_msg', clientid: 'ev-offline', username: 'carol', from_clientid: 'ev-offline-pub', topic: 'ev-off/q0/a', qos: 0, payload: 'lost' })
    await pub.publishAsync('ev-off/q1/a', 'kept', { qos: 1 })
    // Back online (the session resumes): its queued QoS 1 message arrives, nothing more is dropped.
    // The listener is there before CONNACK: the queued message follows it in the same write.
    const back = mqtt.connect(url, { clientId: 'ev-offline', clean: false, protocolVersion: 4, reconnectPeriod: 0 })
    clients.push(back)
    const kept = new Promise<string>((resolve) => back.once('message', (_t, payload) => resolve(payload.toString())))
    assert.equal(await kept, 'kept')
    await pub.publishAsync('ev-off/q0/b', 'online again', { qos: 1 })
    await back.endAsync()
    // A clean connect ends the session and its subscriptions: nothing is lost for it any more.
    const clean = await mqtt.connectAsync(url, { clientId: 'ev-offline', clean: true, protocolVersion: 4, reconnectPeriod: 0 })
    await clean.endAsync()
    await pub.publishAsync('ev-off/q0/c', 'no session', { qos: 1 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.ok(dropped().length > 0 && dropped().every((p) => p === 'lost'), JSON.stringify(dropped()))
  })

  it('a message with a subscriber is not dropped; one delivery event per subscriber', async () => {
    const a = await connect('ev-sub-a')
    const b = await connect('ev-sub-b')
    await a.subscribeAsync('ev-t/1', { qos: 0 })
    await b.subscribeAsync('ev-t/1', { qos: 0 })
    const pub = await connect('ev-pub-2')
    await pub.publishAsync('ev-t/1', '{"n":2}', { qos: 1 })
    const deliveries = await eventually(async () => (seen.get('delivered') ?? []).filter((e) => e.payload === '{"n":2}'), (l) => l.length >= 3, 'three deliveries', 10_000)
    // ev-dev (still subscribed from the first test), a and b.
    assert.deepEqual(deliveries.map((e) => e.clientid).sort(), ['ev-dev', 'ev-sub-a', 'ev-sub-b'])
  })

  it('message_dropped counts the subscribers of clean and of persistent sessions', async () => {
    const clean = await connect('ev-clean')
    await clean.subscribeAsync('nobody/clean/+', { qos: 0 })
    const persistent = await connect('ev-persistent', { clean: false })
    await persistent.subscribeAsync('nobody/kept/#', { qos: 1 })
    const pub = await connect('ev-pub-3')
    for (const topic of ['nobody/clean/x', 'nobody/kept/a/b', 'nobody/none']) await pub.publishAsync(topic, 'p3', { qos: 1 })
    await eventually(async () => (seen.get('dropped') ?? []).filter((e) => e.payload === 'p3'), (l) => l.length >= 1, 'the drop', 10_000)
    // Give the other two time to (wrongly) show up.
    await new Promise((r) => setTimeout(r, 300))
    assert.deepEqual((seen.get('dropped') ?? []).filter((e) => e.payload === 'p3').map((e) => e.topic), ['nobody/none'])
  })

  it('the broker\'s own messages (republish) raise no delivery events, so a rule cannot feed itself', async () => {
    const r = await j.api('POST', rules, {
      name: 'ev-loop', sql: `SELECT topic FROM "$events/message_delivered" WHERE topic =~ 'loop/#'`,
      actions: [{ builtin: 'republish', params: { topic: 'loop/out', payload: '${topic}', qos: 0 } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    const watcher = await connect('ev-loop-watcher')
    const got: string[] = []
    watcher.on('message', (topic) => got.push(topic))
    await watcher.subscribeAsync('loop/#', { qos: 0 })
    const pub = await connect('ev-loop-pub')
    await pub.publishAsync('loop/in', 'go', { qos: 1 })
    await eventually(async () => got, (g) => g.includes('loop/out'), 'the republished message', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(got.sort(), ['loop/in', 'loop/out'])
    const metrics = (await j.api('GET', `${rules}/${r.body.id}`)).body.metrics
    assert.equal(metrics.rule.matched, 1, 'only the client\'s message was delivered as an event')
  })

  it('a client\'s publish to $SYS/ is denied (the broker\'s own topics), and the decision is an authz event', async () => {
    // As EMQX's default deny_action (ignore): an MQTT 3.1.1 client's denied QoS 1 publish is
    // acknowledged (3.1.1 has no way to say no) and goes nowhere; the connection stays.
    const sys = await connect('ev-sys')
    const watcher = await connect('ev-sys-watcher')
    const got: string[] = []
    watcher.on('message', (topic) => got.push(topic))
    await watcher.subscribeAsync('$SYS/#', { qos: 0 })
    await sys.publishAsync('$SYS/fake', 'x', { qos: 1 })
    assert.ok(sys.connected)
    const [deny] = await events('authz', (e) => e.clientid === 'ev-sys')
    assert.deepEqual(got, [])
    assert.deepEqual(deny, { clientid: 'ev-sys', action: 'publish', topic: '$SYS/fake', result: 'deny', authz_source: 'default' })
  })
})
