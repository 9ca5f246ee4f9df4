// MQTT 5 properties set by rule actions, end to end: a device publishes to the deployment, a rule
// computes the properties, the MQTT connector publishes to the machine's Mosquitto, where a real
// MQTT 5 subscriber reads them. The same rule's republish action passes its properties to the
// embedded broker (which cannot carry them yet: MQTT 3.1.1), and its message still arrives.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt, { type IPublishPacket } from 'mqtt'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device, randomName } from './support.js'

const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

describe('MQTT 5 properties from rule actions', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })

  it('the MQTT connector publishes the properties the templates produce; a v5 subscriber on Mosquitto receives them', async () => {
    const prefix = randomName('props')
    const c = await j.api('POST', connectors, { name: 'mosquitto-v5', type: 'mqtt', config: { server: '127.0.0.1:1883', protocolVersion: '5' } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    const rule = await j.api('POST', rules, {
      name: 'with-props',
      sql: `SELECT clientid, payload, payload.ttl AS ttl, map_put('line', payload.line, map_put('source', 'junction', json_decode('{}'))) AS user_properties FROM "p/#"`,
      actions: [
        {
          connectorId: c.body.id,
          params: {
            topic: `${prefix}/\${clientid}`, payload: '${payload}', qos: 1,
            mqtt_properties: {
              'Payload-Format-Indicator': '1', 'Message-Expiry-Interval': '${ttl}', 'Content-Type': 'application/json',
              'Response-Topic': 'cmd/${clientid}', 'Correlation-Data': 'corr-${payload.n}',
            },
          },
        },
        { builtin: 'republish', params: { topic: `${prefix}/local`, qos: 1, mqtt_properties: { 'Content-Type': 'application/json' }, user_properties: '${user_properties}' } },
      ],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

    const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, reconnectPeriod: 0, clientId: randomName('sub') })
    const remote: IPublishPacket[] = []
    sub.on('message', (_t, _p, packet) => remote.push(packet))
    await sub.subscribeAsync(`${prefix}/#`, { qos: 1 })
    const watcher = await device(j, randomName('watcher'))
    const local: string[] = []
    watcher.on('message', (t, p) => local.push(`${t} ${p.toString()}`))
    await watcher.subscribeAsync(`${prefix}/local`, { qos: 1 })

    const sensor = await device(j, 'sensor-5')
    await sensor.publishAsync('p/1', JSON.stringify({ n: 1, ttl: 90, line: 'L2' }), { qos: 1 })
    await sensor.publishAsync('p/1', JSON.stringify({ n: 2, line: 'L3' }), { qos: 1 })
    try {
      await eventually(async () => remote.length, (n) => n >= 2, 'two messages on Mosquitto')
      await eventually(async () => local.length, (n) => n >= 2, 'two republished messages')
    } finally {
      await Promise.all([sensor.endAsync(), watcher.endAsync(), sub.endAsync()])
    }

    const [first, second] = [...remote].sort((a, b) => String(a.payload).localeCompare(String(b.payload)))
    assert.equal(first!.topic, `${prefix}/sensor-5`)
    const p1 = first!.properties ?? {}
    assert.deepEqual({ ...p1.userProperties }, { source: 'junction', line: 'L2' })
    assert.equal(p1.contentType, 'application/json')
    assert.equal(p1.responseTopic, 'cmd/sensor-5')
    assert.equal(Buffer.from(p1.correlationData ?? '').toString(), 'corr-1')
    assert.equal(p1.payloadFormatIndicator, true)
    assert.ok(p1.messageExpiryInterval !== undefined && p1.messageExpiryInterval > 0 && p1.messageExpiryInterval <= 90, String(p1.messageExpiryInterval))
    // No ttl in the second payload: no expiry; the other properties as before.
    const p2 = second!.properties ?? {}
    assert.equal(p2.messageExpiryInterval, undefined)
    assert.deepEqual({ ...p2.userProperties }, { source: 'junction', line: 'L3' })
    assert.equal(Buffer.from(p2.correlationData ?? '').toString(), 'corr-2')
    assert.equal(local.length, 2)
    assert.ok(local.every((m) => m.startsWith(`${prefix}/local {`)), local.join('\n'))
  })
})
