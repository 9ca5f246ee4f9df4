// The lifecycle state machine, driven by a scripted in-memory connector (pure logic: no resource
// is involved; the real connectors are exercised against real servers in test/).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import type { Connector, ConnectorDefinition, Health } from '../connector-api/index.js'
import { ConnectorError } from '../connector-api/index.js'
import { ManagedConnector, type ConnectorStatusView } from './managed-connector.js'

interface Script {
  /** Outcome of each start() in order; the last one repeats. */
  starts: Array<'ok' | 'refused' | 'hang'>
  healthy: boolean
  events: string[]
}

function scriptedDefinition(script: Script): ConnectorDefinition {
  let n = 0
  return {
    type: 'scripted', title: 'Scripted', summary: 'test double',
    configSchema: Type.Object({}), paramsSchema: Type.Object({}),
    create(config): Connector {
      const me = `#${++n}(${String((config as { tag?: string }).tag ?? '')})`
      return {
        async probe() { return { ok: true, latencyMs: 1, steps: [] } },
        async start(signal) {
          const outcome = script.starts.length > 1 ? script.starts.shift() : script.starts[0]
          script.events.push(`start ${me} ${outcome}`)
          if (outcome === 'refused') throw new ConnectorError('CONNECTION_REFUSED', 'refused')
          if (outcome === 'hang') await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
        },
        async stop() { script.events.push(`stop ${me}`) },
        async health(): Promise<Health> {
          return script.healthy ? { status: 'connected' } : { status: 'disconnected', code: 'CONNECTION_LOST', reason: 'gone' }
        },
      }
    },
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const config = (tag: string, healthCheckIntervalMs = 1000, startTimeoutMs = 300) => ({ tag, resource: { healthCheckIntervalMs, startTimeoutMs } })

async function until(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('ManagedConnector', () => {
  it('connects, and reports every status change', async () => {
    const script: Script = { starts: ['ok'], healthy: true, events: [] }
    const seen: string[] = []
    const m = new ManagedConnector('c-1', scriptedDefinition(script), config('a'), quiet, (_id, v: ConnectorStatusView) => seen.push(v.status))
    assert.equal(m.status.status, 'stopped')
    m.start()
    assert.equal(m.status.status, 'connecting')
    await until(() => m.status.status === 'connected', 'connected')
    assert.ok(m.status.lastConnectedAt)
    assert.ok(m.connection)
    await m.stop()
    assert.equal(m.status.status, 'stopped')
    assert.equal(m.connection, undefined)
    assert.deepEqual(seen, ['connecting', 'connected', 'stopped'])
    assert.deepEqual(script.events, ['start #1(a) ok', 'stop #1(a)'])
  })

  it('reports a failed start with its code, then retries on a fresh instance until it connects', async () => {
    const script: Script = { starts: ['refused', 'refused', 'ok'], healthy: true, events: [] }
    const m = new ManagedConnector('c-2', scriptedDefinition(script), config('b'), quiet)
    m.start()
    await until(() => m.status.status === 'disconnected', 'disconnected')
    assert.equal(m.status.statusCode, 'CONNECTION_REFUSED')
    assert.equal(m.status.statusReason, 'refused')
    await until(() => m.status.status === 'connected', 'connected after retries')
    await m.stop()
    // Each failed instance was stopped before the next attempt built a new one.
    assert.deepEqual(script.events, ['start #1(b) refused', 'stop #1(b)', 'start #2(b) refused', 'stop #2(b)', 'start #3(b) ok', 'stop #3(b)'])
  })

  it('a start that hangs past the start timeout counts as TIMEOUT', async () => {
    const script: Script = { starts: ['hang', 'ok'], healthy: true, events: [] }
    const m = new ManagedConnector('c-3', scriptedDefinition(script), config('c', 1000, 100), quiet)
    m.start()
    await until(() => m.status.status === 'disconnected', 'disconnected')
    assert.equal(m.status.statusCode, 'TIMEOUT')
    await until(() => m.status.status === 'connected', 'connected')
    await m.stop()
  })

  it('notices a lost connection at the health check and reconnects when it is back', async () => {
    const script: Script = { starts: ['ok'], healthy: true, events: [] }
    const m = new ManagedConnector('c-4', scriptedDefinition(script), config('d'), quiet)
    m.start()
    await until(() => m.status.status === 'connected', 'connected')
    script.healthy = false
    script.starts = ['refused']
    await until(() => m.status.status === 'disconnected', 'disconnected')
    assert.ok(['CONNECTION_LOST', 'CONNECTION_REFUSED'].includes(m.status.statusCode ?? ''), String(m.status.statusCode))
    script.healthy = true
    script.starts = ['ok']
    await until(() => m.status.status === 'connected', 'connected again')
    await m.stop()
  })

  it('replace starts the new connection before stopping the old one', async () => {
    const script: Script = { starts: ['ok'], healthy: true, events: [] }
    const m = new ManagedConnector('c-5', scriptedDefinition(script), config('old'), quiet)
    m.start()
    await until(() => m.status.status === 'connected', 'connected')
    const before = m.connection
    await m.replace(config('new'))
    assert.equal(m.status.status, 'connected')
    assert.notEqual(m.connection, before)
    await until(() => script.events.includes('stop #1(old)'), 'old stopped')
    assert.ok(script.events.indexOf('start #2(new) ok') < script.events.indexOf('stop #1(old)'), script.events.join(', '))
    await m.stop()
  })

  it('replace with a config that cannot connect closes the old one and keeps retrying the new one', async () => {
    const script: Script = { starts: ['ok'], healthy: true, events: [] }
    const m = new ManagedConnector('c-6', scriptedDefinition(script), config('old'), quiet)
    m.start()
    await until(() => m.status.status === 'connected', 'connected')
    script.starts = ['refused']
    await m.replace(config('bad'))
    assert.equal(m.status.status, 'disconnected')
    assert.equal(m.status.statusCode, 'CONNECTION_REFUSED')
    await until(() => script.events.includes('stop #1(old)'), 'old stopped')
    await m.stop()
    const startsAfterStop = script.events.length
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal(script.events.length, startsAfterStop, 'no attempts after stop')
  })
})
