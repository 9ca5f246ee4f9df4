import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_MQTT_SETTINGS, type MqttSettings } from '../../core/domain.js'
import { planListeners } from './listener-plan.js'

const withListeners = (listeners: Partial<MqttSettings['listeners']>): Pick<MqttSettings, 'listeners'> => ({ listeners: { ...DEFAULT_MQTT_SETTINGS.listeners, ...listeners } })

describe('planListeners', () => {
  it('by default opens TCP, TLS, WS and WSS on the well-known ports, each falling back when taken', () => {
    assert.deepEqual(planListeners({ port: 1883, explicit: false }, DEFAULT_MQTT_SETTINGS), [
      { transport: 'tcp', port: 1883, fallback: true },
      { transport: 'tls', port: 8883, fallback: true },
      { transport: 'ws', port: 8083, fallback: true, path: '/mqtt' },
      { transport: 'wss', port: 8084, fallback: true, path: '/mqtt' },
    ])
  })

  it('a chosen port never falls back; an unset one does', () => {
    const plan = planListeners({ port: 2000, explicit: true }, withListeners({ tls: { enabled: true, port: 9000 }, ws: { enabled: true, port: null, path: '/ws' } }))
    assert.deepEqual(plan.map((s) => [s.transport, s.port, s.fallback, s.path]), [
      ['tcp', 2000, false, undefined], ['tls', 9000, false, undefined], ['ws', 8083, true, '/ws'], ['wss', 8084, true, '/mqtt'],
    ])
  })

  it('disabled listeners are not opened; plain TCP always is', () => {
    const plan = planListeners({ port: 1883, explicit: false }, withListeners({ tls: { enabled: false, port: 8883 }, wss: { enabled: false, port: null, path: '/mqtt' } }))
    assert.deepEqual(plan.map((s) => s.transport), ['tcp', 'ws'])
  })

  it('TCP port 0 (any free port) makes every unset port 0 and leaves chosen ones alone', () => {
    const plan = planListeners({ port: 0, explicit: true }, withListeners({ ws: { enabled: true, port: 18099, path: '/mqtt' } }))
    assert.deepEqual(plan.map((s) => [s.transport, s.port, s.fallback]), [['tcp', 0, false], ['tls', 0, false], ['ws', 18099, false], ['wss', 0, false]])
  })

  it('a WebSocket path without its leading slash gets one', () => {
    const plan = planListeners({ port: 1883, explicit: false }, withListeners({ ws: { enabled: true, port: null, path: 'mqtt' } }))
    assert.equal(plan.find((s) => s.transport === 'ws')!.path, '/mqtt')
  })

  it('uses the defaults it is given', () => {
    const plan = planListeners({ port: 1883, explicit: false }, DEFAULT_MQTT_SETTINGS, { tcp: 1, tls: 2, ws: 3, wss: 4 })
    assert.deepEqual(plan.map((s) => s.port), [1883, 2, 3, 4])
  })
})
