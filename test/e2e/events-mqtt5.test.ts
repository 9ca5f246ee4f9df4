// The events only a real MQTT 5 broker can raise, fired by real clients: delivery_dropped with
// each of EMQX's reasons (no_local, expired, queue_full), and client_connack /
// client_check_authn_complete with the reason a refused client was given.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const dep = '/api/v1/deployments/default'
const USER = { username: 'ev5', password: 'ev5-password' }

describe('MQTT 5 events fired by real clients', () => {
  let j: TestJunction
  let url: string
  const clients: MqttClient[] = []
  const seen: Array<Record<string, unknown>> = []
  const connect = async (clientId: string, opts: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 0, ...USER, ...opts })
    clients.push(c)
    return c
  }
  const events = (pred: (e: Record<string, unknown>) => boolean, what: string) => eventually(async () => seen.filter(pred), (l) => l.length > 0, what, 15_000)

  before(async () => {
    j = await startJunction({ mqttAllowAnonymous: false })
    url = `mqtt://127.0.0.1:${(await j.api('GET', dep)).body.mqtt.port}`
    assert.equal((await j.api('POST', `${dep}/mqtt/users`, USER)).status, 201)
    assert.equal((await j.api('PATCH', dep, { mqtt: { maxQueuedMessages: 3 } })).status, 200)
    const sources: Record<string, string> = {
      dropped: `SELECT 'dropped' AS kind, reason, clientid, from_clientid, topic, payload FROM "$events/delivery_dropped"`,
      connack: `SELECT 'connack' AS kind, clientid, reason_code FROM "$events/client_connack" WHERE clientid <> 'observer'`,
      authn: `SELECT 'authn' AS kind, clientid, reason_code, is_anonymous FROM "$events/client_check_authn_complete" WHERE clientid <> 'observer'`,
    }
    for (const [name, sql] of Object.entries(sources)) {
      const r = await j.api('POST', `${dep}/rules`, { name: `ev5-${name}`, sql, actions: [{ builtin: 'republish', params: { topic: `ev5-out/${name}`, payload: '${.}', qos: 1 } }] })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const observer = await connect('observer')
    observer.on('message', (_t, payload) => seen.push(JSON.parse(payload.toString())))
    await observer.subscribeAsync('ev5-out/#', { qos: 1 })
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await j?.close()
  })

  it('delivery_dropped no_local: a No Local subscription does not get its own message back', async () => {
    const c = await connect('ev5-nl')
    const got: string[] = []
    c.on('message', (t) => got.push(t))
    await c.subscribeAsync('nl/t', { qos: 1, nl: true })
    await c.publishAsync('nl/t', 'mine', { qos: 1 })
    const [e] = await events((e) => e.kind === 'dropped' && e.reason === 'no_local', 'no_local')
    assert.deepEqual(e, { kind: 'dropped', reason: 'no_local', clientid: 'ev5-nl', from_clientid: 'ev5-nl', topic: 'nl/t', payload: 'mine' })
    assert.deepEqual(got, [])
  })

  it('delivery_dropped expired and queue_full: an offline session keeps at most 3 messages, expired ones are not delivered', async () => {
    const offline = await connect('ev5-off', { clean: false, properties: { sessionExpiryInterval: 300 } })
    await offline.subscribeAsync('off/#', { qos: 1 })
    await offline.endAsync()
    const pub = await connect('ev5-pub')
    await pub.publishAsync('off/short', 'short-lived', { qos: 1, properties: { messageExpiryInterval: 1 } })
    for (const n of [1, 2, 3]) await pub.publishAsync('off/kept', `kept-${n}`, { qos: 1 })
    // A fourth: the queue holds 3, so its oldest (the short-lived one) goes.
    const [full] = await events((e) => e.kind === 'dropped' && e.reason === 'queue_full', 'queue_full')
    assert.deepEqual(full, { kind: 'dropped', reason: 'queue_full', clientid: 'ev5-off', from_clientid: 'ev5-pub', topic: 'off/short', payload: 'short-lived' })

    // Again with an expiry: it waits in the queue, expires, and is dropped when the client is back.
    const again = await connect('ev5-off2', { clean: false, properties: { sessionExpiryInterval: 300 } })
    await again.subscribeAsync('off2/#', { qos: 1 })
    await again.endAsync()
    await pub.publishAsync('off2/x', 'too-late', { qos: 1, properties: { messageExpiryInterval: 1 } })
    await pub.publishAsync('off2/x', 'in-time', { qos: 1 })
    await new Promise((r) => setTimeout(r, 2100))
    const back = mqtt.connect(url, { clientId: 'ev5-off2', clean: false, protocolVersion: 5, reconnectPeriod: 0, properties: { sessionExpiryInterval: 300 }, ...USER })
    clients.push(back)
    const got: string[] = []
    back.on('message', (_t, p) => got.push(p.toString()))
    const [expired] = await events((e) => e.kind === 'dropped' && e.reason === 'expired', 'expired')
    assert.deepEqual(expired, { kind: 'dropped', reason: 'expired', clientid: 'ev5-off2', from_clientid: 'ev5-pub', topic: 'off2/x', payload: 'too-late' })
    await eventually(async () => got, (g) => g.length >= 1, 'the message in time')
    assert.deepEqual(got, ['in-time'])
  })

  it('client_connack and client_check_authn_complete carry the reason a refused client got', async () => {
    const refused = await mqtt.connectAsync(url, { clientId: 'ev5-bad', protocolVersion: 5, reconnectPeriod: 0, username: USER.username, password: 'wrong' }).then(() => false, () => true)
    assert.ok(refused)
    const anonymous = await mqtt.connectAsync(url, { clientId: 'ev5-anon', protocolVersion: 5, reconnectPeriod: 0 }).then(() => false, () => true)
    assert.ok(anonymous)
    await connect('ev5-good')
    const connacks = await eventually(async () => seen.filter((e) => e.kind === 'connack'), (l) => ['ev5-bad', 'ev5-anon', 'ev5-good'].every((id) => l.some((e) => e.clientid === id)), 'the three connacks', 15_000)
    const by = Object.fromEntries(connacks.map((e) => [e.clientid, e.reason_code]))
    assert.equal(by['ev5-bad'], 'bad_username_or_password')
    assert.equal(by['ev5-anon'], 'not_authorized')
    assert.equal(by['ev5-good'], 'success')
    const authn = Object.fromEntries(seen.filter((e) => e.kind === 'authn').map((e) => [e.clientid, [e.reason_code, e.is_anonymous]]))
    assert.deepEqual(authn['ev5-bad'], ['bad_username_or_password', false])
    assert.deepEqual(authn['ev5-anon'], ['not_authorized', true])
    assert.deepEqual(authn['ev5-good'], ['success', false])
  })
})
