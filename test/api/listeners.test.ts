// A deployment's listeners through the API: every listener with the URLs devices use, each URL
// working with a real client (the self-signed certificate from the data dir as CA), one log line
// about the certificate, and the same certificate after a restart.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { SELF_SIGNED_CERT_FILE } from '../../src/broker/listeners/broker-certificate.js'
import { startJunction, type TestJunction } from '../support/junction.js'
import { collect, connectClient, presentedFingerprint } from '../broker/support.js'

interface ListenerView { transport: string; port: number; urls: string[] }

describe('deployment listeners in the API', () => {
  let j: TestJunction

  before(async () => { j = await startJunction() })
  after(async () => { await j.close() })

  it('GET a deployment lists every listener with URLs on real addresses, and each URL works', async () => {
    const d = (await j.api('GET', '/api/v1/deployments/default')).body
    assert.equal(d.status, 'running')
    const listeners = d.mqtt.addresses as ListenerView[]
    assert.deepEqual(listeners.map((l) => l.transport), ['tcp', 'tls', 'ws', 'wss'])
    assert.equal(d.mqtt.port, listeners[0]!.port, 'mqtt.port stays the plain TCP port')
    assert.equal(d.mqtt.host, '127.0.0.1')
    const tcp = listeners[0]!
    assert.deepEqual(tcp.urls, [`mqtt://127.0.0.1:${tcp.port}`, `mqtt://localhost:${tcp.port}`])
    assert.deepEqual(listeners.find((l) => l.transport === 'ws')!.urls.map((u) => new URL(u).pathname), ['/mqtt', '/mqtt'])

    const ca = readFileSync(join(j.settings.dataDir, SELF_SIGNED_CERT_FILE), 'utf8')
    const clients = await Promise.all(listeners.flatMap((l) => l.urls.map((u) => connectClient(u, ca))))
    try {
      const [sub, ...pubs] = clients
      await sub!.subscribeAsync('api/#', { qos: 1 })
      const got = collect(sub!, pubs.length)
      await Promise.all(pubs.map((p, i) => p.publishAsync(`api/${i}`, 'x', { qos: 1 })))
      assert.equal((await got).length, pubs.length, 'a message from every URL of every listener')
    } finally {
      await Promise.all(clients.map((c) => c.endAsync()))
    }

    const list = (await j.api('GET', '/api/v1/deployments')).body.data
    assert.deepEqual(list[0].mqtt.addresses, listeners, 'the list shows the same addresses')
  })

  it('the log says once which certificate TLS uses, with its fingerprint; a restart presents the same one', async () => {
    const d = (await j.api('GET', '/api/v1/deployments/default')).body
    const tlsPort = d.mqtt.addresses.find((l: ListenerView) => l.transport === 'tls').port
    const fingerprint = await presentedFingerprint(tlsPort)
    const lines = j.log().split('\n').filter((l) => l.includes('self-signed certificate'))
    assert.equal(lines.length, 1)
    assert.ok(lines[0]!.includes(fingerprint))

    const dataDir = j.settings.dataDir
    await j.close()
    j = await startJunction({ dataDir })
    const again = (await j.api('GET', '/api/v1/deployments/default')).body
    const wssPort = again.mqtt.addresses.find((l: ListenerView) => l.transport === 'wss').port
    assert.equal(await presentedFingerprint(wssPort), fingerprint)
    assert.match(j.log(), /self-signed certificate generated earlier/)
  })

  it('an edit of the TLS/WebSocket listeners applies at once and leaves plain TCP devices connected', async () => {
    const before = (await j.api('GET', '/api/v1/deployments/default')).body
    const device = await connectClient(`mqtt://127.0.0.1:${before.mqtt.port}`)
    try {
      const off = await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { listeners: { wss: { enabled: false }, ws: { path: '/ws' } } } })
      assert.equal(off.status, 200, JSON.stringify(off.body))
      assert.deepEqual(off.body.mqtt.addresses.map((l: ListenerView) => l.transport), ['tcp', 'tls', 'ws'])
      assert.equal(off.body.mqtt.port, before.mqtt.port, 'the TCP listener did not move')
      const ws = off.body.mqtt.addresses.find((l: ListenerView) => l.transport === 'ws')
      assert.equal(new URL(ws.urls[0]).pathname, '/ws')
      // The new WebSocket path works, and the TCP device is still connected and served.
      const viaWs = await connectClient(ws.urls[0])
      try {
        await device.subscribeAsync('edit/#', { qos: 1 })
        const got = collect(device, 1)
        await viaWs.publishAsync('edit/1', 'after the edit', { qos: 1 })
        assert.equal((await got).length, 1)
        assert.ok(device.connected)
      } finally {
        await viaWs.endAsync()
      }
      const on = await j.api('PATCH', '/api/v1/deployments/default', { mqtt: { listeners: { wss: { enabled: true }, ws: { path: '/mqtt' } } } })
      assert.deepEqual(on.body.mqtt.addresses.map((l: ListenerView) => l.transport), ['tcp', 'tls', 'ws', 'wss'])
    } finally {
      await device.endAsync()
    }
  })

  it('a stopped deployment has no listeners', async () => {
    const stopped = await j.api('POST', '/api/v1/deployments/default/stop')
    assert.deepEqual([stopped.body.mqtt.host, stopped.body.mqtt.port, stopped.body.mqtt.addresses], [null, null, []])
    const started = await j.api('POST', '/api/v1/deployments/default/start')
    assert.equal(started.body.mqtt.addresses.length, 4)
  })
})
