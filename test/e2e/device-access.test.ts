// Device authentication and authorization end to end: users and the ACL are set through the REST
// API, real MQTT 5 and 3.1.1 clients connect to the deployment's broker, and what they are told
// (reason codes) and what reaches whom is checked.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const dep = '/api/v1/deployments/default'

describe('device access on the broker (users, ACL, anonymous)', () => {
  let j: TestJunction
  let url: string
  const clients: MqttClient[] = []
  const connect = async (opts: IClientOptions) => {
    const c = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
    clients.push(c)
    return c
  }
  /** The CONNACK reason code of a refused connection attempt. */
  const refusal = async (opts: IClientOptions) => {
    const err = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000, ...opts }).then(
      (c) => { clients.push(c); return undefined },
      (e: { code?: number }) => e,
    )
    assert.ok(err, 'the connection was refused')
    return err.code
  }

  /** SUBACK's codes (mqtt.js rejects a SUBACK with any refusal in it, carrying the packet). */
  const subackCodes = (c: MqttClient, topics: string[]) => c.subscribeAsync(topics, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos as number),
    (e: { packet?: { granted: number[] } }) => e.packet!.granted,
  )

  before(async () => {
    // This file is about credentials: the default deployment refuses anonymous clients here.
    j = await startJunction({ mqttAllowAnonymous: false })
    url = `mqtt://127.0.0.1:${(await j.api('GET', dep)).body.mqtt.port}`
    for (const [username, password] of [['sensor-1', 's3cret-one'], ['sensor-2', 's3cret-two']]) {
      const r = await j.api('POST', `${dep}/mqtt/users`, { username, password })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const acl = await j.api('PUT', `${dep}/mqtt/acl`, {
      rules: [
        { who: 'all', action: 'publish', topic: 'devices/${username}/#', permission: 'allow' },
        { who: 'all', action: 'subscribe', topic: 'commands/${username}', permission: 'allow' },
        { who: { username: 'sensor-2' }, action: 'subscribe', topic: 'devices/#', permission: 'allow' },
      ],
      default: 'deny',
    })
    assert.equal(acl.status, 200, JSON.stringify(acl.body))
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await j?.close()
  })

  it('refuses anonymous clients and wrong passwords with the right reason codes (MQTT 5 and 3.1.1)', async () => {
    assert.equal(await refusal({ clientId: 'anon-5' }), 0x87, 'MQTT 5: not authorized')
    assert.equal(await refusal({ clientId: 'anon-4', protocolVersion: 4 }), 5, 'MQTT 3.1.1: not authorized')
    assert.equal(await refusal({ clientId: 'bad-5', username: 'sensor-1', password: 'wrong' }), 0x86, 'MQTT 5: bad username or password')
    assert.equal(await refusal({ clientId: 'bad-4', username: 'sensor-1', password: 'wrong', protocolVersion: 4 }), 4, 'MQTT 3.1.1: bad username or password')
    assert.equal(await refusal({ clientId: 'nobody', username: 'not-a-user', password: 'x' }), 0x86)
    const ok = await connect({ clientId: 'good', username: 'sensor-1', password: 's3cret-one' })
    assert.ok(ok.connected)
  })

  it('the ACL decides publish and subscribe, with ${username}; denials are MQTT 5 reason codes', async () => {
    const s1 = await connect({ clientId: 's1', username: 'sensor-1', password: 's3cret-one' })
    const s2 = await connect({ clientId: 's2', username: 'sensor-2', password: 's3cret-two' })
    const got: string[] = []
    s2.on('message', (topic) => got.push(topic))
    assert.deepEqual(await subackCodes(s2, ['devices/#', 'commands/sensor-2', 'commands/sensor-1']), [1, 1, 0x87], 'another device\'s command topic is refused')
    assert.deepEqual(await subackCodes(s1, ['devices/#']), [0x87], 'sensor-1 may not read every device')

    await s1.publishAsync('devices/sensor-1/temp', '21', { qos: 1 })
    // Publishing as another device: PUBACK 0x87, and nothing is delivered.
    await assert.rejects(s1.publishAsync('devices/sensor-2/temp', 'forged', { qos: 1 }), (e: { code?: number }) => e.code === 0x87)
    await eventually(async () => got, (g) => g.includes('devices/sensor-1/temp'), 'the allowed message', 10_000)
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(got, ['devices/sensor-1/temp'])
  })

  it('a new ACL applies to connected clients at their next publish', async () => {
    const s1 = await connect({ clientId: 's1-live', username: 'sensor-1', password: 's3cret-one' })
    await s1.publishAsync('devices/sensor-1/a', '1', { qos: 1 })
    const r = await j.api('PUT', `${dep}/mqtt/acl`, { rules: [{ who: 'all', action: 'publish', topic: 'devices/${username}/#', permission: 'deny' }], default: 'deny' })
    assert.equal(r.status, 200)
    await assert.rejects(s1.publishAsync('devices/sensor-1/a', '2', { qos: 1 }), (e: { code?: number }) => e.code === 0x87)
  })

  it('allowAnonymous set through the API applies to the next CONNECT without a restart', async () => {
    const before = (await j.api('GET', dep)).body.mqtt.port
    assert.equal((await j.api('PATCH', dep, { mqtt: { allowAnonymous: true } })).status, 200)
    const anon = await connect({ clientId: 'anon-now-ok' })
    assert.ok(anon.connected)
    assert.equal((await j.api('GET', dep)).body.mqtt.port, before, 'the broker did not restart')
    assert.equal((await j.api('PATCH', dep, { mqtt: { allowAnonymous: false } })).status, 200)
    assert.equal(await refusal({ clientId: 'anon-again' }), 0x87)
  })

  it('repeated failed logins are slowed down and counted', async () => {
    const timeOne = async () => {
      const t0 = performance.now()
      await refusal({ clientId: `brute-${Math.random()}`, username: 'sensor-2', password: 'guess' })
      return performance.now() - t0
    }
    const first = await timeOne()
    await timeOne()
    await timeOne()
    const fourth = await timeOne()
    // The guard waits 200 ms, doubling, after each failure: the fourth answer comes slower than the first.
    assert.ok(fourth > first, `${fourth} > ${first}`)
    const stats = (await j.api('GET', `${dep}/mqtt/login-stats`)).body
    assert.ok(stats.failed >= 4, JSON.stringify(stats))
    assert.ok(stats.failedByUsername.some((u: { username: string; failures: number }) => u.username === 'sensor-2' && u.failures >= 4), JSON.stringify(stats))
    assert.ok(!j.log().includes('guess') && !j.log().includes('s3cret'), 'no password reaches the log')
  })
})
