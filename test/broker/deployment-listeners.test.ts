// A deployment's listeners as DeploymentRuntime opens them from its settings: the user's own
// certificate (a CA and a server certificate made with openssl), a bad one, fallback from a taken
// default port, a chosen port that is taken, disabled listeners, the self-signed certificate kept
// across restarts, and stop.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer, connect as netConnect, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DEFAULT_MQTT_SETTINGS, type MqttSettings } from '../../src/core/domain.js'
import { SELF_SIGNED_CERT_FILE } from '../../src/broker/listeners/broker-certificate.js'
import { DeploymentRuntime, type ListenerConfig, type RuntimeLogger } from '../../src/runtime/deployment-runtime.js'
import { freePort } from '../support/connector-battery.js'
import { collect, connectClient, makeCaAndServerCertificate, presentedFingerprint, urlOf } from './support.js'

function captureLogger(lines: string[] = []): RuntimeLogger & { lines: string[] } {
  const log = (level: string) => (msg: string) => { lines.push(`${level} ${msg}`) }
  const logger: RuntimeLogger & { lines: string[] } = { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger }
  return logger
}

function occupy(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}

const portOf = (s: Server) => (s.address() as { port: number }).port
const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()))
const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = netConnect({ host: '127.0.0.1', port })
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

type Settings = MqttSettings
// The devices of these tests connect without credentials.
const settings = (patch: { listeners?: Partial<MqttSettings['listeners']>; tls?: MqttSettings['tls'] } = {}): Settings => ({
  ...DEFAULT_MQTT_SETTINGS,
  allowAnonymous: true,
  listeners: { ...DEFAULT_MQTT_SETTINGS.listeners, ...patch.listeners },
  tls: patch.tls ?? DEFAULT_MQTT_SETTINGS.tls,
})
type StartSpec = ListenerConfig & { settings: Settings }
const anyPorts = (s: Settings): StartSpec => ({ host: '127.0.0.1', port: 0, explicitPort: true, settings: s })
/** The control layer's order: the settings first, then the start. */
const start = (r: DeploymentRuntime, { settings: s, ...config }: StartSpec) => {
  r.applyMqttSettings(s)
  return r.start(config)
}

describe('deployment listeners', () => {
  let ca: Awaited<ReturnType<typeof makeCaAndServerCertificate>>
  const runtimes: DeploymentRuntime[] = []
  const runtime = (dataDir = mkdtempSync(join(tmpdir(), 'junction-dep-')), logger = captureLogger()) => {
    const r = new DeploymentRuntime('d1', logger, dataDir)
    runtimes.push(r)
    return { r, logger, dataDir }
  }

  before(async () => { ca = await makeCaAndServerCertificate() })
  after(async () => { await Promise.all(runtimes.map((r) => r.stop())) })

  it("the user's certificate from the settings serves mqtts and wss, verified against its CA; nothing is generated", async () => {
    const { r, logger, dataDir } = runtime()
    await start(r, anyPorts(settings({ tls: { certificate: ca.serverCert, key: ca.serverKey } })))
    assert.equal(r.status.status, 'running', r.status.statusReason ?? '')
    const listeners = r.status.mqtt!.addresses
    assert.deepEqual(listeners.map((l) => l.transport), ['tcp', 'tls', 'ws', 'wss'])
    const tls = listeners.find((l) => l.transport === 'tls')!
    const wss = listeners.find((l) => l.transport === 'wss')!
    const sub = await connectClient(tls.urls.find((u) => u.includes('localhost'))!, ca.caCert)
    const pub = await connectClient(wss.urls[0]!, ca.caCert)
    try {
      await sub.subscribeAsync('own/#', { qos: 1 })
      const got = collect(sub, 1)
      await pub.publishAsync('own/cert', 'trusted', { qos: 1 })
      assert.deepEqual(await got, [['own/cert', 'trusted']])
    } finally {
      await Promise.all([sub.endAsync(), pub.endAsync()])
    }
    const { X509Certificate } = await import('node:crypto')
    assert.equal(await presentedFingerprint(tls.port), new X509Certificate(ca.serverCert).fingerprint256)
    assert.equal(existsSync(join(dataDir, SELF_SIGNED_CERT_FILE)), false)
    assert.ok(logger.lines.some((l) => l.includes('configured certificate') && l.includes(new X509Certificate(ca.serverCert).fingerprint256)))
    assert.ok(!logger.lines.join('\n').includes('PRIVATE KEY'), 'the key never reaches the log')
    await r.stop()
  })

  it('a key that does not belong to the certificate puts the deployment in error with the reason, and nothing listens', async () => {
    const { r } = runtime()
    const tcpPort = await freePort()
    await start(r, { host: '127.0.0.1', port: tcpPort, explicitPort: true, settings: settings({ tls: { certificate: ca.serverCert, key: ca.otherKey } }) })
    assert.equal(r.status.status, 'error')
    assert.match(r.status.statusReason!, /key does not belong to the certificate; fix mqtt\.tls\.certificate/)
    assert.equal(r.status.mqtt, null)
    assert.equal(await accepts(tcpPort), false)
  })

  it('a default port that is taken moves to the next free one; the log says which and how to choose', async () => {
    const { r, logger } = runtime()
    const taken = await occupy()
    try {
      // Unset TLS port: its default (here the taken port) with fallback.
      await start(r, {
        host: '127.0.0.1', port: await freePort(), explicitPort: false,
        settings: settings({ listeners: { ws: { enabled: false, port: null, path: '/mqtt' }, wss: { enabled: false, port: null, path: '/mqtt' } } }),
        defaultPorts: { tcp: 1883, tls: portOf(taken), ws: 8083, wss: 8084 },
      })
      assert.equal(r.status.status, 'running', r.status.statusReason ?? '')
      const tls = r.status.mqtt!.addresses.find((l) => l.transport === 'tls')!
      assert.ok(tls.port > portOf(taken))
      assert.ok(logger.lines.some((l) => l === `warn tls port ${portOf(taken)} is in use: deployment d1 listens for tls on ${tls.port} instead (set mqtt.listeners.tls.port to choose)`), logger.lines.join('\n'))
    } finally {
      await r.stop()
      await closeServer(taken)
    }
  })

  it('a chosen listener port that is taken puts the deployment in error, naming the setting; nothing stays open', async () => {
    const { r, logger } = runtime()
    const taken = await occupy()
    const tcpPort = await freePort()
    try {
      await start(r, { host: '127.0.0.1', port: tcpPort, explicitPort: true, settings: settings({ listeners: { wss: { enabled: true, port: portOf(taken), path: '/mqtt' } } }) })
      assert.equal(r.status.status, 'error')
      assert.equal(r.status.statusReason, `MQTT over secure WebSocket port ${portOf(taken)} is already in use; free it or choose another mqtt.listeners.wss.port`)
      assert.ok(logger.lines.some((l) => l.startsWith('error deployment d1 could not start')))
      assert.equal(await accepts(tcpPort), false)
    } finally {
      await closeServer(taken)
    }
  })

  it('a disabled listener does not listen, even on its chosen port', async () => {
    const { r } = runtime()
    const wsPort = await freePort()
    await start(r, anyPorts(settings({ listeners: { ws: { enabled: false, port: wsPort, path: '/mqtt' }, tls: { enabled: false, port: null } } })))
    assert.deepEqual(r.status.mqtt!.addresses.map((l) => l.transport), ['tcp', 'wss'])
    assert.equal(await accepts(wsPort), false)
    await assert.rejects(connectClient(urlOf('ws', '127.0.0.1', wsPort), undefined, { connectTimeout: 2000 }))
    await r.stop()
  })

  it('with only plain TCP, no certificate is made', async () => {
    const { r, dataDir, logger } = runtime()
    const off = { enabled: false, port: null }
    await start(r, anyPorts(settings({ listeners: { tls: off, ws: { ...off, path: '/mqtt' }, wss: { ...off, path: '/mqtt' } } })))
    assert.deepEqual(r.status.mqtt!.addresses.map((l) => l.transport), ['tcp'])
    assert.equal(existsSync(join(dataDir, SELF_SIGNED_CERT_FILE)), false)
    assert.ok(!logger.lines.some((l) => l.includes('certificate')))
    await r.stop()
  })

  it('the self-signed certificate is generated once and presented again after a restart (same fingerprint), said in one log line each start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-restart-'))
    const first = runtime(dataDir)
    await start(first.r, anyPorts(settings()))
    const tlsPort1 = first.r.status.mqtt!.addresses.find((l) => l.transport === 'tls')!.port
    const fp1 = await presentedFingerprint(tlsPort1)
    await first.r.stop()
    const certLines1 = first.logger.lines.filter((l) => l.includes('self-signed certificate'))
    assert.equal(certLines1.length, 1)
    assert.ok(certLines1[0]!.includes('generated now') && certLines1[0]!.includes(fp1) && certLines1[0]!.includes(join(dataDir, SELF_SIGNED_CERT_FILE)), certLines1[0])

    const second = runtime(dataDir) // a new process would build a new runtime on the same data dir
    await start(second.r, anyPorts(settings()))
    const fp2 = await presentedFingerprint(second.r.status.mqtt!.addresses.find((l) => l.transport === 'wss')!.port)
    assert.equal(fp2, fp1)
    const certLines2 = second.logger.lines.filter((l) => l.includes('self-signed certificate'))
    assert.equal(certLines2.length, 1)
    assert.ok(certLines2[0]!.includes('generated earlier') && certLines2[0]!.includes(fp1), certLines2[0])
    await second.r.stop()
  })

  it('stop closes every listener; the view has no addresses', async () => {
    const { r } = runtime()
    await start(r, anyPorts(settings()))
    const ports = r.status.mqtt!.addresses.map((l) => l.port)
    assert.equal(r.status.mqtt!.port, ports[0])
    for (const p of ports) assert.equal(await accepts(p), true)
    await r.stop()
    assert.equal(r.status.mqtt, null)
    for (const p of ports) assert.equal(await accepts(p), false)
  })
})
